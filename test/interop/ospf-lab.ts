/**
 * Shared by the OSPF interop suites of both layers, against real FRR ospfd and BIRD in lab
 * namespaces (198.18.0.0/15 addressing, never the root namespace):
 *
 * - the leaf routers' configurations (FRR and BIRD, with their authentication lines), the
 *   leaf + node namespace pair on one veth, neighbor states as FRR sees them, the drops a healthy
 *   adjacency may show, and failure diagnostics;
 * - speaker level (`ospf-speaker-*.test.ts`): the OSPF speaker alone in a child process
 *   (`ospf-speaker-node.ts`), read through the status file it writes;
 * - daemon level (`ospf-daemon-*.test.ts`): `bin/podroute run` — its config, waiting for
 *   adjacencies in `podroute status --json`, the CLI's table forms, the SIGTERM withdrawal
 *   measured at the leafs' kernel tables, and restarts (after a drain, after a crash).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Test } from 'tap';
import {
  CLEAN_NODE,
  daemonEnv,
  type ExitInfo,
  type FrrRouter,
  Lab,
  type ManagedProcess,
  type Namespace,
  type PodrouteNode,
  type PodrouteStatus,
  REPO_ROOT,
  run,
  sleep,
  startPodroute,
  waitFor,
} from '../../lab/fixture/index.js';
import type { OspfDatabaseEntry, OspfStatus } from '../../src/ospf/status.js';

// ===== leaf routers and the lab =====

export interface FrrOspfInterface {
  name: string;
  /** Absent: FRR's default for the interface (broadcast on a veth or bridge). */
  network?: 'point-to-point';
  priority?: number;
  /** `ip ospf cost`; absent: FRR's (reference bandwidth based). */
  cost?: number;
  /** Authentication lines (`frrMd5`). */
  auth?: string;
}

/** An FRR ospfd configuration: Hello 2 s, Dead 8 s, area 0 on every listed interface. */
export function frrOspfConfig(routerId: string, interfaces: FrrOspfInterface[], hostname = 'leaf'): string {
  const lines = ['frr defaults traditional', `hostname ${hostname}`, 'log stdout'];
  for (const i of interfaces) {
    lines.push(`interface ${i.name}`);
    if (i.network) lines.push(` ip ospf network ${i.network}`);
    lines.push(' ip ospf area 0.0.0.0');
    if (i.priority !== undefined) lines.push(` ip ospf priority ${i.priority}`);
    if (i.cost !== undefined) lines.push(` ip ospf cost ${i.cost}`);
    lines.push(' ip ospf hello-interval 2', ' ip ospf dead-interval 8');
    if (i.auth) lines.push(i.auth);
  }
  lines.push('router ospf', ` ospf router-id ${routerId}`, '');
  return lines.join('\n');
}

export const frrMd5 = (keyId: number, key: string) =>
  ` ip ospf authentication message-digest\n ip ospf message-digest-key ${keyId} md5 ${key}`;

/** A BIRD 2 configuration with one OSPF interface `eth1` in area 0; `ifaceBody` is its options. */
export function birdOspfConfig(routerId: string, ifaceBody: string): string {
  return `log stderr all;
router id ${routerId};
protocol device {}
protocol kernel { ipv4 { export all; }; }
protocol ospf v2 o {
  ipv4 { import all; export none; };
  area 0 {
    interface "eth1" {
${ifaceBody}
    };
  };
}
`;
}

export const birdAuth = {
  hmacSha256: (id: number, key: string) => `      authentication cryptographic;
      password "${key}" { id ${id}; algorithm hmac sha256; };`,
  md5: (id: number, key: string) => `      authentication cryptographic;
      password "${key}" { id ${id}; algorithm keyed md5; };`,
};

export const LEAF = '198.18.0.1';
export const NODE = '198.18.0.2';

/** A lab with a leaf and a node namespace joined by `eth1` (LEAF and NODE on a /`prefixLength`). */
export async function leafAndNode(
  t: Test,
  prefixLength = 30,
): Promise<{ lab: Lab; leaf: Namespace; node: Namespace }> {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const leaf = await lab.addNamespace('leaf');
  const node = await lab.addNamespace('node');
  await lab.addLink(
    { ns: leaf, ifname: 'eth1', addresses: [`${LEAF}/${prefixLength}`] },
    { ns: node, ifname: 'eth1', addresses: [`${NODE}/${prefixLength}`] },
  );
  return { lab, leaf, node };
}

