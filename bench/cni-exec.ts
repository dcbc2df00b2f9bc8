/**
 * What one CNI plugin exec costs against bare Node (goal: one exec within 1.05× of `node -e 0`,
 * an ADD+DEL pair within 2.2× of it), measured side by side in one run.
 *
 *   npx tsx bench/cni-exec.ts [rounds, default 200]
 *
 * kubelet (through the runtime) execs the plugin once per pod ADD and once per DEL (CNI SPEC.md
 * "Section 3: Execution Protocol"), so its start-up is on every pod's critical path. One real
 * daemon (`bin/podroute run`, build first: npm run build) in a lab namespace, IPAM state on tmpfs,
 * quarantine 0. The plugin is the static executable `npm run build` compiles
 * (src/cni/shim/podroute-cni.c): it answers VERSION itself and hands ADD and DEL to the daemon
 * (POST /cni/exec), which runs the plugin logic in-process. Each round runs, in an order rotated
 * round by round so none always follows another: `node -e 0`; `bin/podroute-cni` VERSION
 * (start-up only, no daemon call); and an ADD then a DEL through `bin/podroute-cni` against the
 * daemon (the pair includes the daemon's IPAM work). Wall time is spawn to exit; CPU time is the
 * children's user + system time the kernel accounts to this process (/proc/self/stat cutime and
 * cstime, 10 ms ticks: only the mean over many runs is meaningful).
 *
 * Children get a clean environment (PATH and the CNI variables), as a runtime passes: this
 * machine's shell sets NODE_EXTRA_CA_CERTS, which alone makes every node start read and parse a
 * CA bundle (about 70 ms of CPU each here).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Lab, REPO_ROOT, startPodroute } from '../lab/fixture/index.js';
import { fmt, markdownTable } from './lib/stats.js';

const rounds = Number(process.argv[2] ?? 200);

/** Children's CPU time so far, ms (fields 16 and 17 of /proc/self/stat, in USER_HZ = 100 ticks). */
function childCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10;
}

interface Run {
  ms: number;
  cpuMs: number;
  code: number;
}

function exec(file: string, args: string[], env: Record<string, string>, stdin: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const cpu0 = childCpuMs();
    const t0 = performance.now();
    const child = spawn(file, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
    child.stdout.resume();
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ ms: performance.now() - t0, cpuMs: childCpuMs() - cpu0, code: code ?? -1 }),
    );
    child.stdin.end(stdin);
  });
}

const pct = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;

const load0 = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
const lab = await Lab.create();
const shm = mkdtempSync('/dev/shm/podroute-bench-');
lab.onDestroy(() => rmSync(shm, { recursive: true, force: true }));
try {
  const ns = await lab.addNamespace('cniexec');
  const daemon = await startPodroute(ns, {
    config: {
      node: { name: 'cniexec', routerId: '198.18.0.1' },
      routes: { manage: false },
      ipam: {
        store: `file://${shm}/ipam.json`,
        stateDir: shm,
        quarantine: 0,
        networks: [{ name: 'pods', cidr: '198.18.0.0/16', blockSize: 24 }],
      },
    },
  });
  const plugin = `${REPO_ROOT}/bin/podroute-cni`;
  const conf = JSON.stringify({
    cniVersion: '1.1.0',
    name: 'pods',
    type: 'ptp',
    ipam: { type: 'podroute', socket: daemon.socketPath },
  });
  const cni = (command: string, id: string) => ({
    CNI_COMMAND: command,
    CNI_CONTAINERID: id,
    CNI_NETNS: '/var/run/netns/bench',
    CNI_IFNAME: 'eth0',
    CNI_PATH: `${REPO_ROOT}/bin`,
  });
  let seq = 0;
  const kinds: [string, () => Promise<Run>][] = [
    ['node -e 0', () => exec(process.execPath, ['-e', '0'], {}, '')],
    ['bin/podroute-cni VERSION (C executable)', () => exec(plugin, [], cni('VERSION', ''), conf)],
    [
      'bin/podroute-cni ADD + DEL (pair)',
      async () => {
        const id = `exec-${seq++}`;
        const a = await exec(plugin, [], cni('ADD', id), conf);
        const d = await exec(plugin, [], cni('DEL', id), conf);
        return { ms: a.ms + d.ms, cpuMs: a.cpuMs + d.cpuMs, code: a.code || d.code };
      },
    ],
  ];
  // Warm-up: the page cache, the daemon's first block claim and its JIT.
  for (let i = 0; i < 5; i++) for (const [, run] of kinds) await run();
  const runs = new Map<string, Run[]>(kinds.map(([k]) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < kinds.length; i++) {
      const [name, run] = kinds[(r + i) % kinds.length]!;
      runs.get(name)!.push(await run());
    }
  }
  const bare = runs.get('node -e 0')!;
  const bareMs = bare.map((x) => x.ms).sort((a, b) => a - b);
  const bareCpu = bare.reduce((s, x) => s + x.cpuMs, 0) / bare.length;
  const rows = kinds.map(([name]) => {
    const rs = runs.get(name)!;
    const ms = rs.map((x) => x.ms).sort((a, b) => a - b);
    const cpu = rs.reduce((s, x) => s + x.cpuMs, 0) / rs.length;
    return [
      name,
      String(rs.length),
      fmt(pct(ms, 50), 1),
      fmt(pct(ms, 90), 1),
      `${fmt(pct(ms, 50) / pct(bareMs, 50), 3)}×`,
      `${fmt(pct(ms, 90) / pct(bareMs, 90), 3)}×`,
      fmt(cpu, 1),
      `${fmt(cpu / bareCpu, 3)}×`,
      String(rs.filter((x) => x.code !== 0).length),
    ];
  });
  console.log(
    markdownTable(
      ['exec', 'runs', 'p50 ms', 'p90 ms', 'p50 / node', 'p90 / node', 'CPU ms', 'CPU / node', 'errors'],
      rows,
    ),
  );
  console.log(
    `\nnode ${process.version}, load average at the start: ${load0}, at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await lab.destroy();
}
