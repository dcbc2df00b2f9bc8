/**
 * Steady-state footprint of the node-side speaker: a node dual-homed to two FRR leafs (bgpd +
 * bfdd, a 100/100/3 BFD profile), one IPv4 eBGP session to each with BFD, both leafs sending a
 * default route and the same N prefixes (default 1,000 /28s in 198.19.128.0/18, kernel blackholes
 * redistributed), so the node accepts 2 × N paths and installs N ECMP routes (two next hops each)
 * plus the ECMP default. The node is podroute (`accept: all`, `bfd: { minRx: 100, minTx: 100,
 * multiplier: 3 }`), then FRR bgpd + bfdd + zebra doing the same job (`maximum-paths 2`, same
 * timers; staticd holds its blackhole for the announced prefix), alternating, in the same run.
 * Lab and configurations: test/interop/bfd-fabric.ts (leafs, FRR node, podroute) with the prefixes
 * added here.
 *
 * Per run, once both sessions are Established, BFD is Up at both ends of both and the node's kernel
 * has all N routes with both next hops, and after `--settle-s`: RSS (VmRSS, /proc) sampled every
 * 5 s for `--idle-s` seconds (median), CPU seconds (utime + stime) over that idle window as % of
 * one core, and the peak RSS (VmHWM) at its end; then checks nothing was lost meanwhile.
 *
 *   npx tsx bench/rss-learned.ts [--runs 3] [--routes 1000] [--idle-s 60] [--settle-s 10]
 *                                [--only podroute,frr]
 *
 * Needs root, FRR (zebra, bgpd, bfdd, staticd) and a built podroute (`npm run build`).
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import {
  type FrrRouter,
  Lab,
  type ManagedProcess,
  type Namespace,
  REPO_ROOT,
  startFrr,
  startPodroute,
  waitFor,
} from '../lab/fixture/index.js';
import type { BfdSessionStatus } from '../src/bfd/index.js';
import {
  frrNodeConfig,
  LEAF_PEERS,
  leafConfig,
  NODE_ADDRS,
  podrouteConfig,
  type Timers,
} from '../test/interop/bfd-fabric.js';
import { addUplink, waitEstablished } from '../test/interop/bgp-helpers.js';
import { commOf, cpuSeconds, fmt, markdownTable, memoryMiB, sleep, summarize } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    routes: { type: 'string', default: '1000' },
    'idle-s': { type: 'string', default: '60' },
    'settle-s': { type: 'string', default: '10' },
    only: { type: 'string', default: 'podroute,frr' },
  },
});
const RUNS = Number(args.runs);
const ROUTES = Number(args.routes);
const IDLE_MS = Number(args['idle-s']) * 1000;
const SETTLE_MS = Number(args['settle-s']) * 1000;
const SAMPLE_MS = 5000;
const TIMERS: Timers = { bfd: true, keepalive: 3, hold: 9 };
if (ROUTES > 1024) throw new Error('--routes: at most 1024 /28s fit 198.19.128.0/18');

type Kind = 'podroute' | 'frr';

/** The i-th learned prefix: /28s from 198.19.128.0 (the lab's 198.18.0.0/15, clear of the rest). */
function learned(i: number): string {
  const n = (198 << 24) + (19 << 16) + (128 << 8) + i * 16;
  return `${[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')}/28`;
}
const PREFIXES = Array.from({ length: ROUTES }, (_, i) => learned(i));

/**
 * The shared leaf configuration, redistributing the N prefixes from the leaf's kernel (blackholes
 * added with one `ip -batch`: as FRR static routes, 1,000 config lines kept staticd from answering
 * for over a minute on this loaded machine).
 */
function leafWithRoutes(k: number): string {
  const base = leafConfig(k, TIMERS);
  const af = ' exit-address-family';
  if (!base.includes(af)) throw new Error('leafConfig changed its layout');
  return base.replace(af, `  redistribute kernel\n${af}`);
}

async function addBlackholes(lab: Lab, ns: Namespace): Promise<void> {
  const file = lab.writeFile(
    `blackholes-${ns.shortName}.batch`,
    `${PREFIXES.map((p) => `route add blackhole ${p}`).join('\n')}\n`,
  );
  await ns.ip(['-batch', file]);
}

/** podroute's configuration in the BFD lab, accepting everything the leafs send. */
function podrouteAcceptAll() {
  const c = podrouteConfig(TIMERS);
  return { ...c, bgp: { ...c.bgp, peers: c.bgp.peers.map((p) => ({ ...p, accept: 'all' })) } };
}

