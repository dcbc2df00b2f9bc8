/**
 * Lab convergence benchmark: for each containerlab topology, `bin/podroute lab up` (its wall time),
 * then `lab check` repeated back to back until no pod pair loses a ping: the seconds from `up`
 * returning to the first passing check (the check's own time included, as a user waiting for a
 * green matrix sees it). Then `lab down`. Goals (issue 9): under 5 s for spine-leaf-bgp, under 15 s
 * for rack-scale; `lab up` wall time of rack-scale reported.
 *
 *   npx tsx bench/lab-converge.ts [--runs 3] [--only spine-leaf-bgp,rack-scale] [--timeout-s 60] [--verbose]
 *
 * Runs are interleaved across topologies (bgp, ospf, ..., bgp, ...) so load spreads over all. Needs
 * root, FRR, etcd, ping and a built podroute (`npm run build`). Each lab gets a random name, and is
 * removed when its run ends, also on Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLEAN_NODE, daemonEnv, interopGate, REPO_ROOT, run } from '../lab/fixture/index.js';
import { fmt, markdownTable, summarize } from './lib/stats.js';

const TOPOLOGIES = ['spine-leaf-bgp', 'spine-leaf-ospf', 'dual-homed', 'multi-segment', 'rack-scale'];
/** Seconds from `up` returning to a passing check, per issue 9. */
const GOALS: Record<string, number> = { 'spine-leaf-bgp': 5, 'rack-scale': 15 };

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    only: { type: 'string', default: TOPOLOGIES.join(',') },
    'timeout-s': { type: 'string', default: '60' },
    verbose: { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const ONLY = args.only.split(',').filter(Boolean);
const TIMEOUT_S = Number(args['timeout-s']);
for (const t of ONLY)
  if (!TOPOLOGIES.includes(t)) throw new Error(`--only: unknown topology ${t} (${TOPOLOGIES.join(', ')})`);

const gate = interopGate(['frr', 'etcd', 'ping', 'podroute']);
if (gate.skip) {
  process.stderr.write(`lab-converge: cannot run: ${gate.skip}\n`);
  process.exit(1);
}

const BIN = join(REPO_ROOT, 'bin', 'podroute');
const podroute = (argv: readonly string[], timeoutMs = 300_000) =>
  run(CLEAN_NODE[0], [...CLEAN_NODE.slice(1), BIN, ...argv], {
    allowFail: true,
    timeoutMs,
    env: daemonEnv(),
    cwd: REPO_ROOT,
  });
const log = (line: string): void => {
  if (args.verbose) process.stderr.write(`${line}\n`);
};

let current: string | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    const name = current;
    process.stderr.write(`${sig}: removing ${name ?? 'nothing'}\n`);
    void (name ? podroute(['lab', 'down', name]) : Promise.resolve()).finally(() => process.exit(130));
  });
}

interface Run {
  up: number;
  converge: number;
  checks: number;
  pairs: number;
}

async function once(topology: string): Promise<Run> {
  const name = `b${randomBytes(3).toString('hex')}`;
  current = name;
  try {
    const t0 = performance.now();
    const up = await podroute([
      'lab',
      'up',
      join(REPO_ROOT, 'containerlab', `${topology}.clab.yml`),
      '--name',
      name,
    ]);
    const upS = (performance.now() - t0) / 1000;
    if (up.code !== 0) throw new Error(`${topology}: lab up exited ${up.code}\n${up.stdout}${up.stderr}`);
    const t1 = performance.now();
    let checks = 0;
    for (;;) {
      checks++;
      const c = await podroute(['lab', 'check', name, '--json']);
      const report = JSON.parse(c.stdout || '{}') as { lost?: number; pairs?: number };
      const elapsed = (performance.now() - t1) / 1000;
      log(
        `${topology} ${name}: check ${checks}: ${report.lost} of ${report.pairs} lost at ${elapsed.toFixed(2)} s`,
      );
      if (c.code === 0 && report.lost === 0)
        return { up: upS, converge: elapsed, checks, pairs: report.pairs ?? 0 };
      if (elapsed > TIMEOUT_S) throw new Error(`${topology}: lab check still losing after ${TIMEOUT_S} s`);
    }
  } finally {
    await podroute(['lab', 'down', name]);
    current = undefined;
  }
}

const results = new Map<string, Run[]>(ONLY.map((t) => [t, []]));
for (let i = 0; i < RUNS; i++) {
  for (const topology of ONLY) {
    const r = await once(topology);
    log(
      `${topology} run ${i + 1}: up ${r.up.toFixed(1)} s, up -> check ok ${r.converge.toFixed(2)} s (${r.checks} checks)`,
    );
    results.get(topology)!.push(r);
  }
}

const range = (v: number[], d: number): string => {
  const s = summarize(v);
  return `${fmt(s.median, d)} (${fmt(s.min, d)}–${fmt(s.max, d)})`;
};
process.stdout.write(
  `lab-converge: ${RUNS} run(s) each; ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ` +
    `${(totalmem() / 2 ** 30).toFixed(1)} GiB, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the end\n\n`,
);
process.stdout.write(
  `${markdownTable(
    ['topology', 'lab up, s', 'up → check passes, s', 'checks', 'pairs', 'goal'],
    [...results].map(([t, rs]) => {
      const goal = GOALS[t];
      const med = summarize(rs.map((r) => r.converge)).median;
      return [
        `\`${t}\``,
        range(
          rs.map((r) => r.up),
          1,
        ),
        range(
          rs.map((r) => r.converge),
          2,
        ),
        range(
          rs.map((r) => r.checks),
          0,
        ),
        String(rs[0]?.pairs ?? 0),
        goal === undefined ? '–' : `< ${goal} s: ${med < goal ? 'met' : 'missed'}`,
      ];
    }),
  )}\n`,
);
