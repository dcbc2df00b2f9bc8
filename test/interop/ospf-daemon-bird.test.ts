/**
 * Daemon level: the real daemon (`bin/podroute run --config`) against BIRD 2.0.12,
 * point-to-point, normal area, without authentication and with HMAC-SHA-256 (RFC 5709, which FRR
 * 8.4 lacks): Full on both sides, the prefix in BIRD's kernel table, the status JSON, SIGTERM
 * withdrawal within 1 s, restarts with another prefix after a drain and after a crash.
 * The speaker's protocol details against BIRD: ospf-speaker-bird.test.ts.
 */
import t, { type Test } from 'tap';
import { interopGate, startBird, waitFor } from '../../lab/fixture/index.js';
import {
  birdAuth,
  birdOspfConfig,
  LEAF,
  leafAndNode,
  NODE,
  shutdownAndRestarts,
  startOspfDaemon,
  unexpectedDrops,
  waitNeighborsFull,
  waitRoute,
  withDiagnostics,
} from './ospf-lab.js';

const gate = interopGate(['ip', 'bird', 'podroute']);

async function scenario(t: Test, opts: { birdAuth: string; auth?: Record<string, unknown> }): Promise<void> {
  const { leaf: leafNs, node: nodeNs } = await leafAndNode(t);
  const bird = await startBird(leafNs, {
    config: birdOspfConfig(LEAF, `      type ptp; hello 2; dead 8;\n${opts.birdAuth}`),
  });
  const { node, configFor } = await startOspfDaemon(nodeNs, 'point-to-point', opts.auth);
  await withDiagnostics(
    t,
    async () => {
      const o = await waitNeighborsFull(node, [LEAF]);
      await waitFor(
        async () => /198\.18\.0\.2\s+\d+\s+Full\/PtP/.test(await bird.birdc('show ospf neighbors')),
        { timeoutMs: 20_000, intervalMs: 200, what: 'BIRD sees podroute Full/PtP' },
      );
      t.match(o.interfaces, [
        {
          name: 'eth1',
          state: 'PointToPoint',
          neighbors: [{ routerId: LEAF, address: LEAF, state: 'Full' }],
        },
      ]);
      const r = await waitRoute(leafNs, '198.19.1.0/24', 'bird');
      t.equal(r.gateway, NODE, 'BIRD routes the prefix via the node');
      t.same(unexpectedDrops(o.dropped), [], `no unexpected drops: ${JSON.stringify(o.dropped)}`);
      await shutdownAndRestarts(t, node, [{ ns: leafNs, protocol: 'bird' }], configFor, [LEAF]);
    },
    () => [node.logs().split('\n').slice(-40).join('\n'), bird.process?.tail(30) ?? ''],
  );
}

t.test('podroute daemon vs BIRD, point-to-point, no authentication', { skip: gate.skip }, async (t) => {
  await scenario(t, { birdAuth: '' });
});

t.test('podroute daemon vs BIRD, point-to-point, HMAC-SHA-256', { skip: gate.skip }, async (t) => {
  await scenario(t, {
    birdAuth: birdAuth.hmacSha256(7, 's3cret-key'),
    auth: { type: 'hmac-sha-256', keyId: 7, key: 's3cret-key' },
  });
});