/** How many of the N prefixes the node's kernel routes via both leafs. */
async function installedEcmp(ns: Namespace): Promise<number> {
  const want = new Set(PREFIXES);
  let n = 0;
  for (const r of await ns.routes(4)) {
    const hops = new Set((r.nexthops ?? []).map((h) => h.gateway));
    if (want.has(r.dst) && LEAF_PEERS.every((p) => hops.has(p))) n++;
  }
  return n;
}

interface Measured {
  /** The processes doing the job, by name (podroute: one). */
  procs: { name: string; proc: ManagedProcess }[];
  bfdUp: () => Promise<boolean>;
}

async function podrouteNode(nodeNs: Namespace): Promise<Measured> {
  const node = await startPodroute(nodeNs, { config: podrouteAcceptAll() });
  await waitEstablished(node, LEAF_PEERS, 30_000);
  return {
    procs: [{ name: 'podroute', proc: node.process! }],
    bfdUp: async () => {
      const s: BfdSessionStatus[] = (await node.status()).bfd?.sessions ?? [];
      return LEAF_PEERS.every((p) => s.find((x) => x.peer === p)?.state === 'Up');
    },
  };
}

async function frrNode(nodeNs: Namespace): Promise<Measured> {
  const frr = await startFrr(nodeNs, { config: frrNodeConfig(TIMERS) });
  return {
    procs: frr.processes.map((p) => ({ name: p.name.replace(/^.*-/, ''), proc: p })),
    bfdUp: () => frrBfdUp(frr, LEAF_PEERS),
  };
}

async function frrBfdUp(frr: FrrRouter, peers: readonly string[]): Promise<boolean> {
  const j = await frr.vtyshJson<{ peer: string; status: string }[]>('show bfd peers json');
  return peers.every((p) => j.find((x) => x.peer === p)?.status === 'up');
}

interface Sample {
  /** Median RSS over the idle window, per process, MiB. */
  rss: Record<string, number>;
  /** Peak RSS (VmHWM) at the end, per process, MiB. */
  peak: Record<string, number>;
  /** CPU over the idle window, % of one core, per process. */
  cpu: Record<string, number>;
  /** ms from the node's start until all N routes were in its kernel with both next hops. */
  installMs: number;
}

async function oneRun(kind: Kind): Promise<Sample> {
  const lab = await Lab.create();
  try {
    const leafNs = [await lab.addNamespace('leaf1'), await lab.addNamespace('leaf2')];
    const nodeNs = await lab.addNamespace('node');
    await addUplink(lab, leafNs[0]!, nodeNs, 0, 'eth1');
    await addUplink(lab, leafNs[1]!, nodeNs, 1, 'eth2');
    for (const ns of leafNs) await addBlackholes(lab, ns);
    const leafs = [
      await startFrr(leafNs[0]!, { config: leafWithRoutes(0) }),
      await startFrr(leafNs[1]!, { config: leafWithRoutes(1) }),
    ];
    const t0 = performance.now();
    const m = kind === 'podroute' ? await podrouteNode(nodeNs) : await frrNode(nodeNs);
    await waitFor(async () => (await installedEcmp(nodeNs)) === ROUTES, {
      timeoutMs: 120_000,
      intervalMs: 200,
      what: `${ROUTES} ECMP routes in the node's kernel (${kind})`,
    });
    const installMs = performance.now() - t0;
    await waitFor(m.bfdUp, { timeoutMs: 30_000, intervalMs: 200, what: `${kind}: BFD Up to both leafs` });
    for (const [k, leaf] of leafs.entries())
      await waitFor(() => frrBfdUp(leaf, [NODE_ADDRS[k]!]), {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: `leaf${k + 1}: BFD Up to the node`,
      });
    await sleep(SETTLE_MS);

    for (const { name, proc } of m.procs) {
      const comm = commOf(proc.pid);
      if (kind === 'podroute' ? comm !== 'node' : comm !== name)
        throw new Error(`pid ${proc.pid} of ${name} is ${comm}, not the daemon`);
    }
    const cpu0 = m.procs.map(({ proc }) => cpuSeconds(proc.pid) ?? Number.NaN);
    const samples: number[][] = m.procs.map(() => []);
    const start = performance.now();
    for (;;) {
      for (const [i, { proc }] of m.procs.entries()) samples[i]!.push(memoryMiB(proc.pid)?.rss ?? Number.NaN);
      if (performance.now() - start >= IDLE_MS) break;
      await sleep(Math.min(SAMPLE_MS, IDLE_MS - (performance.now() - start)));
    }
    const idleS = (performance.now() - start) / 1000;
    const out: Sample = { rss: {}, peak: {}, cpu: {}, installMs };
    m.procs.forEach(({ name, proc }, i) => {
      out.rss[name] = summarize(samples[i]!).median;
      out.peak[name] = memoryMiB(proc.pid)?.peak ?? Number.NaN;
      out.cpu[name] = (((cpuSeconds(proc.pid) ?? Number.NaN) - cpu0[i]!) / idleS) * 100;
    });
    // Nothing was lost while idle.
    if ((await installedEcmp(nodeNs)) !== ROUTES || !(await m.bfdUp()))
      throw new Error(`${kind}: routes or BFD lost during the idle window`);
    return out;
  } finally {
    await lab.destroy();
  }
}

