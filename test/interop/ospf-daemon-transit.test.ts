/**
 * Daemon level: a dual-homed node is never a transit router (RFC 6987 stub router advertisement).
 * A spine and two leafs run FRR ospfd 8.4 (point-to-point links, area 0): leaf–spine links cost
 * 10, and the node (`bin/podroute run`) hangs off both leafs with links of cost 1, so without
 * RFC 6987 the leafs' shortest path to each other would be leaf1 → node → leaf2 (cost 2 against
 * 20 through the spine) and leaf-to-leaf traffic would be sent into a Kubernetes node that has
 * no route for it. With the node's point-to-point links at MaxLinkMetric 0xFFFF:
 *   - each leaf reaches the other's loopback via the spine (FRR's RIB and the kernel table), and
 *     a ping across arrives;
 *   - FRR reads the node's router-LSA with 65535 on its links to the leafs and the configured
 *     cost on its stub links;
 *   - the node's announced prefix is still reached from the spine through both leafs (ECMP).
 */
import t from 'tap';
import {
  type FrrRouter,
  interopGate,
  Lab,
  type Namespace,
  startFrr,
  startPodroute,
  waitFor,
} from '../../lab/fixture/index.js';
import type { OspfDatabaseEntry } from '../../src/ospf/status.js';
import {
  cliJson,
  frrOspfConfig,
  ospfNodeConfig,
  unexpectedDrops,
  waitNeighborsFull,
  waitRoute,
  withDiagnostics,
} from './ospf-lab.js';

const gate = interopGate(['ip', 'frr', 'podroute']);

const SPINE = '198.18.255.10';
const LEAF1 = '198.18.255.1';
const LEAF2 = '198.18.255.2';
const NODE = '198.18.0.2';
const POD_PREFIX = '198.19.1.0/24';
/** Spine side of the leaf–spine links (198.18.1.0/30 to leaf1, 198.18.1.4/30 to leaf2). */
const SPINE_TO_LEAF1 = '198.18.1.1';
const SPINE_TO_LEAF2 = '198.18.1.5';
const LEAF1_UP = '198.18.1.2';
const LEAF2_UP = '198.18.1.6';

const SPINE_COST = 10;
const NODE_COST = 1;

/** FRR's RIB entry for `prefix` in `frr` (`show ip route <prefix> json`). */
async function frrRoute(
  frr: FrrRouter,
  prefix: string,
): Promise<{ protocol?: string; metric?: number; nexthops: string[] } | undefined> {
  const j = await frr.vtyshJson<
    Record<string, { protocol?: string; metric?: number; nexthops?: { ip?: string }[] }[]>
  >(`show ip route ${prefix} json`);
  const r = j[prefix]?.[0];
  return r && { protocol: r.protocol, metric: r.metric, nexthops: (r.nexthops ?? []).map((n) => n.ip ?? '') };
}

/** Waits until `ns` routes `dst` via exactly `gateway` (a single next hop). */
function waitGateway(ns: Namespace, dst: string, gateway: string) {
  return waitFor(
    async () => {
      const r = await ns.route(dst);
      if (r?.protocol === 'ospf' && r.gateway === gateway && !r.nexthops) return r;
      // Thrown, the route seen last is what the timeout message reports.
      throw new Error(`route ${JSON.stringify(r ?? null)}`);
    },
    { timeoutMs: 15_000, intervalMs: 200, what: `${ns.shortName} routes ${dst} via ${gateway} only` },
  );
}

