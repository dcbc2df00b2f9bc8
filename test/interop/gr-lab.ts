/**
 * The graceful-restart lab (RFC 4724, RFC 8538) shared by test/interop/bgp-graceful-restart.test.ts
 * and bench/rolling-restart.ts: one FRR leaf (bgpd with `bgp graceful-restart`, the helper side),
 * one IPv4 eBGP session to a node that announces AGGREGATE and holds a "pod" address POD on its
 * loopback; the leaf sends a default route and EXTRA. The node-side speaker is podroute, or FRR
 * (zebra + bgpd + staticd) doing the same job for the benchmark's reference. Also the ping counter
 * both use: `ping -i 0.01` from a namespace, read back as packets sent and lost.
 */
import {
  type FrrRouter,
  frrBgpConfig,
  type Lab,
  type Namespace,
  type PodrouteNode,
  startFrr,
  startPodroute,
} from '../../lab/fixture/index.js';
import { addUplink, waitEstablished, waitRoute } from './bgp-helpers.js';

export const AGGREGATE = '198.19.1.0/24';
export const POD = '198.19.1.10';
export const LEAF_LO = '198.18.200.1';
export const EXTRA = '198.18.201.0/24';
export const LEAF_ADDR = '198.18.0.0';
export const NODE_ADDR = '198.18.0.1';
/** The leaf's restart time: long enough for FRR to restart on a loaded machine (it takes seconds). */
export const LEAF_RESTART_TIME = 60;
/** The node's restart time (podroute's `bgp.gracefulRestart.restartTime`, FRR's the same). */
export const NODE_RESTART_TIME = 30;

export function leafConfig(o: { gr: boolean; extra: boolean; restartTime?: number }): string {
  return frrBgpConfig({
    asn: 65000,
    routerId: LEAF_ADDR,
    ...(o.extra ? { global: [`ip route ${EXTRA} blackhole`], networks: [EXTRA] } : {}),
    extra: o.gr ? grRestarting(o.restartTime ?? LEAF_RESTART_TIME) : [],
    neighbors: [{ address: NODE_ADDR, asn: 65001, afExtra: ['default-originate'] }],
  });
}

/** preserve-fw-state: the F bit (forwarding survives a restart of bgpd, RFC 4724 3). */
function grRestarting(restartTime: number): string[] {
  return [
    'bgp graceful-restart',
    'bgp graceful-restart preserve-fw-state',
    `bgp graceful-restart restart-time ${restartTime}`,
  ];
}

export function nodeConfig(gr: boolean) {
  return {
    node: { name: 'node1', routerId: NODE_ADDR },
    announce: [AGGREGATE],
    bgp: {
      asn: 65001,
      ...(gr ? { gracefulRestart: { restartTime: NODE_RESTART_TIME } } : {}),
      peers: [{ address: LEAF_ADDR, asn: 65000, holdTime: 9, accept: 'all' }],
    },
  };
}

/**
 * FRR as the node: the same announcement (a staticd blackhole + `network`), the same timers as
 * podroute's peer (hold 9 s), and with `gr` the restarting-speaker side: `bgp graceful-restart`
 * with preserve-fw-state (the F bit) and the node's restart time; without, no capability at all.
 */
export function frrNodeConfig(gr: boolean): string {
  return frrBgpConfig({
    hostname: 'node',
    asn: 65001,
    routerId: NODE_ADDR,
    timers: { keepalive: 3, hold: 9 },
    global: [`ip route ${AGGREGATE} blackhole`],
    // FRR advertises the capability in helper mode by default; "without" means none at all.
    extra: gr ? grRestarting(NODE_RESTART_TIME) : ['bgp graceful-restart-disable'],
    neighbors: [{ address: LEAF_ADDR, asn: 65000 }],
    networks: [AGGREGATE],
  });
}

/**
 * zebra's options for a node that keeps its forwarding state across a restart of all of FRR:
 * `-r` leaves zebra's routes in the kernel when it exits, `-K` makes the new zebra keep what it
 * finds for that many seconds (stale) while the daemons re-learn it.
 */
export const FRR_GR_ZEBRA_ARGS = ['-r', '-K', String(NODE_RESTART_TIME)] as const;

export interface GrLab {
  leafNs: Namespace;
  nodeNs: Namespace;
  leaf: FrrRouter;
  /** The node-side speaker: one of the two. */
  node?: PodrouteNode;
  frrNode?: FrrRouter;
}

export interface GrLabOptions {
  /** The node's speaker; default podroute. */
  speaker?: 'podroute' | 'frr';
  /** Graceful restart on the node. */
  gr: boolean;
  /** Graceful restart on the leaf (the helper side); default true. */
  leafGr?: boolean;
}

/** Builds the lab in `lab`; resolves with the session up and the routes in both kernels. */
export async function buildGrLab(lab: Lab, o: GrLabOptions): Promise<GrLab> {
  const leafNs = await lab.addNamespace('leaf');
  const nodeNs = await lab.addNamespace('node');
  await addUplink(lab, leafNs, nodeNs, 0);
  await nodeNs.ip(['addr', 'add', `${POD}/32`, 'dev', 'lo']);
  await leafNs.ip(['addr', 'add', `${LEAF_LO}/32`, 'dev', 'lo']);
  const leaf = await startFrr(leafNs, { config: leafConfig({ gr: o.leafGr ?? true, extra: true }) });
  const g: GrLab = { leafNs, nodeNs, leaf };
  if ((o.speaker ?? 'podroute') === 'podroute') {
    g.node = await startPodroute(nodeNs, { config: nodeConfig(o.gr) });
    await waitEstablished(g.node, [LEAF_ADDR], 30_000);
  } else {
    g.frrNode = await startFrr(nodeNs, {
      config: frrNodeConfig(o.gr),
      ...(o.gr ? { args: { zebra: FRR_GR_ZEBRA_ARGS } } : {}),
    });
    await g.frrNode.waitBgpEstablished(LEAF_ADDR, 30_000);
  }
  await waitRoute(leafNs, AGGREGATE);
  await waitRoute(nodeNs, EXTRA);
  return g;
}

/** Pings `dst` every 10 ms for `seconds` from `ns`; resolves to [sent, lost]. */
export async function ping(ns: Namespace, dst: string, seconds: number): Promise<[number, number]> {
  const r = await ns.exec('ping', ['-n', '-q', '-i', '0.01', '-W', '1', '-w', String(seconds), dst], {
    allowFail: true,
    timeoutMs: (seconds + 10) * 1000,
  });
  const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  if (!m) throw new Error(`no ping summary in: ${r.stdout}`);
  return [Number(m[1]), Number(m[1]) - Number(m[2])];
}

/** Pings `dst` every 10 ms for `seconds` while `during` runs (from 0.5 s on). */
export async function pingDuring(
  ns: Namespace,
  dst: string,
  seconds: number,
  during: () => Promise<void>,
): Promise<[number, number]> {
  const result = ping(ns, dst, seconds);
  await new Promise((r) => setTimeout(r, 500));
  await during();
  return result;
}