const sum = (r: Record<string, number>, names?: readonly string[]) =>
  Object.entries(r)
    .filter(([n]) => !names || names.includes(n))
    .reduce((a, [, v]) => a + v, 0);

function version(cmd: string, argv: string[]): string {
  try {
    return execFileSync(cmd, argv, { encoding: 'utf8', cwd: REPO_ROOT }).split('\n')[0]!.trim();
  } catch {
    return '?';
  }
}

async function main(): Promise<void> {
  const kinds = args.only.split(',').filter((n): n is Kind => n === 'podroute' || n === 'frr');
  const samples: Record<Kind, Sample[]> = { podroute: [], frr: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const k of i % 2 ? [...kinds].reverse() : kinds) {
      const s = await oneRun(k);
      samples[k].push(s);
      const detail = Object.keys(s.rss)
        .map((n) => `${n} ${fmt(s.rss[n]!, 1)} MiB ${fmt(s.cpu[n]!, 2)}%`)
        .join(', ');
      console.error(
        `run ${i + 1}/${RUNS} ${k.padEnd(8)} installed in ${fmt(s.installMs)} ms; ${detail}; load ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
      );
    }
  }
  const med = (v: number[], d = 1) => fmt(summarize(v).median, d);
  const range = (v: number[], d = 1) => {
    const s = summarize(v);
    return `${fmt(s.median, d)} (${fmt(s.min, d)}–${fmt(s.max, d)})`;
  };
  const FRR_JOB = ['zebra', 'bgpd', 'bfdd'];
  const rows: string[][] = [];
  for (const k of kinds) {
    const ss = samples[k];
    const names = k === 'podroute' ? ['podroute'] : FRR_JOB;
    rows.push([
      k === 'podroute' ? 'podroute (one process)' : 'FRR zebra + bgpd + bfdd',
      range(ss.map((s) => sum(s.rss, names))),
      med(ss.map((s) => sum(s.peak, names))),
      range(
        ss.map((s) => sum(s.cpu, names)),
        2,
      ),
      med(
        ss.map((s) => s.installMs / 1000),
        1,
      ),
    ]);
  }
  console.log(
    `\n${RUNS} runs each, ${ROUTES} prefixes from each of 2 leafs (${ROUTES} ECMP routes installed), BFD 100 ms x 3; ` +
      `idle window ${IDLE_MS / 1000} s after ${SETTLE_MS / 1000} s settle; median (min–max)\n`,
  );
  console.log(
    markdownTable(
      ['node-side speaker', 'RSS MiB', 'peak RSS MiB', 'CPU % of a core (idle)', 'start → all installed, s'],
      rows,
    ),
  );
  if (samples.frr.length) {
    const per = Object.keys(samples.frr[0]!.rss).map(
      (n) =>
        `${n} ${med(samples.frr.map((s) => s.rss[n]!))} MiB / ${med(
          samples.frr.map((s) => s.cpu[n]!),
          2,
        )}%`,
    );
    console.log(`\nFRR per daemon (median RSS / CPU): ${per.join(', ')}`);
  }
  const cpu = cpus();
  console.log(
    `\n${new Date().toISOString()}; ${cpu.length} × ${cpu[0]?.model ?? '?'}, ${fmt(totalmem() / 2 ** 30)} GiB; ` +
      `load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}; Node ${process.version}; ${version('/usr/lib/frr/zebra', ['--version'])}; ` +
      `podroute ${version('git', ['rev-parse', '--short', 'HEAD'])}`,
  );
}

await main();
