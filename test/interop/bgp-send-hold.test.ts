/**
 * RFC 9687 send hold timer against a real TCP peer that stops reading: a scripted peer
 * (stalled-peer.ts) completes OPEN / KEEPALIVE, keeps sending KEEPALIVEs, and never reads again;
 * with small TCP buffers in both namespaces and 20,000 prefixes to send, podroute's writes stop
 * making progress. After sendHoldTime (10 s) the session goes down with Send Hold Timer Expired
 * (status lastError, counters.sendHoldExpired) while the FRR session of the same node stays
 * Established and keeps the routes.
 */
import t from 'tap';
import { frrBgpConfig, interopGate, Lab, startFrr, startPodroute, waitFor } from '../../lab/fixture/index.js';
import { addUplink, waitEstablished } from './bgp-helpers.js';

const gate = interopGate(['frr', 'podroute']);

const FRR = frrBgpConfig({
  asn: 65000,
  routerId: '198.18.0.0',
  timers: { keepalive: 3, hold: 9 },
  neighbors: [{ address: '198.18.0.1', asn: 65001 }],
});

const COUNT = 20_000;
const prefixes = Array.from({ length: COUNT }, (_, i) => `198.19.${i >> 8}.${i & 255}/32`);

t.test(
  'a peer that stops reading is torn down with Send Hold Timer Expired; FRR stays up',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const leafNs = await lab.addNamespace('leaf');
    const stallNs = await lab.addNamespace('stall');
    const nodeNs = await lab.addNamespace('node');
    await addUplink(lab, leafNs, nodeNs, 0);
    await addUplink(lab, stallNs, nodeNs, 1, 'eth2');
    // Small socket buffers (per namespace), so a few hundred kB unread fill both ends.
    for (const ns of [stallNs, nodeNs]) {
      await ns.sysctl({ 'net.ipv4.tcp_rmem': '4096 8192 16384', 'net.ipv4.tcp_wmem': '4096 8192 16384' });
    }
    const frr = await startFrr(leafNs, { config: FRR });
    const stalled = stallNs.spawn('stalled-peer', 'node', [
      '--import',
      'tsx',
      new URL('stalled-peer.ts', import.meta.url).pathname,
      '--listen',
      '198.18.0.2',
      '--asn',
      '65002',
    ]);
    const node = await startPodroute(nodeNs, {
      config: {
        node: { name: 'node1', routerId: '198.18.0.1' },
        announce: prefixes,
        bgp: {
          asn: 65001,
          peers: [
            { address: '198.18.0.0', asn: 65000, holdTime: 9, connectRetryTime: 2 },
            { address: '198.18.0.2', asn: 65002, holdTime: 9, connectRetryTime: 60, sendHoldTime: 10 },
          ],
        },
      },
    });
    await waitEstablished(node, ['198.18.0.0', '198.18.0.2'], 30_000);
    const established = performance.now();
    await frr.waitBgpEstablished('198.18.0.1');
    const peer = async (a: string) => (await node.status()).bgp?.peers.find((p) => p.address === a);
    await new Promise((r) => setTimeout(r, 5000));
    t.equal((await peer('198.18.0.2'))?.counters.sendHoldExpired, 0, 'not expired 5 s into the stall');
    const expired = await waitFor(
      async () => {
        const p = await peer('198.18.0.2');
        return p && p.counters.sendHoldExpired > 0 ? p : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 250, what: 'the send hold timer expires for the stalled peer' },
    );
    const secs = (performance.now() - established) / 1000;
    t.ok(secs < 30, `torn down ${secs.toFixed(1)} s after Established was seen (sendHoldTime 10 s)`);
    t.match(expired.lastError, /Send Hold Timer Expired/, `lastError: ${expired.lastError}`);
    t.match(expired.lastError, /read nothing we sent for 10 s/);
    t.ok(expired.counters.flaps >= 1, 'that session went down (the peer may be connected again since)');
    t.equal((await peer('198.18.0.0'))?.state, 'Established', 'the FRR session stays Established');
    t.equal(await frr.bgpState('198.18.0.1'), 'Established');
    t.match(stalled.log(), /"established"/, 'the scripted peer had its session');
    await waitFor(
      async () => {
        const sum = await frr.vtyshJson<{ peers?: Record<string, { pfxRcd?: number }> }>(
          'show bgp ipv4 unicast summary json',
        );
        return sum.peers?.['198.18.0.1']?.pfxRcd === COUNT;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: `FRR counts all ${COUNT} prefixes from podroute` },
    );
    t.pass('FRR has the whole table');
  },
);