t.test(
  'dual-homed podroute node: leaf-to-leaf traffic goes via the spine, not via the node',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const spineNs = await lab.addNamespace('spine');
    const leaf1Ns = await lab.addNamespace('leaf1');
    const leaf2Ns = await lab.addNamespace('leaf2');
    const nodeNs = await lab.addNamespace('node');
    await lab.addLink(
      { ns: spineNs, ifname: 'eth1', addresses: [`${SPINE_TO_LEAF1}/30`] },
      { ns: leaf1Ns, ifname: 'eth2', addresses: [`${LEAF1_UP}/30`] },
    );
    await lab.addLink(
      { ns: spineNs, ifname: 'eth2', addresses: [`${SPINE_TO_LEAF2}/30`] },
      { ns: leaf2Ns, ifname: 'eth2', addresses: [`${LEAF2_UP}/30`] },
    );
    await lab.addLink(
      { ns: leaf1Ns, ifname: 'eth1', addresses: ['198.18.0.1/30'] },
      { ns: nodeNs, ifname: 'eth1', addresses: [`${NODE}/30`] },
    );
    await lab.addLink(
      { ns: leaf2Ns, ifname: 'eth1', addresses: ['198.18.0.5/30'] },
      { ns: nodeNs, ifname: 'eth2', addresses: ['198.18.0.6/30'] },
    );
    await leaf1Ns.addAddress('lo', `${LEAF1}/32`);
    await leaf2Ns.addAddress('lo', `${LEAF2}/32`);

    const p2p = 'point-to-point' as const;
    const spine = await startFrr(spineNs, {
      config: frrOspfConfig(
        SPINE,
        [
          { name: 'eth1', network: p2p, cost: SPINE_COST },
          { name: 'eth2', network: p2p, cost: SPINE_COST },
        ],
        'spine',
      ),
    });
    const leafConfig = (routerId: string, hostname: string) =>
      frrOspfConfig(
        routerId,
        [
          { name: 'lo' },
          { name: 'eth1', network: p2p, cost: NODE_COST },
          { name: 'eth2', network: p2p, cost: SPINE_COST },
        ],
        hostname,
      );
    const leaf1 = await startFrr(leaf1Ns, { config: leafConfig(LEAF1, 'leaf1') });
    const leaf2 = await startFrr(leaf2Ns, { config: leafConfig(LEAF2, 'leaf2') });
    const node = await startPodroute(nodeNs, {
      config: ospfNodeConfig(
        NODE,
        [
          { name: 'eth1', network: p2p, cost: NODE_COST },
          { name: 'eth2', network: p2p, cost: NODE_COST },
        ],
        [POD_PREFIX],
      ),
    });

    await withDiagnostics(
      t,
      async () => {
        const o = await waitNeighborsFull(node, [LEAF1, LEAF2]);
        t.same(unexpectedDrops(o.dropped), [], `no unexpected drops: ${JSON.stringify(o.dropped)}`);

        // The node's prefix from the spine: through both leafs (10 + 1 + the stub's 10 each way).
        const viaLeafs = await waitFor(
          async () => {
            const r = await spineNs.route(POD_PREFIX);
            const hops = (r?.nexthops ?? []).map((n) => n.gateway).sort();
            return r?.protocol === 'ospf' && hops.join() === [LEAF1_UP, LEAF2_UP].sort().join()
              ? r
              : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 200, what: `spine routes ${POD_PREFIX} via both leafs` },
        );
        t.ok(viaLeafs, `spine: ${POD_PREFIX} via ${LEAF1_UP} and ${LEAF2_UP}`);
        t.same(await frrRoute(spine, POD_PREFIX), {
          protocol: 'ospf',
          metric: SPINE_COST + NODE_COST + 10,
          nexthops: [LEAF1_UP, LEAF2_UP],
        });
        await waitRoute(leaf1Ns, POD_PREFIX, 'ospf');
        t.equal((await leaf1Ns.route(POD_PREFIX))?.gateway, NODE, 'leaf1 reaches the pods directly');

        // Leaf to leaf: via the spine (cost 20 + the loopback's), not via the node (1 + 65535 + …).
        const r12 = await waitGateway(leaf1Ns, `${LEAF2}`, SPINE_TO_LEAF1);
        t.equal(r12.dev, 'eth2', "leaf1 → leaf2's loopback leaves on the spine link");
        const r21 = await waitGateway(leaf2Ns, `${LEAF1}`, SPINE_TO_LEAF2);
        t.equal(r21.dev, 'eth2', "leaf2 → leaf1's loopback leaves on the spine link");
        const rib12 = await frrRoute(leaf1, `${LEAF2}/32`);
        t.same(rib12?.nexthops, [SPINE_TO_LEAF1], "leaf1's RIB: leaf2 via the spine only");
        t.ok(
          (rib12?.metric ?? 0) >= 2 * SPINE_COST && (rib12?.metric ?? 0) < 0xffff,
          `through the spine's cost (${rib12?.metric})`,
        );
        t.same(
          (await frrRoute(leaf2, `${LEAF1}/32`))?.nexthops,
          [SPINE_TO_LEAF2],
          "leaf2's RIB: via the spine",
        );
        // The node has no route to the leafs' loopbacks: through it, this ping would be lost.
        t.ok(await leaf1Ns.ping(LEAF2, { count: 2, timeoutS: 4 }), "leaf1 pings leaf2's loopback");

        // What FRR decoded of our router-LSA: 65535 towards the leafs, the configured cost on stubs.
        const lsa = await leaf1.vtysh(`show ip ospf database router ${NODE}`);
        const links = lsa.split(/Link connected to: /).slice(1);
        const p2pMetrics = links
          .filter((l) => l.startsWith('another Router'))
          .map((l) => /TOS 0 Metrics?: (\d+)/.exec(l)?.[1]);
        t.same(p2pMetrics, ['65535', '65535'], 'FRR reads both point-to-point links at 65535');
        const stubs = links
          .filter((l) => /^(a )?Stub Network/.test(l))
          .map(
            (l) =>
              `${/\(Link ID\) Net(?:work\/subnet number)?: (\S+)/.exec(l)?.[1]} ${/TOS 0 Metrics?: (\d+)/.exec(l)?.[1]}`,
          )
          .sort();
        t.same(stubs, ['198.18.0.0 1', '198.18.0.4 1', '198.19.1.0 10'], 'stub links keep their cost');

        // The same in our own status (--ospf-database).
        const own = (await cliJson<OspfDatabaseEntry[]>(node, ['--ospf-database'])).find(
          (e) => e.self && e.type === 1,
        );
        t.match(own?.detail, /p2p 198\.18\.255\.1\/198\.18\.0\.2 65535/);
        t.match(own?.detail, /p2p 198\.18\.255\.2\/198\.18\.0\.6 65535/);
        t.match(own?.detail, /stub 198\.19\.1\.0\/255\.255\.255\.0 10/);
        await node.stop();
      },
      () => [
        node.logs().split('\n').slice(-30).join('\n'),
        ...[spine, leaf1, leaf2].map((f) => f.processes.map((p) => p.tail(10)).join('\n')),
      ],
    );
  },
);