/** FRR's state of its neighbor `routerId` (`Full/-`, `Full/DROther`, …), or `absent`. */
export async function frrNeighborState(frr: FrrRouter, routerId: string): Promise<string> {
  const j = await frr.vtyshJson<{ neighbors?: Record<string, { nbrState?: string }[]> }>(
    'show ip ospf neighbor json',
  );
  return j.neighbors?.[routerId]?.[0]?.nbrState ?? 'absent';
}

/**
 * Drops a healthy adjacency may show: a newer instance within MinLSArrival (RFC 2328 13 (5)(a):
 * FRR re-originates twice around Full) and an ack for an instance we already replaced (13.7).
 */
export const BENIGN_DROPS = ['lsa-min-ls-arrival', 'ack-other-instance'];

/** Drop reasons other than the benign ones. */
export function unexpectedDrops(dropped: Record<string, number> | undefined): string[] {
  return Object.keys(dropped ?? {}).filter((k) => !BENIGN_DROPS.includes(k));
}

/** Runs `body`; when it fails, the process logs `tails` gives are shown before the error. */
export async function withDiagnostics(
  t: Test,
  body: () => Promise<void>,
  tails: () => string[],
): Promise<void> {
  try {
    await body();
  } catch (e) {
    for (const s of tails()) t.comment(s);
    throw e;
  }
}

// ===== speaker level: the OSPF speaker alone in a child process =====

export interface NodeStatus {
  status: OspfStatus;
  database: OspfDatabaseEntry[];
}

export interface NodeSpeaker {
  proc: ManagedProcess;
  read(): NodeStatus | undefined;
  setDesired(prefixes: string[]): void;
}

export function startNodeSpeaker(
  lab: Lab,
  ns: Namespace,
  routerId: string,
  ospf: Record<string, unknown>,
  desired: string[],
): NodeSpeaker {
  const cfg = lab.writeFile(`ospf-${ns.shortName}.json`, JSON.stringify({ routerId, ospf }));
  const statusPath = join(lab.tmpDir, `ospf-${ns.shortName}-status.json`);
  const desiredPath = join(lab.tmpDir, `ospf-${ns.shortName}-desired.json`);
  writeFileSync(desiredPath, JSON.stringify(desired));
  const runner = join(REPO_ROOT, 'test/interop/ospf-speaker-node.ts');
  const proc = ns.spawn('ospf', 'sh', [
    '-c',
    `cd ${REPO_ROOT} && exec ${process.execPath} --import tsx ${runner} ${cfg} ${statusPath} ${desiredPath}`,
  ]);
  return {
    proc,
    read() {
      try {
        return JSON.parse(readFileSync(statusPath, 'utf8')) as NodeStatus;
      } catch {
        return undefined;
      }
    },
    setDesired(prefixes) {
      writeFileSync(desiredPath, JSON.stringify(prefixes));
    },
  };
}

// ===== daemon level: bin/podroute run =====

export interface OspfIfaceConfig {
  name: string;
  network: 'point-to-point' | 'broadcast';
  helloInterval?: number;
  deadInterval?: number;
  priority?: number;
  cost?: number;
  auth?: Record<string, unknown>;
}

/** podroute.yaml as an object: one node announcing `announce` over OSPF only, routes not managed. */
export function ospfNodeConfig(
  routerId: string,
  interfaces: OspfIfaceConfig[],
  announce: string[],
): Record<string, unknown> {
  return {
    node: { name: 'node1', routerId },
    announce,
    log: { level: 'debug' },
    ospf: { interfaces: interfaces.map((i) => ({ helloInterval: 2, deadInterval: 8, ...i })) },
  };
}

/**
 * Starts the daemon in `ns` with OSPF on eth1 (`network`, `auth` if given) announcing
 * 198.19.1.0/24; `configFor` is the same configuration announcing another prefix, for restarts.
 */
export async function startOspfDaemon(
  ns: Namespace,
  network: OspfIfaceConfig['network'],
  auth?: Record<string, unknown>,
): Promise<{ node: PodrouteNode; configFor: (prefix: string) => Record<string, unknown> }> {
  const iface: OspfIfaceConfig = { name: 'eth1', network, ...(auth ? { auth } : {}) };
  const configFor = (p: string) => ospfNodeConfig(NODE, [iface], [p]);
  return { node: await startPodroute(ns, { config: configFor('198.19.1.0/24') }), configFor };
}

/** The status document's OSPF section: the speaker's own status view. */
export function ospfOf(s: PodrouteStatus): OspfStatus | undefined {
  return s.ospf;
}

