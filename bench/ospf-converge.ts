/**
 * OSPF convergence benchmark: podroute and BIRD each announce the same prefix over
 * OSPF to one FRR ospfd leaf, point-to-point, normal area, Hello 1 s / Dead 4 s on both ends.
 * Per run:
 *
 *   1. (re)start the FRR leaf, so every run starts from an empty LSDB at the leaf;
 *   2. spawn the announcer in the node namespace → time until the prefix enters the leaf's kernel
 *      table (kernel timestamp from `ip -ts monitor route` in the leaf namespace);
 *   3. settle → SIGTERM → time until the prefix leaves the leaf's kernel table, and when the
 *      process exited. For podroute also when its withdrawal LSU left (its debug log), which splits
 *      the withdrawal into our part (signal → flush sent) and the leaf's (flush → kernel: FRR's SPF
 *      throttle and zebra).
 *
 *   npx tsx bench/ospf-converge.ts [--runs 5] [--settle 3000] [--only podroute,bird] [--verbose]
 *
 * Runs are interleaved (podroute, BIRD, podroute, ...). Needs root, FRR, BIRD 2 and a built podroute
 * (`npm run build`).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type FrrRouter,
  Lab,
  type ManagedProcess,
  type Namespace,
  startFrr,
  startPodroute,
} from '../lab/fixture/index.js';
import { nowMs, RouteMonitor } from './lib/route-monitor.js';
import { fmt, markdownTable, memoryMiB, sleep, summarize } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    settle: { type: 'string', default: '3000' },
    only: { type: 'string', default: 'podroute,bird' },
    verbose: { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const SETTLE_MS = Number(args.settle);
const PREFIX = '198.19.1.0/24';
const LEAF = '198.18.0.1';
const NODE = '198.18.0.2';

export const FRR_LEAF_CONFIG = `frr defaults traditional
hostname leaf
log stdout
interface eth1
 ip ospf network point-to-point
 ip ospf area 0.0.0.0
 ip ospf hello-interval 1
 ip ospf dead-interval 4
router ospf
 ospf router-id ${LEAF}
`;

/** podroute.yaml: the prefix as a stub link of the router-LSA (the default), same timers. */
export const PODROUTE_CONFIG = {
  node: { name: 'node1', routerId: NODE },
  announce: [PREFIX],
  log: { level: 'debug' },
  ospf: {
    interfaces: [{ name: 'eth1', network: 'point-to-point', helloInterval: 1, deadInterval: 4 }],
  },
};

/** BIRD 2.0.12: the same prefix as a stub network of its router-LSA (`stubnet`), same timers. */
export const BIRD_CONFIG = `log stderr all;
router id ${NODE};
protocol device {}
protocol ospf v2 o {
  ipv4 { import none; export none; };
  area 0 {
    stubnet ${PREFIX};
    interface "eth1" { type ptp; hello 1; dead 4; };
  };
}
`;

interface Announcer {
  start(ns: Namespace): Promise<ManagedProcess>;
}

const podroute: Announcer = {
  async start(ns) {
    const node = await startPodroute(ns, { noWait: true, config: PODROUTE_CONFIG });
    return node.process!;
  },
};

const bird: Announcer = {
  async start(ns) {
    ns.lab.writeFile('bird-bench/bird.conf', BIRD_CONFIG);
    const dir = `${ns.lab.tmpDir}/bird-bench`;
    return ns.spawn('bird', 'bird', [
      '-f',
      '-c',
      `${dir}/bird.conf`,
      '-s',
      `${dir}/bird.ctl`,
      '-P',
      `${dir}/bird.pid`,
    ]);
  },
};

interface Sample {
  upMs: number;
  withdrawMs: number;
  exitMs: number;
  rssMiB: number;
  /** podroute: SIGTERM → withdrawal LSU sent (from its log; ms resolution). */
  flushMs?: number;
}

