/**
 * Daemon level: the real daemon (`bin/podroute run --config`) against FRR ospfd 8.4 in network
 * namespaces, point-to-point, normal area, without and with MD5: adjacency Full, the prefix in
 * the leaf's kernel table as an OSPF route, `podroute status` (JSON, table, --ospf-database),
 * SIGTERM withdrawal at the leaf within 1 s, and restarts with another prefix (after a drain and
 * after a crash) leaving no trace of the old prefix at the leaf (fight-back, RFC 2328 13.4).
 * The speaker's protocol details against FRR: ospf-speaker-frr.test.ts; the broadcast case (FRR +
 * BIRD + podroute on one bridge): ospf-daemon-broadcast.test.ts.
 */
import t, { type Test } from 'tap';
import { interopGate, startFrr, waitFor } from '../../lab/fixture/index.js';
import type { OspfDatabaseEntry } from '../../src/ospf/status.js';
import {
  cliJson,
  cliText,
  frrMd5,
  frrNeighborState,
  frrOspfConfig,
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

const gate = interopGate(['ip', 'frr', 'podroute']);

async function scenario(t: Test, opts: { frrAuth?: string; auth?: Record<string, unknown> }): Promise<void> {
  const { leaf: leafNs, node: nodeNs } = await leafAndNode(t);
  const frr = await startFrr(leafNs, {
    config: frrOspfConfig(LEAF, [{ name: 'eth1', network: 'point-to-point', auth: opts.frrAuth }]),
  });
  const { node, configFor } = await startOspfDaemon(nodeNs, 'point-to-point', opts.auth);
  await withDiagnostics(
    t,
    async () => {
      // Adjacency and route.
      const o = await waitNeighborsFull(node, [LEAF]);
      await waitFor(async () => (await frrNeighborState(frr, NODE)).startsWith('Full'), {
        timeoutMs: 20_000,
        intervalMs: 200,
        what: 'FRR sees podroute Full',
      });
      const r = await waitRoute(leafNs, '198.19.1.0/24', 'ospf');
      t.equal(r.gateway, NODE, 'leaf routes the prefix via the node');

      // Status JSON: the ospf section of the status contract.
      t.equal(o.routerId, NODE);
      t.match(o.interfaces, [
        {
          name: 'eth1',
          state: 'PointToPoint',
          neighbors: [{ routerId: LEAF, address: LEAF, state: 'Full' }],
        },
      ]);
      t.same(o.announced, ['198.19.1.0/24'], 'announced in the ospf section');
      t.same(unexpectedDrops(o.dropped), [], `no unexpected drops: ${JSON.stringify(o.dropped)}`);
      // Table form, like `show ip ospf neighbor`.
      const text = await cliText(node);
      t.match(text, /Neighbor ID\s+Pri\s+State\s+Up Time\s+Address\s+Interface/, 'neighbor table header');
      t.match(
        text,
        new RegExp(
          `${LEAF.replaceAll('.', '\\.')}\\s+\\d+\\s+Full/-\\s+\\d\\d:\\d\\d:\\d\\d\\s+${LEAF}\\s+eth1`,
        ),
      );
      // --ospf-database: both router-LSAs, ours with the pod prefix as a stub link.
      const db = await cliJson<OspfDatabaseEntry[]>(node, ['--ospf-database']);
      const own = db.find((e) => e.type === 1 && e.advRouter === NODE);
      t.ok(own?.self, 'our router-LSA is listed and marked self');
      t.match(own?.detail, /p2p 198\.18\.0\.1\/198\.18\.0\.2 65535/, 'p2p link to the leaf at MaxLinkMetric');
      t.match(own?.detail, /stub 198\.19\.1\.0\/255\.255\.255\.0 10/, 'pod prefix as a stub link');
      t.ok(
        db.some((e) => e.type === 1 && e.advRouter === LEAF),
        "the leaf's router-LSA is in our LSDB",
      );
      const dbText = await cliText(node, ['--ospf-database']);
      t.match(dbText, /Area\s+Type\s+Link ID\s+ADV Router\s+Age\s+Seq#/);
      t.match(dbText, /0\.0\.0\.0\s+router\s+198\.18\.0\.2\s+198\.18\.0\.2\s+\d+\s+0x8000/);

      await shutdownAndRestarts(t, node, [{ ns: leafNs, protocol: 'ospf' }], configFor, [LEAF], {
        routeTimeoutMs: 20_000,
        staleTimeoutMs: 10_000,
        settleBeforeCrashMs: 0,
        afterCrash: async () => {
          const own2 = (await cliJson<OspfDatabaseEntry[]>(node, ['--ospf-database'])).find(
            (e) => e.self && e.type === 1,
          );
          t.ok(own2 && Number(own2.seq) > 0x80000002, `re-originated past the stale instance (${own2?.seq})`);
          t.match(own2?.detail, /stub 198\.19\.3\.0/);
          t.notMatch(own2?.detail, /198\.19\.[12]\.0/);
        },
      });
    },
    () => [node.logs().split('\n').slice(-40).join('\n'), frr.processes.map((p) => p.tail(20)).join('\n')],
  );
}

t.test('podroute daemon vs FRR ospfd, point-to-point, no authentication', { skip: gate.skip }, async (t) => {
  await scenario(t, {});
});

t.test('podroute daemon vs FRR ospfd, point-to-point, MD5', { skip: gate.skip }, async (t) => {
  await scenario(t, { frrAuth: frrMd5(3, 's3cret'), auth: { type: 'md5', keyId: 3, key: 's3cret' } });
});