/** Waits until `podroute status --json` shows every neighbor in `routerIds` Full. */
export function waitNeighborsFull(
  node: PodrouteNode,
  routerIds: readonly string[],
  timeoutMs = 40_000,
): Promise<OspfStatus> {
  return waitFor(
    async () => {
      const o = ospfOf(await node.status());
      const full = new Set(
        o?.interfaces.flatMap((i) => i.neighbors.filter((n) => n.state === 'Full').map((n) => n.routerId)),
      );
      return routerIds.every((r) => full.has(r)) ? o : undefined;
    },
    { timeoutMs, intervalMs: 200, what: `podroute Full with ${routerIds.join(', ')}` },
  );
}

export function waitRoute(ns: Namespace, dst: string, protocol: string, timeoutMs = 30_000) {
  return waitFor(
    async () => {
      const r = await ns.route(dst);
      return r?.protocol === protocol ? r : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `${dst} (proto ${protocol}) in ${ns.name}'s kernel table` },
  );
}

export async function waitNoRoute(ns: Namespace, dst: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(async () => (await ns.route(dst)) === undefined, {
    timeoutMs,
    intervalMs: 50,
    what: `${dst} gone from ${ns.name}'s kernel table`,
  });
}

/** `podroute status [--ospf-database]` as people see it (the table form). */
export async function cliText(node: PodrouteNode, extra: string[] = []): Promise<string> {
  const r = await run(
    CLEAN_NODE[0],
    [...CLEAN_NODE.slice(1), node.bin, 'status', ...extra, '--socket', node.socketPath],
    { timeoutMs: 10_000, env: daemonEnv() },
  );
  return r.stdout;
}

export async function cliJson<T>(node: PodrouteNode, extra: string[]): Promise<T> {
  return JSON.parse(await cliText(node, [...extra, '--json'])) as T;
}

export interface Withdrawal {
  /** Milliseconds from SIGTERM until the prefix was seen gone from each leaf (polled every 10 ms). */
  goneMs: number[];
  exit: ExitInfo;
  exitMs: number;
}

/**
 * Sends SIGTERM and polls every leaf's kernel table every 10 ms until `prefix` is gone; the time is
 * an upper bound (one `ip route` run, a few ms, plus the poll interval).
 */
export async function sigtermWithdrawal(
  node: PodrouteNode,
  leafs: readonly Namespace[],
  prefix: string,
  timeoutMs = 10_000,
): Promise<Withdrawal> {
  const proc = node.process;
  if (!proc) throw new Error('podroute not started');
  const t0 = performance.now();
  proc.signal('SIGTERM');
  const exited = proc.exited.then((exit) => ({ exit, exitMs: performance.now() - t0 }));
  const goneMs = await Promise.all(
    leafs.map(async (ns) => {
      for (;;) {
        if ((await ns.route(prefix)) === undefined) return performance.now() - t0;
        if (performance.now() - t0 > timeoutMs)
          throw new Error(`${prefix} still in ${ns.name} after SIGTERM`);
        await sleep(10);
      }
    }),
  );
  const { exit, exitMs } = await Promise.race([
    exited,
    sleep(timeoutMs).then(() => {
      throw new Error(`podroute did not exit within ${timeoutMs} ms of SIGTERM`);
    }),
  ]);
  return { goneMs, exit, exitMs };
}

/**
 * The daemon's own log lines for the drain (debug level): when it originated or flushed after the
 * signal, relative to the first "stopping" line. For diagnostics in test output.
 */
export function drainTimeline(node: PodrouteNode): string {
  const lines = node.logs().split('\n');
  const out: string[] = [];
  let t0: number | undefined;
  for (const l of lines) {
    try {
      const j = JSON.parse(l) as { time?: number | string; msg?: string; lsa?: string; seq?: string };
      const at = typeof j.time === 'string' ? Date.parse(j.time) : (j.time ?? 0);
      if (j.msg?.startsWith('stopping')) t0 = at;
      if (t0 !== undefined) out.push(`+${at - t0} ms ${j.msg ?? ''} ${j.lsa ?? ''} ${j.seq ?? ''}`);
    } catch {
      // not a JSON line
    }
  }
  return out.join('\n');
}

/** The daemon's log since `since` (epoch ms): state changes and originations, for diagnostics. */
export function restartTimeline(node: PodrouteNode, since: number): string {
  const out: string[] = [];
  for (const l of node.logs().split('\n')) {
    try {
      const j = JSON.parse(l) as Record<string, unknown>;
      const at = typeof j.time === 'string' ? Date.parse(j.time) : Number(j.time ?? 0);
      if (at < since) continue;
      const { time: _t, level: _l, pid: _p, hostname: _h, msg, ...rest } = j;
      out.push(`+${at - since} ms ${String(msg)} ${JSON.stringify(rest)}`);
    } catch {
      // not a JSON line
    }
  }
  return out.slice(0, 60).join('\n');
}