/** podroute's JSON log lines stamped at or after `since` (ms resolution; the log file is shared by runs). */
function logSince(proc: ManagedProcess, since: number): { at: number; msg: string; to?: string }[] {
  const out: { at: number; msg: string; to?: string }[] = [];
  for (const line of readFileSync(proc.logPath, 'utf8').split('\n')) {
    try {
      const j = JSON.parse(line) as { time?: string; msg?: string; to?: string };
      const at = Date.parse(j.time ?? '');
      if (at >= Math.floor(since)) out.push({ at, msg: j.msg ?? '', ...(j.to ? { to: j.to } : {}) });
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/** The first origination logged after "stopping", in ms after `t1`. */
function flushSent(proc: ManagedProcess, t1: number): number | undefined {
  const lines = logSince(proc, t1);
  const stop = lines.findIndex((l) => l.msg.startsWith('stopping'));
  const sent = lines.slice(Math.max(0, stop)).find((l) => /ospf: (originated|flushing)/.test(l.msg));
  return stop >= 0 && sent ? sent.at - t1 : undefined;
}

/** Where podroute's start-up time goes: daemon up, neighbor Full, first instance flooded with it. */
function startPhases(proc: ManagedProcess, t0: number): string {
  const lines = logSince(proc, t0);
  const started = lines.find((l) => l.msg === 'podroute started')?.at;
  const full = lines.find((l) => l.msg === 'ospf: neighbor state' && l.to === 'Full')?.at;
  const orig = full ? lines.find((l) => l.msg === 'ospf: originated' && l.at >= full)?.at : undefined;
  const f = (x: number | undefined) => (x === undefined ? '?' : fmt(x - t0));
  return `daemon up ${f(started)}, Full ${f(full)}, LSA with the adjacency ${f(orig)}`;
}

async function oneRun(
  name: string,
  a: Announcer,
  frr: FrrRouter,
  nodeNs: Namespace,
  mon: RouteMonitor,
): Promise<Sample> {
  await frr.restart();
  await sleep(1000);
  const t0 = nowMs();
  const proc = await a.start(nodeNs);
  const up = await mon.wait('add', PREFIX, t0, 60_000);
  await sleep(SETTLE_MS);
  const rss = memoryMiB(proc.pid)?.rss ?? Number.NaN;
  const t1 = nowMs();
  proc.signal('SIGTERM');
  const down = await mon.wait('del', PREFIX, t1, 30_000);
  const exit = await Promise.race([proc.exited, sleep(10_000).then(() => undefined)]);
  const exitMs = nowMs() - t1;
  if (!exit) await proc.kill();
  const flushMs = name === 'podroute' ? flushSent(proc, t1) : undefined;
  if (name === 'podroute') console.error(`  podroute: ${startPhases(proc, t0)} ms after spawn`);
  if (args.verbose) console.error(proc.tail(15));
  return {
    upMs: up.at - t0,
    withdrawMs: down.at - t1,
    exitMs,
    rssMiB: rss,
    ...(flushMs !== undefined ? { flushMs } : {}),
  };
}

async function main(): Promise<void> {
  const lab = await Lab.create();
  try {
    const leafNs = await lab.addNamespace('leaf');
    const nodeNs = await lab.addNamespace('node');
    await lab.addLink(
      { ns: leafNs, ifname: 'eth1', addresses: [`${LEAF}/30`] },
      { ns: nodeNs, ifname: 'eth1', addresses: [`${NODE}/30`] },
    );
    const frr = await startFrr(leafNs, { config: FRR_LEAF_CONFIG });
    const mon = await RouteMonitor.start(lab, leafNs);
    const announcers: Record<string, Announcer> = { podroute, bird };
    const names = args.only.split(',').filter((n) => n in announcers);
    const samples: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const name of names) {
        const s = await oneRun(name, announcers[name]!, frr, nodeNs, mon);
        samples[name]!.push(s);
        console.error(
          `run ${i + 1}/${RUNS} ${name.padEnd(8)} up ${fmt(s.upMs)} ms, withdrawn ${fmt(s.withdrawMs, 1)} ms` +
            (s.flushMs !== undefined ? ` (flush sent at ${fmt(s.flushMs)} ms)` : '') +
            `, exited ${fmt(s.exitMs)} ms, RSS ${fmt(s.rssMiB, 1)} MiB`,
        );
      }
    }
    const base = (f: (s: Sample) => number) => summarize(samples.podroute?.map(f) ?? []).median;
    const cell = (v: number[], d = 0) => {
      const s = summarize(v);
      return `${fmt(s.median, d)} (${fmt(s.min, d)}–${fmt(s.max, d)})`;
    };
    const ratio = (x: number, b: number): string => (Number.isFinite(b) && b > 0 ? fmt(x / b, 1) : '–');
    const rows = names.map((n) => {
      const ss = samples[n]!;
      const up = ss.map((s) => s.upMs);
      const w = ss.map((s) => s.withdrawMs);
      const fl = ss.flatMap((s) => (s.flushMs !== undefined ? [s.flushMs] : []));
      return [
        n,
        cell(up),
        ratio(
          summarize(up).median,
          base((s) => s.upMs),
        ),
        cell(w, 1),
        ratio(
          summarize(w).median,
          base((s) => s.withdrawMs),
        ),
        fl.length ? cell(fl) : '–',
        cell(ss.map((s) => s.exitMs)),
        cell(
          ss.map((s) => s.rssMiB),
          1,
        ),
      ];
    });
    console.log(`\n${RUNS} runs each, settle ${SETTLE_MS} ms before SIGTERM; median (min–max)\n`);
    console.log(
      markdownTable(
        [
          'announcer',
          'start → leaf kernel, ms',
          '× podroute',
          'SIGTERM → gone from leaf, ms',
          '× podroute',
          'SIGTERM → withdrawal sent, ms',
          'SIGTERM → exit, ms',
          'RSS, MiB',
        ],
        rows,
      ),
    );
  } finally {
    await lab.destroy();
  }
}

await main();
