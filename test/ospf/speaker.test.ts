import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { InterfaceNotReadyError } from '../../src/ospf/socket.js';
import { OspfSpeaker } from '../../src/ospf/speaker.js';
import { config, FakeLink, p2pPair } from './harness.js';

t.test('start failure on one interface closes the ones already opened', async (t) => {
  const clock = new ManualClock();
  const link = new FakeLink(clock);
  const first = link.attach('198.18.0.1');
  const cfg = config({ interfaces: [{ name: 'eth1' }, { name: 'eth2' }] });
  const sp = new OspfSpeaker({
    routerId: '198.18.0.1',
    config: cfg,
    clock,
    logger: silentLogger,
    socketFactory: (ifname) => {
      if (ifname === 'eth1') return first;
      throw new Error('OSPF needs a raw IP socket (protocol 89): run as root or grant CAP_NET_RAW');
    },
  });
  await t.rejects(sp.start(), /CAP_NET_RAW/);
  t.ok(first.closed, 'eth1 socket closed again');
  t.same(sp.status().interfaces, []);
});

t.test('an interface without address or carrier at start stays Down and comes up later', async (t) => {
  const clock = new ManualClock();
  const link = new FakeLink(clock);
  let ready = false;
  const sp = new OspfSpeaker({
    routerId: '198.18.0.1',
    config: config({ interfaces: [{ name: 'eth1' }] }),
    clock,
    logger: silentLogger,
    socketFactory: () => {
      if (!ready) throw new InterfaceNotReadyError('interface eth1 is down or has no IPv4 address');
      return link.attach('198.18.0.1');
    },
  });
  await sp.start();
  t.match(sp.status().interfaces, [{ name: 'eth1', state: 'Down', neighbors: [] }], 'listed Down');
  clock.advance(3_000);
  t.match(sp.status().interfaces, [{ name: 'eth1', state: 'Down' }], 'still Down while not ready');
  ready = true;
  clock.advance(1_000);
  t.match(sp.status().interfaces, [{ name: 'eth1', state: 'PointToPoint' }], 'up once the address is there');
  t.equal(sp.status().interfaces.length, 1, 'listed once');
  await sp.stop({ drain: false });
});

t.test('status and database follow the contract', async (t) => {
  const { clock, a, b } = p2pPair();
  await a.start();
  await b.start();
  clock.advance(3_000);
  const st = a.status();
  t.match(st, {
    routerId: '198.18.0.1',
    interfaces: [
      {
        name: 'eth1',
        state: 'PointToPoint',
        area: '0.0.0.0',
        neighbors: [{ routerId: '198.18.0.2', address: '198.18.0.2', state: 'Full', uptimeSeconds: 2 }],
      },
    ],
    lsdbSize: 2,
    dropped: {},
  });
  const db = a.database();
  t.equal(db.length, 2);
  const own = db.find((e) => e.self)!;
  t.match(own, { area: '0.0.0.0', type: 1, typeName: 'router', lsId: '198.18.0.1', advRouter: '198.18.0.1' });
  t.match(own.seq, /^0x8000000\d$/);
  t.match(own.checksum, /^0x[0-9a-f]{4}$/);
  await a.stop({ drain: false });
  await b.stop({ drain: false });
  // stop() is idempotent and a stopped speaker sends nothing more.
  await a.stop({ drain: true });
});