export interface LeafView {
  ns: Namespace;
  /** Kernel route protocol the leaf installs OSPF routes with (`ospf` for FRR, `bird` for BIRD). */
  protocol: string;
}

/**
 * The SIGTERM withdrawal bound per leaf. FRR runs SPF at once (throttle 0 ms initial delay), so
 * 1 s holds. BIRD recomputes routes only on its `tick` (1 s, the minimum it accepts), so the
 * route leaves on the first tick after our flush arrives: up to 1 s plus the flush and our 10 ms
 * poll; allow 150 ms for those rather than fail on BIRD's schedule.
 */
export function withdrawalBoundMs(l: LeafView): number {
  return l.protocol === 'bird' ? 1150 : 1000;
}

export interface RestartOptions {
  /** How long each leaf may take to route the restarted node's new prefix. */
  routeTimeoutMs?: number;
  /** How long the stale prefix may stay at a leaf after the crash restart routed the new one. */
  staleTimeoutMs?: number;
  /** Pause between Full after the first restart and the crash. */
  settleBeforeCrashMs?: number;
  /** Further checks once the crash restart left no trace of the old prefix (before the stop). */
  afterCrash?: () => Promise<void>;
}

/**
 * The shutdown and restart half of every daemon interop scenario, once the node announced
 * 198.19.1.0/24 and the leafs installed it:
 *   1. SIGTERM → gone from every leaf within 1 s, exit 0 within 5 s (the shutdown contract);
 *   2. restart announcing 198.19.2.0/24 → the leafs route it and not the old one;
 *   3. SIGKILL, restart announcing 198.19.3.0/24 → the stale 198.19.2.0/24 leaves every leaf
 *      within a few seconds (fight-back, RFC 2328 13.4), not at MaxAge.
 */
export async function shutdownAndRestarts(
  t: Test,
  node: PodrouteNode,
  leafs: readonly LeafView[],
  configFor: (prefix: string) => Record<string, unknown>,
  neighbors: readonly string[],
  opts: RestartOptions = {},
): Promise<void> {
  const { routeTimeoutMs = 30_000, staleTimeoutMs = 15_000, settleBeforeCrashMs = 500 } = opts;
  // The common case: our last origination is not within MinLSArrival of the signal.
  await sleep(1500);
  const w = await sigtermWithdrawal(
    node,
    leafs.map((l) => l.ns),
    '198.19.1.0/24',
  );
  const gone = w.goneMs.map((m) => m.toFixed(0)).join(', ');
  t.comment(`SIGTERM → route gone from leafs ${gone} ms, exit ${w.exitMs.toFixed(0)} ms`);
  t.comment(drainTimeline(node));
  for (const [i, ms] of w.goneMs.entries()) {
    const bound = withdrawalBoundMs(leafs[i]!);
    t.ok(ms <= bound, `withdrawn from ${leafs[i]!.ns.shortName} within ${bound} ms (${ms.toFixed(0)} ms)`);
  }
  t.equal(w.exit.code, 0, 'exit 0');
  t.ok(w.exitMs < 5000, `exited within 5 s (${w.exitMs.toFixed(0)} ms)`);

  // Restart with another prefix after the drain: the leafs still hold our (drained) router-LSA
  // with a higher sequence number than a fresh start's; the new prefix must replace it.
  node.setConfig(configFor('198.19.2.0/24'));
  let at = Date.now();
  await node.start();
  for (const l of leafs) await waitRoute(l.ns, '198.19.2.0/24', l.protocol, routeTimeoutMs);
  t.comment(`restart after drain → new prefix at every leaf after ${Date.now() - at} ms`);
  t.comment(restartTimeline(node, at));
  for (const l of leafs) t.equal(await l.ns.route('198.19.1.0/24'), undefined, 'old prefix absent');

  // Crash (SIGKILL: no drain) and restart with a third prefix.
  await waitNeighborsFull(node, neighbors);
  if (settleBeforeCrashMs > 0) await sleep(settleBeforeCrashMs);
  await node.kill();
  node.setConfig(configFor('198.19.3.0/24'));
  at = Date.now();
  await node.start();
  for (const l of leafs) {
    await waitRoute(l.ns, '198.19.3.0/24', l.protocol, routeTimeoutMs);
    await waitNoRoute(l.ns, '198.19.2.0/24', staleTimeoutMs);
  }
  const fought = Date.now() - at;
  t.comment(`crash + restart → stale prefix gone, new one present at every leaf after ${fought} ms`);
  t.comment(restartTimeline(node, at));
  t.ok(fought < 15_000, `no trace of the old prefix within a few seconds (${fought} ms)`);
  await opts.afterCrash?.();
  await node.stop();
}
