/**
 * The OSPF issue through the real daemon (`bin/podroute run --config`) against FRR ospfd 8.4 in
 * network namespaces, point-to-point, normal area, without and with MD5: adjacency Full, the prefix
 * in the leaf's kernel table as an OSPF route, `podroute status` (JSON, table, --ospf-database),
 * SIGTERM withdrawal at the leaf within 1 s, and restarts with another prefix (after a drain and
 * after a crash) leaving no trace of the old prefix at the leaf (fight-back, RFC 2328 13.4).
 * The broadcast case (FRR + BIRD + podroute on one bridge) is in ospf-broadcast.test.ts.
 */
import t, { type Test } from 'tap';
import { interopGate, Lab, sleep, startFrr, startPodroute, waitFor } from '../../lab/fixture/index.js';
import type { OspfDatabaseEntry } from '../../src/ospf/speaker.js';
import {
  cliJson,
  cliText,
  drainTimeline,
  ospfNodeConfig,
  restartTimeline,
  sigtermWithdrawal,
  waitNeighborsFull,
  waitNoRoute,
  waitRoute,
} from '../ospf/daemon-lab.js';
import { BENIGN_DROPS } from '../ospf/interop-helpers.js';

const gate = interopGate(['ip', 'frr', 'podroute']);

const LEAF = '198.18.0.1';
const NODE = '198.18.0.2';

const frrConfig = (auth: string) => `frr defaults traditional
hostname leaf
log stdout
interface eth1
 ip ospf network point-to-point
 ip ospf area 0.0.0.0
 ip ospf hello-interval 2
 ip ospf dead-interval 8
${auth}
router ospf
 ospf router-id ${LEAF}
`;

