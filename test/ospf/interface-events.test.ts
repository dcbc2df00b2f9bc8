/**
 * The interface state machine alone (RFC 2328 9.3), driven through its event entry point with
 * the RFC 9.2 event names; the instance is a small fake context, the link a fake socket.
 */
import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { makeArea, type OspfContext } from '../../src/ospf/context.js';
import { OspfInterface } from '../../src/ospf/interface.js';
import { Lsdb } from '../../src/ospf/lsdb.js';
import type { HelloBody } from '../../src/ospf/packet/hello.js';
import { config, FakeLink } from './harness.js';

const ME = '198.18.1.5';
const PEER = '198.18.1.9';

function setup(iface: Record<string, unknown>) {
  const clock = new ManualClock(1_000_000);
  const link = new FakeLink(clock);
  const sock = link.attach(ME, '255.255.255.0');
  const changes: string[] = [];
  const ctx: OspfContext = {
    routerId: ME,
    clock,
    logger: silentLogger,
    asLsdb: new Lsdb(clock),
    count: () => {},
    neighborChanged: (_i, rid, from, to) => changes.push(`${rid} ${from}->${to}`),
    interfaceChanged: (name) => changes.push(`${name} changed`),
  };
  const cfg = config({}, iface).interfaces[0]!;
  const i = new OspfInterface(ctx, cfg, makeArea('0.0.0.0', false, clock), sock);
  const hellos = () => link.sentBy(ME, 'hello').length;
  /** A Hello from PEER that lists us: the neighbor reaches 2-Way or ExStart. */
  const helloFromPeer = (over: Partial<HelloBody> = {}) =>
    i.receiveHello(
      {
        kind: 'hello',
        mask: '255.255.255.0',
        helloInterval: cfg.helloInterval,
        options: 0x02,
        priority: 1,
        deadInterval: cfg.deadInterval,
        dr: '0.0.0.0',
        bdr: '0.0.0.0',
        neighbors: [ME],
        ...over,
      },
      PEER,
      PEER,
    );
  return { clock, i, hellos, changes, helloFromPeer };
}

t.test('InterfaceUp: point-to-point, and a second InterfaceUp does nothing', async (t) => {
  const s = setup({ network: 'point-to-point' });
  t.equal(s.i.state, 'Down');
  s.i.event('InterfaceUp');
  t.equal(s.i.state, 'PointToPoint');
  t.equal(s.hellos(), 1, 'first Hello at once');
  s.i.event('InterfaceUp');
  t.equal(s.hellos(), 1, 'no second start');
  s.clock.advance(10_000);
  t.equal(s.hellos(), 2, 'Hello timer running');
  t.same(s.changes, ['eth1 changed']);
});

t.test('InterfaceUp on broadcast: Waiting when eligible, DROther when priority 0', async (t) => {
  const eligible = setup({ network: 'broadcast', priority: 1 });
  eligible.i.event('InterfaceUp');
  t.equal(eligible.i.state, 'Waiting');
  const ineligible = setup({ network: 'broadcast', priority: 0 });
  ineligible.i.event('InterfaceUp');
  t.equal(ineligible.i.state, 'DROther', 'priority 0 never waits');
  ineligible.clock.advance(41_000);
  t.equal(ineligible.i.state, 'DROther', 'no wait timer');
});

t.test('WaitTimer ends Waiting after RouterDeadInterval; out of Waiting it is ignored', async (t) => {
  const s = setup({ network: 'broadcast', priority: 1 });
  s.i.event('InterfaceUp');
  s.i.event('NeighborChange');
  t.equal(s.i.state, 'Waiting', 'NeighborChange does not elect while Waiting');
  s.clock.advance(39_999);
  t.equal(s.i.state, 'Waiting');
  s.clock.advance(1);
  t.equal(s.i.state, 'DR', 'alone: DR');
  t.equal(s.i.dr, ME);
  s.i.event('WaitTimer');
  s.i.event('BackupSeen');
  t.equal(s.i.state, 'DR', 'neither event applies outside Waiting');
});

t.test('BackupSeen ends Waiting at once and cancels the wait timer', async (t) => {
  const s = setup({ network: 'broadcast', priority: 1 });
  s.i.event('InterfaceUp');
  s.i.event('BackupSeen');
  t.equal(s.i.state, 'DR');
  const changes = s.changes.length;
  s.clock.advance(41_000);
  t.equal(s.changes.length, changes, 'no second election from a stale wait timer');
});

t.test('BackupSeen from a Hello declaring itself DR', async (t) => {
  const s = setup({ network: 'broadcast', priority: 1 });
  s.i.event('InterfaceUp');
  s.helloFromPeer({ dr: PEER });
  t.equal(s.i.state, 'Backup', 'the DR is kept, we are BDR');
  t.equal(s.i.dr, PEER);
  t.equal(s.i.bdr, ME);
});

t.test('NeighborChange re-elects once out of Waiting', async (t) => {
  const s = setup({ network: 'broadcast', priority: 1 });
  s.i.event('InterfaceUp');
  s.clock.advance(40_000);
  t.equal(s.i.state, 'DR');
  t.equal(s.i.bdr, '0.0.0.0');
  // The peer reaches 2-Way (bidirectional: NeighborChange) and becomes BDR.
  s.helloFromPeer({ dr: ME });
  t.equal(s.i.bdr, PEER);
});

t.test('InterfaceDown kills every neighbor, stops the timers and resets DR/BDR', async (t) => {
  const s = setup({ network: 'broadcast', priority: 1 });
  s.i.event('InterfaceUp');
  s.clock.advance(40_000);
  s.helloFromPeer({ dr: ME });
  t.equal(s.i.neighbors.size, 1);
  s.i.event('InterfaceDown');
  t.equal(s.i.state, 'Down');
  t.equal(s.i.neighbors.size, 0, 'KillNbr: neighbor gone');
  t.equal(s.changes.filter((c) => c.startsWith(PEER)).at(-1), `${PEER} ExStart->Down`, 'neighbor went Down');
  t.equal(s.i.dr, '0.0.0.0');
  t.equal(s.i.bdr, '0.0.0.0');
  const hellos = s.hellos();
  s.clock.advance(60_000);
  t.equal(s.hellos(), hellos, 'no Hellos while Down');
  s.i.event('InterfaceUp');
  t.equal(s.i.state, 'Waiting', 'comes up again');
});

t.test('LoopInd: Loopback, neighbors gone, silent; UnloopInd: Down; then InterfaceUp', async (t) => {
  const s = setup({ network: 'point-to-point' });
  s.i.event('UnloopInd');
  t.equal(s.i.state, 'Down', 'UnloopInd only leaves Loopback');
  s.i.event('InterfaceUp');
  s.helloFromPeer();
  t.equal(s.i.neighbors.get(PEER)?.state, 'ExStart');
  s.i.event('LoopInd');
  t.equal(s.i.state, 'Loopback');
  t.equal(s.i.neighbors.size, 0);
  const hellos = s.hellos();
  s.clock.advance(60_000);
  t.equal(s.hellos(), hellos, 'no Hellos in Loopback');
  s.i.event('InterfaceUp');
  t.equal(s.i.state, 'Loopback', 'InterfaceUp does not apply in Loopback');
  s.i.event('UnloopInd');
  t.equal(s.i.state, 'Down');
  s.i.event('InterfaceUp');
  t.equal(s.i.state, 'PointToPoint');
  await s.i.close();
});
