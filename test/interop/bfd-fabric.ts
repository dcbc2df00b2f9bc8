/**
 * The dual-homed BFD lab shared by test/interop/bgp-bfd.test.ts and bench/bfd-failover.ts: a node
 * (podroute, or FRR bgpd+bfdd doing the same job) with one IPv4 eBGP session to each of two FRR
 * leafs (bgpd + bfdd), both leafs sending a default route, the node announcing OWN. What is
 * measured after a silent failure of the node's first uplink (iptables DROP both ways inside the
 * node's namespace; RFC 5880 6.8.4: only the Detection Time can notice it): how long until the
 * node's ECMP default loses that leaf, and until that leaf's route to OWN is gone.
 */

import {
  type FrrRouter,
  frrBgpConfig,
  type Lab,
  type Namespace,
  type PodrouteNode,
  startFrr,
  startPodroute,
  waitFor,
} from '../../lab/fixture/index.js';
import { blackhole } from '../bfd/interop-helpers.js';
import { addUplink, waitEstablished } from './bgp-helpers.js';

export const OWN = '198.19.1.0/24';
/** The leafs' addresses on the node's uplinks eth1, eth2, and the node's. */
export const LEAF_PEERS = ['198.18.0.0', '198.18.0.2'];
export const NODE_ADDRS = ['198.18.0.1', '198.18.0.3'];

export interface Timers {
  /** BFD 100/100/3 on both ends when set; otherwise only the BGP hold time notices. */
  bfd: boolean;
  keepalive: number;
  hold: number;
}

const bfdProfile = [
  'bfd',
  ' profile fast',
  '  receive-interval 100',
  '  transmit-interval 100',
  '  detect-multiplier 3',
  ' !',
  '!',
];

/** A neighbor's BFD lines (RFC 5882 4.3: BGP follows the BFD session), with the profile above. */
const bfdNeighbor = (t: Timers): string[] => (t.bfd ? ['bfd', 'bfd profile fast'] : []);

/** FRR leaf k: AS 65101+k, one IPv4 session to the node, a default route to it. */
export function leafConfig(k: number, t: Timers): string {
  const node = NODE_ADDRS[k]!;
  return frrBgpConfig({
    hostname: `leaf${k + 1}`,
    asn: 65101 + k,
    routerId: `10.0.0.${k + 1}`,
    timers: t,
    global: t.bfd ? bfdProfile : [],
    neighbors: [{ address: node, asn: 65001, extra: bfdNeighbor(t), afExtra: ['default-originate'] }],
  });
}

/** The FRR node doing podroute's job (the benchmark's reference): announce OWN, ECMP over both. */
export function frrNodeConfig(t: Timers): string {
  return frrBgpConfig({
    hostname: 'node',
    asn: 65001,
    routerId: '198.18.0.1',
    timers: t,
    global: [`ip route ${OWN} blackhole`, ...(t.bfd ? bfdProfile : [])],
    extra: ['bgp bestpath as-path multipath-relax'],
    neighbors: LEAF_PEERS.map((address, k) => ({ address, asn: 65101 + k, extra: bfdNeighbor(t) })),
    networks: [OWN],
    afExtra: { ipv4: ['maximum-paths 2'] },
  });
}

export function podrouteConfig(t: Timers) {
  return {
    node: { name: 'node1', routerId: '198.18.0.1' },
    announce: [OWN],
    bgp: {
      asn: 65001,
      peers: LEAF_PEERS.map((address, k) => ({
        address,
        asn: 65101 + k,
        holdTime: t.hold,
        accept: 'default',
        ...(t.bfd ? { bfd: { minRx: 100, minTx: 100, multiplier: 3 } } : {}),
      })),
    },
  };
}

export interface Fabric {
  nodeNs: Namespace;
  leafNs: Namespace[];
  leafs: FrrRouter[];
  podroute?: PodrouteNode;
  frrNode?: FrrRouter;
}

