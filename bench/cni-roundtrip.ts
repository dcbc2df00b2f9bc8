/**
 * CNI round trips against a running daemon (goal: ≥ 2,000 ADD+DEL pairs/s, p99 under 20 ms).
 *
 *   npx tsx bench/cni-roundtrip.ts [seconds per case, default 5] [plugin exec pairs, default 50]
 *
 * The daemon is the real one (`bin/podroute run`, build first: npm run build) in a lab namespace,
 * with IPAM on a file store. No BGP, no OSPF, routes.manage false: the figures are the IPAM API
 * path only. It runs twice: with its store and node state on disk (/tmp: every ADD and DEL is made
 * durable by the state file's fsync'd group commit before the daemon answers), and on tmpfs
 * (/dev/shm: fsync is free), which shows what the API costs without the disk.
 *
 * Two measurements, reported separately because they differ by orders of magnitude:
 * 1. API round trip: what `bin/podroute-cni` does per call (one HTTP request over the unix
 *    socket, `callApi`), made in-process here, at concurrency 1 and 16 (the runtime may run
 *    several CNI calls at once).
 * 2. Plugin exec: the runtime starts `bin/podroute-cni` (a static C executable that forwards the
 *    call to the daemon's `POST /cni/exec`) for every call; that process start is paid per ADD and
 *    per DEL. bench/cni-exec.ts compares it with a bare Node start.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { daemonEnv, Lab, REPO_ROOT, startPodroute } from '../lab/fixture/index.js';
import { callApi } from '../src/api/client.js';
import { fmt, markdownTable } from './lib/stats.js';

const seconds = Number(process.argv[2] ?? 5);
const execs = Number(process.argv[3] ?? 50);

function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface CaseResult {
  name: string;
  pairs: number;
  ms: number;
  /** Per ADD+DEL pair, ms, sorted. */
  lat: number[];
  errors: number;
}

async function apiCase(
  socket: string,
  concurrency: number,
  runSeconds: number,
  tag: string,
  where = '',
): Promise<CaseResult> {
  const lat: number[] = [];
  let errors = 0;
  let seq = 0;
  const start = performance.now();
  const end = start + runSeconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const body = { containerId: `${tag}-${seq++}`, ifname: 'eth0', args: {} };
        const t0 = performance.now();
        const add = await callApi(socket, 'POST', '/cni/add', body, 10_000);
        const del = await callApi(socket, 'POST', '/cni/del', body, 10_000);
        lat.push(performance.now() - t0);
        if (add.status !== 200 || del.status !== 200) errors++;
      }
    }),
  );
  return {
    name: `API (${where}), concurrency ${concurrency}`,
    pairs: lat.length,
    ms: performance.now() - start,
    lat: lat.sort((a, b) => a - b),
    errors,
  };
}

/** Runs the plugin executable once, as a runtime would (config on stdin, the rest in the environment). */
function execPlugin(
  command: 'ADD' | 'DEL' | 'VERSION',
  containerId: string,
  socket: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(`${REPO_ROOT}/bin/podroute-cni`, [], {
      env: daemonEnv({
        CNI_COMMAND: command,
        CNI_CONTAINERID: containerId,
        CNI_NETNS: '/var/run/netns/bench',
        CNI_IFNAME: 'eth0',
        CNI_PATH: `${REPO_ROOT}/bin`,
      }),
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? -1));
    child.stdin.end(
      JSON.stringify({ cniVersion: '1.0.0', name: 'pods', type: 'ptp', ipam: { type: 'podroute', socket } }),
    );
  });
}

/** VERSION never calls the daemon: the cost of starting the plugin alone. */
async function versionCase(socket: string, n: number): Promise<CaseResult> {
  const lat: number[] = [];
  let errors = 0;
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    if ((await execPlugin('VERSION', '', socket)) !== 0) errors++;
    lat.push(performance.now() - t0);
  }
  return {
    name: 'plugin exec VERSION only (no daemon call), per exec',
    pairs: lat.length,
    ms: performance.now() - start,
    lat: lat.sort((a, b) => a - b),
    errors,
  };
}

async function execCase(socket: string, concurrency: number, n: number): Promise<CaseResult> {
  const lat: number[] = [];
  let errors = 0;
  let seq = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (seq < n) {
        const id = `exec-${concurrency}-${seq++}`;
        const t0 = performance.now();
        const a = await execPlugin('ADD', id, socket);
        const d = await execPlugin('DEL', id, socket);
        lat.push(performance.now() - t0);
        if (a !== 0 || d !== 0) errors++;
      }
    }),
  );
  return {
    name: `plugin exec, concurrency ${concurrency}`,
    pairs: lat.length,
    ms: performance.now() - start,
    lat: lat.sort((a, b) => a - b),
    errors,
  };
}

async function daemon(lab: Lab, name: string, dir: string) {
  const ns = await lab.addNamespace(name);
  return startPodroute(ns, {
    config: {
      node: { name, routerId: '198.18.0.1' },
      routes: { manage: false },
      ipam: {
        store: `file://${dir}/ipam.json`,
        stateDir: dir,
        quarantine: 0,
        networks: [{ name: 'pods', cidr: '198.18.0.0/16', blockSize: 24 }],
      },
    },
  });
}

const lab = await Lab.create();
const shm = mkdtempSync('/dev/shm/podroute-bench-');
lab.onDestroy(() => rmSync(shm, { recursive: true, force: true }));
try {
  const disk = await daemon(lab, 'disk', lab.makeDir('state'));
  const tmpfs = await daemon(lab, 'tmpfs', shm);
  const results: CaseResult[] = [];
  for (const [where, node] of [
    ['disk', disk],
    ['tmpfs', tmpfs],
  ] as const) {
    // Warm-up: the daemon's JIT and the first block claim are not part of the steady state.
    await apiCase(node.socketPath, 4, 1, `warm-${where}`);
    for (const c of [1, 16]) results.push(await apiCase(node.socketPath, c, seconds, `api${c}`, where));
  }
  results.push(await versionCase(tmpfs.socketPath, execs));
  for (const c of [1, 2]) results.push(await execCase(tmpfs.socketPath, c, execs));
  const rows = results.map((r) => [
    r.name,
    String(r.pairs),
    fmt((r.pairs / r.ms) * 1000, 1),
    fmt(pct(r.lat, 50), 2),
    fmt(pct(r.lat, 99), 2),
    fmt(r.lat[r.lat.length - 1] ?? Number.NaN, 2),
    String(r.errors),
  ]);
  console.log(
    markdownTable(['CNI ADD+DEL pairs', 'pairs', 'pairs/s', 'p50 ms', 'p99 ms', 'max ms', 'errors'], rows),
  );
  console.log(
    `\nload average at the end: ${(await import('node:os'))
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await lab.destroy();
}
