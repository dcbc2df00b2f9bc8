/**
 * What the topology end-to-end tests share: a lab brought up from a containerlab file with the real
 * `bin/podroute lab` commands (one `up` per topology, shared by all its assertions), `lab check` read
 * as JSON, and the proof that `lab down` left nothing behind — no namespace, root-namespace link,
 * process, FRR run dir, temp dir or state file of that lab.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import type { CheckReport } from '../../lab/check.js';
import {
  CLEAN_NODE,
  daemonEnv,
  type ExecResult,
  type LabState,
  REPO_ROOT,
  run,
} from '../../lab/fixture/index.js';
import type { PodMeta } from '../../lab/pods.js';
import { metaOf, pidAlive, readState, STATE_DIR } from '../../lab/state.js';
import type { NodeMeta } from '../../lab/topology.js';

export const CLAB = join(REPO_ROOT, 'containerlab');
const BIN = join(REPO_ROOT, 'bin', 'podroute');

/** `bin/podroute ARGS` as an operator runs it (the test runner's NODE_OPTIONS removed). */
export function podroute(args: readonly string[], timeoutMs = 120_000): Promise<ExecResult> {
  return run(CLEAN_NODE[0], [...CLEAN_NODE.slice(1), BIN, ...args], {
    allowFail: true,
    timeoutMs,
    env: daemonEnv(),
    cwd: REPO_ROOT,
  });
}

/** Link names in the root namespace (a lab must add none that outlive it). */
export function rootLinks(): Promise<Set<string>> {
  return run('ip', ['-o', 'link', 'show']).then(
    (r) =>
      new Set(
        r.stdout
          .split('\n')
          .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
          .filter(Boolean),
      ),
  );
}

/** Processes whose command line names the lab (its namespaces or its temp dir). */
export function labProcesses(name: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    if (cmd.includes(` ${name}-`) || cmd.includes(`podroute-lab-${name}-`) || cmd.includes(`--name ${name} `))
      out.push(`${pid}: ${cmd.slice(0, 160)}`);
  }
  return out;
}

export interface UpLab {
  name: string;
  /** `lab up` wall time, seconds. */
  upSeconds: number;
  upOutput: string;
  state: LabState;
  nodes: NodeMeta[];
  pods: PodMeta[];
  /** `lab check --json` (with `--wait`), its exit code and the seconds it took. */
  check(
    waitS?: number,
  ): Promise<{ code: number; report: CheckReport | undefined; seconds: number; text: string }>;
  /** `lab down`, then every check that nothing is left (asserted on `t`). */
  down(t: Test): Promise<void>;
}

/**
 * `bin/podroute lab up FILE --name <random>`; the lab is removed in `t`'s teardown whatever happens.
 * Throws (failing the test) when `up` fails, with its output.
 */
export async function upLab(t: Test, file: string, prefix = 'h'): Promise<UpLab> {
  const name = `${prefix}${randomBytes(3).toString('hex')}`;
  const linksBefore = await rootLinks();
  let downDone = false;
  t.teardown(async () => {
    if (!downDone) await podroute(['lab', 'down', name]);
  });
  const t0 = Date.now();
  const up = await podroute(['lab', 'up', join(CLAB, file), '--name', name], 180_000);
  const upSeconds = (Date.now() - t0) / 1000;
  if (up.code !== 0) throw new Error(`lab up ${file} exited ${up.code}:\n${up.stdout}\n${up.stderr}`);
  const state = readState(name);
  if (!state) throw new Error(`lab up ${file}: no state file for ${name}\n${up.stdout}`);
  const meta = metaOf(state);
  const lab: UpLab = {
    name,
    upSeconds,
    upOutput: up.stdout,
    state,
    nodes: meta.nodes ?? [],
    pods: meta.pods ?? [],
    async check(waitS = 0) {
      const c0 = Date.now();
      const r = await podroute(
        ['lab', 'check', name, '--json', '--wait', String(waitS)],
        (waitS + 60) * 1000,
      );
      let report: CheckReport | undefined;
      try {
        report = JSON.parse(r.stdout) as CheckReport;
      } catch {
        report = undefined;
      }
      return { code: r.code, report, seconds: (Date.now() - c0) / 1000, text: `${r.stdout}${r.stderr}` };
    },
    async down(t) {
      const owner = state.ownerPid;
      const tmp = state.tmpDir;
      const r = await podroute(['lab', 'down', name]);
      downDone = true;
      t.equal(r.code, 0, `lab down ${name} exits 0`);
      const ns = (await run('ip', ['netns', 'list'])).stdout
        .split('\n')
        .filter((l) => l.startsWith(`${name}-`));
      t.same(ns, [], 'no namespace left');
      const linksAfter = await rootLinks();
      t.same(
        [...linksAfter].filter((l) => !linksBefore.has(l) && l.includes(name)),
        [],
        'no veth or bridge left in the root namespace',
      );
      t.same(labProcesses(name), [], 'no process of the lab left');
      // A zombie (an exited runner not yet reaped by whoever inherited it) counts as gone.
      t.notOk(pidAlive(owner), `the runner (pid ${owner}) is gone`);
      t.same(
        readdirSync(STATE_DIR).filter((f) => f.startsWith(`${name}.`)),
        [],
        `no state file of ${name} left in ${STATE_DIR}`,
      );
      t.notOk(existsSync(tmp), 'the lab temp dir is removed');
      t.same(
        readdirSync(tmpdir()).filter((f) => f.startsWith(`podroute-lab-${name}-`)),
        [],
        'no temp dir of the lab left',
      );
      t.same(
        existsSync('/var/run/frr') ? readdirSync('/var/run/frr').filter((d) => d.startsWith(`${name}-`)) : [],
        [],
        'no FRR run dir left',
      );
    },
  };
  return lab;
}

/** The netns of a node of the lab. */
export function netnsOf(lab: UpLab, node: string): string {
  const n = lab.nodes.find((m) => m.name === node);
  if (!n) throw new Error(`lab ${lab.name} has no node ${node}`);
  return n.netns;
}

/** Kernel routes (main table, IPv4) of a lab node, as `ip -j route` gives them. */
export async function routesOf(
  lab: UpLab,
  node: string,
): Promise<{ dst: string; gateway?: string; nexthops?: { gateway?: string }[] }[]> {
  const r = await run('ip', ['-n', netnsOf(lab, node), '-j', '-4', 'route', 'show']);
  return JSON.parse(r.stdout || '[]') as {
    dst: string;
    gateway?: string;
    nexthops?: { gateway?: string }[];
  }[];
}

/** The podroute daemon of a node: its pid and its config file (from its command line). */
export async function podroutePid(
  lab: UpLab,
  node: string,
): Promise<{ pid: number; config: string } | undefined> {
  const pids = (await run('ip', ['netns', 'pids', netnsOf(lab, node)])).stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    let argv: string[] = [];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const i = argv.indexOf('--config');
    if (argv.includes('run') && i > 0 && /podroute/.test(argv[i + 1] ?? ''))
      return { pid: Number(pid), config: argv[i + 1]! };
  }
  return undefined;
}

/** `bin/podroute status --json` of a node (its socket from the lab state). */
export async function nodeStatus(lab: UpLab, node: string): Promise<{ announced: string[] } | undefined> {
  const socket = lab.nodes.find((n) => n.name === node)?.socket;
  if (!socket) return undefined;
  const r = await podroute(['status', '--json', '--socket', socket], 10_000);
  if (r.code !== 0) return undefined;
  return JSON.parse(r.stdout) as { announced: string[] };
}
