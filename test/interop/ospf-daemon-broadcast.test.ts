/**
 * Daemon level, broadcast: the real daemon (`bin/podroute run`) plus two routers on one
 * bridge — FRR ospfd (priority 10, DR) and BIRD 2 (priority 5, BDR) — normal area, without
 * authentication and with MD5. podroute (priority 0) must be DROther, Full with DR and BDR; both
 * routers install the prefix in their kernel tables; SIGTERM withdraws it from both within 1 s;
 * restarts with another prefix leave no trace of the old one (fight-back).
 */
import t, { type Test } from 'tap';
import { interopGate, Lab, startBird, startFrr, waitFor } from '../../lab/fixture/index.js';
import {
  birdAuth,
  birdOspfConfig,
  frrMd5,
  frrOspfConfig,
  NODE,
  shutdownAndRestarts,
  startOspfDaemon,
  waitNeighborsFull,
  waitRoute,
  withDiagnostics,
} from './ospf-lab.js';

const gate = interopGate(['ip', 'frr', 'bird', 'podroute']);

const FRR = '198.18.0.1';
const BIRD = '198.18.0.3';

async function scenario(
  t: Test,
  opts: { frrAuth?: string; birdAuth: string; auth?: Record<string, unknown> },
): Promise<void> {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const frrNs = await lab.addNamespace('frr');
  const birdNs = await lab.addNamespace('bird');
  const nodeNs = await lab.addNamespace('node');
  await lab.addBridge('sw', [
    { ns: frrNs, ifname: 'eth1', addresses: [`${FRR}/24`] },
    { ns: birdNs, ifname: 'eth1', addresses: [`${BIRD}/24`] },
    { ns: nodeNs, ifname: 'eth1', addresses: [`${NODE}/24`] },
  ]);
  const frr = await startFrr(frrNs, {
    config: frrOspfConfig(FRR, [{ name: 'eth1', priority: 10, auth: opts.frrAuth }], 'leaf1'),
  });
  // FRR first, BIRD a moment later: FRR (priority 10) becomes DR, BIRD BDR.
  await waitFor(
    async () => {
      const j = await frr.vtyshJson<{ interfaces?: Record<string, { state?: string }> }>(
        'show ip ospf interface eth1 json',
      );
      return j.interfaces?.eth1?.state === 'DR';
    },
    { timeoutMs: 30_000, intervalMs: 200, what: 'FRR DR on the segment' },
  );
  const bird = await startBird(birdNs, {
    config: birdOspfConfig(BIRD, `      type broadcast; priority 5; hello 2; dead 8;\n${opts.birdAuth}`),
  });
  const { node, configFor } = await startOspfDaemon(nodeNs, 'broadcast', opts.auth);
  await withDiagnostics(
    t,
    async () => {
      const o = await waitNeighborsFull(node, [FRR, BIRD], 60_000);
      const i = o.interfaces[0]!;
      t.equal(i.state, 'DROther', 'podroute (priority 0) is DROther');
      t.equal(i.dr, FRR, 'FRR is DR');
      t.equal(i.bdr, BIRD, 'BIRD is BDR');
      t.match(
        i.neighbors
          .map((n) => ({ routerId: n.routerId, address: n.address, state: n.state }))
          .sort((a, b) => a.routerId.localeCompare(b.routerId)),
        [
          { routerId: FRR, address: FRR, state: 'Full' },
          { routerId: BIRD, address: BIRD, state: 'Full' },
        ],
      );
      const f = await waitRoute(frrNs, '198.19.1.0/24', 'ospf');
      t.equal(f.gateway, NODE, 'FRR routes the prefix via the node');
      const b = await waitRoute(birdNs, '198.19.1.0/24', 'bird');
      t.equal(b.gateway, NODE, 'BIRD routes the prefix via the node');
      // On a shared segment packets from routers whose adjacency with us is still forming are
      // dropped by timing (LS Updates below Exchange, packets before their first Hello, RFC 2328
      // 13, 8.2); what must not appear is a parameter, authentication or decoding drop.
      const unexpected = Object.keys(o.dropped).filter((k) =>
        /^(auth-|bad-|wrong-|hello-|dead-|area-|mtu-|internal-)/.test(k),
      );
      t.same(unexpected, [], `no unexpected drops: ${JSON.stringify(o.dropped)}`);
      await shutdownAndRestarts(
        t,
        node,
        [
          { ns: frrNs, protocol: 'ospf' },
          { ns: birdNs, protocol: 'bird' },
        ],
        configFor,
        [FRR, BIRD],
      );
    },
    () => [
      node.logs().split('\n').slice(-40).join('\n'),
      frr.processes.map((p) => p.tail(15)).join('\n'),
      bird.process?.tail(15) ?? '',
    ],
  );
}

t.test('broadcast: FRR DR, BIRD BDR, podroute DROther, no authentication', { skip: gate.skip }, async (t) => {
  await scenario(t, { birdAuth: '' });
});

t.test('broadcast: FRR DR, BIRD BDR, podroute DROther, MD5', { skip: gate.skip }, async (t) => {
  await scenario(t, {
    frrAuth: frrMd5(1, 's3cret'),
    birdAuth: birdAuth.md5(1, 's3cret'),
    auth: { type: 'md5', keyId: 1, key: 's3cret' },
  });
});