/** Builds the lab; the node is podroute or FRR. Resolves with both sessions Established. */
export async function startFabric(lab: Lab, t: Timers, node: 'podroute' | 'frr'): Promise<Fabric> {
  const leafNs = [await lab.addNamespace('leaf1'), await lab.addNamespace('leaf2')];
  const nodeNs = await lab.addNamespace('node');
  await addUplink(lab, leafNs[0]!, nodeNs, 0, 'eth1');
  await addUplink(lab, leafNs[1]!, nodeNs, 1, 'eth2');
  const leafs = [
    await startFrr(leafNs[0]!, { config: leafConfig(0, t) }),
    await startFrr(leafNs[1]!, { config: leafConfig(1, t) }),
  ];
  const f: Fabric = { nodeNs, leafNs, leafs };
  if (node === 'podroute') {
    f.podroute = await startPodroute(nodeNs, { config: podrouteConfig(t) });
    await waitEstablished(f.podroute, LEAF_PEERS, 30_000);
  } else {
    f.frrNode = await startFrr(nodeNs, { config: frrNodeConfig(t) });
  }
  await waitDefaultHops(nodeNs, 2, 30_000);
  for (const ns of leafNs)
    await waitFor(() => ns.route(OWN), { timeoutMs: 30_000, what: `${OWN} in ${ns.name}` });
  return f;
}

/** The node's IPv4 default route's next hops (kernel), sorted. */
export async function defaultHops(ns: Namespace): Promise<string[]> {
  const r = (await ns.routes(4)).find((x) => x.dst === 'default');
  if (!r) return [];
  return (r.nexthops ? r.nexthops.map((h) => h.gateway ?? '') : [r.gateway ?? '']).sort();
}

export function waitDefaultHops(ns: Namespace, n: number, timeoutMs: number) {
  return waitFor(
    async () => {
      const h = await defaultHops(ns);
      return h.length === n ? h : undefined;
    },
    { timeoutMs, intervalMs: 20, what: `default via ${n} next hop(s) in ${ns.name}` },
  );
}

export interface FailoverTimes {
  /** ms from the DROP rules until the node's default lost leaf 1, and leaf 1 lost OWN. */
  nodeMs: number;
  leafMs: number;
}

/**
 * Drops everything on the node's eth1 (both ways) and measures both times; `limitMs` bounds the
 * wait. `at` runs once at `probeMs` after the failure (e.g. to check the route is still there).
 */
export async function failUplink(
  f: Fabric,
  limitMs: number,
  probe?: { ms: number; fn: () => Promise<void> },
): Promise<FailoverTimes> {
  const start = performance.now();
  await blackhole(f.nodeNs, 'eth1', true);
  let probed = !probe;
  let nodeMs: number | undefined;
  let leafMs: number | undefined;
  while (nodeMs === undefined || leafMs === undefined) {
    const now = performance.now() - start;
    if (!probed && now >= probe!.ms) {
      probed = true;
      await probe!.fn();
    }
    if (now > limitMs)
      throw new Error(`failover not seen within ${limitMs} ms (node ${nodeMs}, leaf ${leafMs})`);
    const [hops, leafRoute] = await Promise.all([
      nodeMs === undefined ? defaultHops(f.nodeNs) : Promise.resolve(['done']),
      leafMs === undefined ? f.leafNs[0]!.route(OWN) : Promise.resolve(undefined),
    ]);
    const t = performance.now() - start;
    if (nodeMs === undefined && hops.length === 1 && hops[0] === LEAF_PEERS[1]) nodeMs = t;
    if (leafMs === undefined && !leafRoute) leafMs = t;
  }
  return { nodeMs, leafMs };
}

/** Lifts the DROP rules and waits until the node's default has both leafs again. */
export async function healUplink(f: Fabric, timeoutMs = 30_000): Promise<number> {
  const start = performance.now();
  await blackhole(f.nodeNs, 'eth1', false);
  await waitDefaultHops(f.nodeNs, 2, timeoutMs);
  await waitFor(() => f.leafNs[0]!.route(OWN), { timeoutMs, what: `${OWN} back in leaf1` });
  return performance.now() - start;
}
