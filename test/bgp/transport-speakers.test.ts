/**
 * Two BgpSpeakers over real TCP on 127.0.0.1 (loopback only) with the peer's TCP MD5 password
 * (RFC 2385) and GTSM (RFC 5082) from the configuration: the speaker hands them to NetTransport,
 * so matching settings come up, and a wrong password never does while status says why.
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

async function until(what: string, cond: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function pair(port: number, passivePeer: Record<string, unknown>, activePeer: Record<string, unknown>) {
  const passive = new BgpSpeaker({
    asn: 65001,
    routerId: '198.18.0.2',
    peers: [
      bgpPeerSchema.parse({ address: '127.0.0.1', asn: 65000, passive: true, accept: 'all', ...passivePeer }),
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
        connectRetryTime: 1,
        ...activePeer,
      }),
    ],
    listenPort: 0,
    clock: systemClock,
    logger: silentLogger,
  });
  return { passive, active };
}

t.test('matching MD5 passwords and GTSM: Established, routes flow', async (t) => {
  const port = await freePort();
  const sec = { password: 'loop-secret', ttlSecurity: true };
  const { passive, active } = pair(port, sec, sec);
  t.teardown(async () => {
    await Promise.all([active.stop({ drain: false }), passive.stop({ drain: false })]);
  });
  active.setDesired([parsePrefix('198.19.200.0/24')]);
  await passive.start();
  await active.start();
  await until('Established', () =>
    [active, passive].every((s) => s.status().peers[0]!.state === 'Established'),
  );
  await until('route', () => passive.receivedRoutes().length === 1);
  t.equal(formatPrefix(passive.receivedRoutes()[0]!.prefix), '198.19.200.0/24');
});

t.test('a wrong MD5 password: never Established, the cause in lastError', async (t) => {
  const port = await freePort();
  const { passive, active } = pair(port, { password: 'loop-secret' }, { password: 'not-the-secret' });
  t.teardown(async () => {
    await Promise.all([active.stop({ drain: false }), passive.stop({ drain: false })]);
  });
  await passive.start();
  await active.start();
  await until('a connect timeout', () => active.status().peers[0]!.lastError !== null);
  t.not(active.status().peers[0]!.state, 'Established');
  t.not(passive.status().peers[0]!.state, 'Established');
  t.equal(
    active.status().peers[0]!.lastError,
    `connect: no answer from 127.0.0.1:${port} within 1 s — with a TCP MD5 password configured, a password mismatch is the likely cause`,
  );
  const all = JSON.stringify([active.status(), passive.status()]);
  t.notOk(all.includes('secret'), 'no password in status');
});
