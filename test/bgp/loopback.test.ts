/**
 * Two BgpSpeakers peering over real TCP on 127.0.0.1 (ephemeral port): proves NetTransport, the
 * listener and the codecs end to end. Loopback only (network safety rule).
 */
import * as net from 'node:net';
import t from 'tap';
import { BgpSpeaker } from '../../src/bgp/speaker.js';
import { bgpPeerSchema } from '../../src/config/bgp.js';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { formatPrefix, parsePrefix } from '../../src/net/prefix.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test('two speakers peer over loopback TCP and exchange prefixes', async (t) => {
  const port = await freePort();
  const passive = new BgpSpeaker({
    asn: 65001,
    routerId: '198.18.0.2',
    peers: [
      bgpPeerSchema.parse({ address: '127.0.0.1', asn: 65000, passive: true, accept: 'all', holdTime: 9 }),
    ],
    listenPort: port,
    listenAddress: '127.0.0.1',
    clock: systemClock,
    logger: silentLogger,
  });
  const active = new BgpSpeaker({
    asn: 65000,
    routerId: '198.18.0.1',
    peers: [
      bgpPeerSchema.parse({
        address: '127.0.0.1',
        asn: 65001,
        port,
        localAddress: '127.0.0.1',
        accept: 'all',
        holdTime: 9,
      }),
    ],
    listenPort: 0,
    clock: systemClock,
    logger: silentLogger,
  });
  t.teardown(async () => {
    await Promise.all([active.stop({ drain: false }), passive.stop({ drain: false })]);
  });
  passive.setDesired([parsePrefix('198.19.1.0/24')]);
  active.setDesired([parsePrefix('198.19.200.0/24')]);
  await passive.start();
  t.equal(passive.status().listenPort, port);
  await active.start();
  await until('Established', () =>
    [active, passive].every((s) => s.status().peers[0]!.state === 'Established'),
  );
  await until('routes', () => passive.receivedRoutes().length === 1 && active.receivedRoutes().length === 1);
  t.match(passive.receivedRoutes()[0], { nextHop: '127.0.0.1', asPath: [{ asns: [65000] }] });
  t.equal(formatPrefix(passive.receivedRoutes()[0]!.prefix), '198.19.200.0/24');
  t.equal(formatPrefix(active.receivedRoutes()[0]!.prefix), '198.19.1.0/24');
  t.equal(active.status().peers[0]!.holdTime, 9);

  // A change flows as a diff.
  active.setDesired([parsePrefix('198.19.201.0/24')]);
  await until(
    'diff',
    () => passive.receivedRoutes().map((r) => formatPrefix(r.prefix))[0] === '198.19.201.0/24',
  );
  t.equal(passive.status().peers[0]!.prefixesReceived, 1);

  // Drain: the passive side sees the withdrawal and the shutdown text.
  await active.stop({ drain: true, message: 'maintenance' });
  await until('withdrawal and NOTIFICATION', () => passive.status().peers[0]!.state !== 'Established');
  t.equal(passive.receivedRoutes().length, 0);
  t.equal(
    passive.status().peers[0]!.lastError,
    'peer sent NOTIFICATION Cease / Administrative Shutdown: "maintenance"',
  );
});

t.test('connect errors are recorded in words', async (t) => {
  const port = await freePort(); // nobody listens there
  const s = new BgpSpeaker({
    asn: 65000,
    routerId: '198.18.0.1',
    peers: [bgpPeerSchema.parse({ address: '127.0.0.1', asn: 65001, port, localAddress: '127.0.0.1' })],
    listenPort: 0,
    clock: systemClock,
    logger: silentLogger,
  });
  t.teardown(() => s.stop({ drain: false }));
  await s.start();
  await until('error', () => s.status().peers[0]!.lastError !== null);
  t.equal(s.status().peers[0]!.lastError, 'connect: ECONNREFUSED');
});