async function scenario(t: Test, opts: { frrAuth: string; auth?: Record<string, unknown> }): Promise<void> {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const leafNs = await lab.addNamespace('leaf');
  const nodeNs = await lab.addNamespace('node');
  await lab.addLink(
    { ns: leafNs, ifname: 'eth1', addresses: [`${LEAF}/30`] },
    { ns: nodeNs, ifname: 'eth1', addresses: [`${NODE}/30`] },
  );
  const frr = await startFrr(leafNs, { config: frrConfig(opts.frrAuth) });
  const iface = {
    name: 'eth1',
    network: 'point-to-point' as const,
    ...(opts.auth ? { auth: opts.auth } : {}),
  };
  const node = await startPodroute(nodeNs, { config: ospfNodeConfig(NODE, [iface], ['198.19.1.0/24']) });
  const frrState = async (): Promise<string> => {
    const j = await frr.vtyshJson<{ neighbors?: Record<string, { nbrState?: string }[]> }>(
      'show ip ospf neighbor json',
    );
    return j.neighbors?.[NODE]?.[0]?.nbrState ?? 'absent';
  };
  try {
    // Adjacency and route.
    const o = await waitNeighborsFull(node, [LEAF]);
    await waitFor(async () => (await frrState()).startsWith('Full'), {
      timeoutMs: 20_000,
      intervalMs: 200,
      what: 'FRR sees podroute Full',
    });
    const r = await waitRoute(leafNs, '198.19.1.0/24', 'ospf');
    t.equal(r.gateway, NODE, 'leaf routes the prefix via the node');

    // Status JSON: the DESIGN.md ospf section.
    t.equal(o.routerId, NODE);
    t.match(o.interfaces, [
      { name: 'eth1', state: 'PointToPoint', neighbors: [{ routerId: LEAF, address: LEAF, state: 'Full' }] },
    ]);
    t.same(o.announced, ['198.19.1.0/24'], 'announced in the ospf section');
    const unexpected = Object.keys(o.dropped).filter((k) => !BENIGN_DROPS.includes(k));
    t.same(unexpected, [], `no unexpected drops: ${JSON.stringify(o.dropped)}`);
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
    t.match(own?.detail, /p2p 198\.18\.0\.1\/198\.18\.0\.2 10/, 'p2p link to the leaf');
    t.match(own?.detail, /stub 198\.19\.1\.0\/255\.255\.255\.0 10/, 'pod prefix as a stub link');
    t.ok(
      db.some((e) => e.type === 1 && e.advRouter === LEAF),
      "the leaf's router-LSA is in our LSDB",
    );
    const dbText = await cliText(node, ['--ospf-database']);
    t.match(dbText, /Area\s+Type\s+Link ID\s+ADV Router\s+Age\s+Seq#/);
    t.match(dbText, /0\.0\.0\.0\s+router\s+198\.18\.0\.2\s+198\.18\.0\.2\s+\d+\s+0x8000/);

    // SIGTERM: gone from the leaf within 1 s, exit 0 within 5 s.
    await sleep(1500); // the common case: our last origination is not within MinLSArrival
    const w = await sigtermWithdrawal(node, [leafNs], '198.19.1.0/24');
    t.comment(`SIGTERM → route gone from leaf ${w.goneMs[0]!.toFixed(0)} ms, exit ${w.exitMs.toFixed(0)} ms`);
    t.comment(drainTimeline(node));
    t.ok(w.goneMs[0]! <= 1000, `withdrawn within 1 s (${w.goneMs[0]!.toFixed(0)} ms)`);
    t.equal(w.exit.code, 0, 'exit 0');
    t.ok(w.exitMs < 5000, `exited within 5 s (${w.exitMs.toFixed(0)} ms)`);

    // Restart with another prefix after the drain: FRR still holds our (drained) router-LSA with a
    // higher sequence number than a fresh start's; the new prefix must replace it.
    node.setConfig(ospfNodeConfig(NODE, [iface], ['198.19.2.0/24']));
    const restartAt = Date.now();
    await node.start();
    await waitRoute(leafNs, '198.19.2.0/24', 'ospf', 20_000);
    t.comment(`restart → new prefix at the leaf after ${Date.now() - restartAt} ms`);
    t.comment(restartTimeline(node, restartAt));
    t.equal(await leafNs.route('198.19.1.0/24'), undefined, 'old prefix absent after restart');

    // Crash (SIGKILL: no drain) and restart with a third prefix: the stale 198.19.2.0/24 must go
    // within a few seconds, not at MaxAge.
    await waitNeighborsFull(node, [LEAF]);
    await node.kill();
    node.setConfig(ospfNodeConfig(NODE, [iface], ['198.19.3.0/24']));
    const crashAt = Date.now();
    await node.start();
    await waitRoute(leafNs, '198.19.3.0/24', 'ospf', 20_000);
    await waitNoRoute(leafNs, '198.19.2.0/24', 10_000);
    const fought = Date.now() - crashAt;
    t.comment(`crash + restart → stale prefix gone, new present after ${fought} ms`);
    t.comment(restartTimeline(node, crashAt));
    t.ok(fought < 15_000, 'no trace of the old prefix within a few seconds');
    const own2 = (await cliJson<OspfDatabaseEntry[]>(node, ['--ospf-database'])).find(
      (e) => e.self && e.type === 1,
    );
    t.ok(own2 && Number(own2.seq) > 0x80000002, `re-originated past the stale instance (${own2?.seq})`);
    t.match(own2?.detail, /stub 198\.19\.3\.0/);
    t.notMatch(own2?.detail, /198\.19\.[12]\.0/);
    await node.stop();
  } catch (e) {
    t.comment(node.logs().split('\n').slice(-40).join('\n'));
    t.comment(frr.processes.map((p) => p.tail(20)).join('\n'));
    throw e;
  }
}

t.test('podroute daemon vs FRR ospfd, point-to-point, no authentication', { skip: gate.skip }, async (t) => {
  await scenario(t, { frrAuth: '' });
});

t.test('podroute daemon vs FRR ospfd, point-to-point, MD5', { skip: gate.skip }, async (t) => {
  await scenario(t, {
    frrAuth: ' ip ospf authentication message-digest\n ip ospf message-digest-key 3 md5 s3cret',
    auth: { type: 'md5', keyId: 3, key: 's3cret' },
  });
});
