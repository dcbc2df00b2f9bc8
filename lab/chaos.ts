/**
 * `podroute lab fail|heal`: failures injected into a running lab from any shell, and undone again.
 *
 * - a link (`node:ifname`, either end): both ends set down, as a cable pulled; routers see the
 *   interface go and react at once;
 * - a link with `--silent`: both ends stay up but every packet through them is dropped both ways
 *   (iptables DROP in INPUT, OUTPUT and FORWARD in both namespaces; this kernel has no netem), so only
 *   timers (BGP hold time, BFD) can notice, as with a failing optic or a broken switch in between;
 * - a podroute node: its daemon SIGKILLed (no withdraw, no NOTIFICATION: a crash);
 * - an FRR node: its daemons stopped (SIGTERM, SIGKILL after 3 s), their command lines kept to start
 *   them again.
 *
 * Every fault is written to `/run/podroute-lab/<name>.chaos.json` before it is applied, so `heal`
 * (from another process) undoes exactly that and `down` knows there was one. Processes `heal` starts
 * run in the node's namespace, where `down` finds and removes them like every other.
 */

import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '../src/api/client.js';
import { CLEAN_NODE, daemonEnv, type LabState, REPO_ROOT, run, sleep, waitFor } from './fixture/index.js';
import { type Fault, metaOf, readFaults, writeFaults } from './state.js';
import { type LabTopology, loadTopology, type NodeMeta } from './topology.js';

const RULE_TAG = ['-m', 'comment', '--comment', 'podroute-lab-fail', '-j', 'DROP'];
/** Chain and the match that catches an interface's packets in it. */
const DROP_POINTS: [string, string][] = [
  ['INPUT', '-i'],
  ['OUTPUT', '-o'],
  ['FORWARD', '-i'],
  ['FORWARD', '-o'],
];

export class ChaosError extends Error {
  override name = 'ChaosError';
}

interface Context {
  name: string;
  state: LabState;
  topo: LabTopology;
  nodes: NodeMeta[];
}

function contextOf(name: string, state: LabState): Context {
  const meta = metaOf(state);
  if (!meta.topology) throw new ChaosError(`lab ${name} has no topology recorded`);
  return { name, state, topo: loadTopology(meta.topology), nodes: meta.nodes ?? [] };
}

function nodeMeta(ctx: Context, node: string): NodeMeta {
  const n = ctx.nodes.find((m) => m.name === node);
  if (!n)
    throw new ChaosError(`lab ${ctx.name} has no node ${node} (${ctx.nodes.map((m) => m.name).join(', ')})`);
  return n;
}

/** `node:ifname` of one end → both ends of its link, as `node:ifname`. */
function linkOf(ctx: Context, end: string): { a: string; b: string } {
  const l = ctx.topo.links.find(
    (x) => `${x.a.node}:${x.a.ifname}` === end || `${x.b.node}:${x.b.ifname}` === end,
  );
  if (!l) throw new ChaosError(`lab ${ctx.name} has no link with end ${end}`);
  return { a: `${l.a.node}:${l.a.ifname}`, b: `${l.b.node}:${l.b.ifname}` };
}

function splitEnd(ctx: Context, end: string): { netns: string; ifname: string } {
  const i = end.indexOf(':');
  return { netns: nodeMeta(ctx, end.slice(0, i)).netns, ifname: end.slice(i + 1) };
}

/** Fault identity: what `heal TARGET` names. */
function faultKey(f: Fault): string {
  return f.kind === 'link' ? `${f.a} ${f.b}` : f.node;
}

function matches(ctx: Context, f: Fault, target: string): boolean {
  if (f.kind !== 'link') return f.node === target;
  if (!target.includes(':')) return false;
  const l = linkOf(ctx, target);
  return f.a === l.a && f.b === l.b;
}

async function argvOf(pid: number): Promise<string[]> {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return [];
  }
}

async function netnsPids(netns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', netns], { allowFail: true });
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}

const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
};

/** podroute daemons in the namespace: `... podroute run --config PATH`. */
async function podrouteProcs(netns: string): Promise<{ pid: number; configPath: string }[]> {
  const out: { pid: number; configPath: string }[] = [];
  for (const pid of await netnsPids(netns)) {
    const argv = await argvOf(pid);
    const i = argv.indexOf('--config');
    if (argv.includes('run') && i > 0 && argv.some((a) => a.includes('podroute')))
      out.push({ pid, configPath: argv[i + 1]! });
  }
  return out;
}

/** FRR daemons in the namespace, zebra first (the others connect to it at start). */
async function frrProcs(netns: string): Promise<{ pid: number; argv: string[] }[]> {
  const out: { pid: number; argv: string[] }[] = [];
  for (const pid of await netnsPids(netns)) {
    const argv = await argvOf(pid);
    if (argv[0]?.startsWith('/usr/lib/frr/')) out.push({ pid, argv });
  }
  return out.sort((x, y) => Number(y.argv[0]!.endsWith('/zebra')) - Number(x.argv[0]!.endsWith('/zebra')));
}

async function killAll(pids: readonly number[], graceMs: number): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
    } catch {
      // gone already
    }
  }
  const until = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < until) await sleep(50);
  for (const pid of pids.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  while (pids.some(alive)) await sleep(20);
}

/** A daemon started for `heal`: detached in the node's namespace, output appended to its lab log. */
function spawnDetached(ctx: Context, netns: string, argv: readonly string[], log: string): void {
  const fd = openSync(join(ctx.state.tmpDir, log), 'a');
  try {
    const child = spawn('ip', ['netns', 'exec', netns, ...argv], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: daemonEnv(),
    });
    child.unref();
  } finally {
    closeSync(fd);
  }
}

/** The DROP rules for one interface, added (`-I`) or removed (`-D`) in one iptables-restore per family. */
async function iptables(netns: string, op: '-I' | '-D', ifname: string): Promise<void> {
  const rules = DROP_POINTS.map(([chain, flag]) => [op, chain, flag, ifname, ...RULE_TAG].join(' '));
  const input = `*filter\n${rules.join('\n')}\nCOMMIT\n`;
  await Promise.all(
    ['iptables-restore', 'ip6tables-restore'].map((cmd) =>
      run('ip', ['netns', 'exec', netns, cmd, '-w', '--noflush'], { input, allowFail: op === '-D' }),
    ),
  );
}

async function applyFault(ctx: Context, f: Fault): Promise<string> {
  if (f.kind === 'link') {
    // Both ends at once, as a pulled cable; IPv6 addresses kept over the down/up (the kernel flushes
    // them by default).
    await Promise.all(
      [f.a, f.b].map((end) => {
        const { netns, ifname } = splitEnd(ctx, end);
        if (f.silent) return iptables(netns, '-I', ifname);
        return run('ip', [
          'netns',
          'exec',
          netns,
          'sh',
          '-c',
          'echo 1 > "/proc/sys/net/ipv6/conf/$1/keep_addr_on_down" && ip link set dev "$1" down',
          'sh',
          ifname,
        ]);
      }),
    );
    return `link ${f.a} <-> ${f.b} ${f.silent ? 'drops every packet (both ends up)' : 'down'}`;
  }
  const netns = nodeMeta(ctx, f.node).netns;
  if (f.kind === 'podroute') {
    const procs = await podrouteProcs(netns);
    await killAll(
      procs.map((p) => p.pid),
      0,
    );
    return `${f.node}: podroute SIGKILLed (pid ${procs.map((p) => p.pid).join(', ')})`;
  }
  const procs = await frrProcs(netns);
  await killAll(
    procs.map((p) => p.pid),
    3000,
  );
  return `${f.node}: FRR stopped (${procs.map((p) => p.argv[0]!.split('/').pop()).join(', ')})`;
}

async function undoFault(ctx: Context, f: Fault): Promise<string> {
  if (f.kind === 'link') {
    await Promise.all(
      [f.a, f.b].map((end) => {
        const { netns, ifname } = splitEnd(ctx, end);
        if (f.silent) return iptables(netns, '-D', ifname);
        return run('ip', ['-n', netns, 'link', 'set', 'dev', ifname, 'up']);
      }),
    );
    if (!f.silent) {
      // Routes through the link went with it: the nodes' own `ip route` exec lines put them back.
      for (const node of new Set([f.a, f.b].map((e) => e.slice(0, e.indexOf(':'))))) {
        const spec = ctx.topo.nodes.find((n) => n.name === node);
        for (const argv of spec?.exec ?? []) {
          if (argv[0] === 'ip' && argv[1] === 'route')
            await run('ip', ['-n', nodeMeta(ctx, node).netns, ...argv.slice(1)], { allowFail: true });
        }
      }
    }
    return `link ${f.a} <-> ${f.b} healed`;
  }
  const meta = nodeMeta(ctx, f.node);
  if (f.kind === 'podroute') {
    if ((await podrouteProcs(meta.netns)).length === 0) {
      const bin = join(REPO_ROOT, 'bin', 'podroute');
      spawnDetached(
        ctx,
        meta.netns,
        [...CLEAN_NODE, bin, 'run', '--config', f.configPath],
        `${f.node}-podroute.log`,
      );
    }
    if (meta.socket) {
      const client = new ApiClient(meta.socket);
      await waitFor(() => client.call('GET /status'), {
        timeoutMs: 20_000,
        intervalMs: 100,
        what: `${f.node}: podroute API after restart`,
      });
    }
    return `${f.node}: podroute started again`;
  }
  for (const argv of f.argv) {
    const daemon = argv[0]!.split('/').pop()!;
    spawnDetached(ctx, meta.netns, argv, `${f.node}-${daemon}.log`);
    await waitFor(
      async () =>
        (
          await run('vtysh', ['-N', meta.netns, '-d', daemon, '-c', 'show version'], {
            allowFail: true,
            timeoutMs: 5000,
          })
        ).code === 0,
      { timeoutMs: 15_000, intervalMs: 100, what: `${f.node}: FRR ${daemon} after restart` },
    );
  }
  return `${f.node}: FRR started again`;
}

/** `lab fail TARGET`: a link end `node:ifname` (with `silent`) or a node name. */
export async function fail(
  name: string,
  state: LabState,
  target: string,
  opts: { silent?: boolean } = {},
): Promise<string> {
  const ctx = contextOf(name, state);
  const faults = readFaults(name);
  if (faults.some((f) => matches(ctx, f, target)))
    throw new ChaosError(`${target} has failed already (heal it first)`);
  let fault: Fault;
  if (target.includes(':')) {
    fault = { kind: 'link', ...linkOf(ctx, target), silent: opts.silent === true };
  } else {
    if (opts.silent) throw new ChaosError('--silent applies to links only');
    const node = nodeMeta(ctx, target);
    if (node.role === 'podroute') {
      const procs = await podrouteProcs(node.netns);
      if (procs.length === 0) throw new ChaosError(`${target}: no podroute is running`);
      fault = { kind: 'podroute', node: target, configPath: procs[0]!.configPath };
    } else if (node.role === 'frr') {
      const procs = await frrProcs(node.netns);
      if (procs.length === 0) throw new ChaosError(`${target}: no FRR daemon is running`);
      fault = { kind: 'frr', node: target, argv: procs.map((p) => p.argv) };
    } else throw new ChaosError(`${target} is a ${node.role} node: nothing runs there to fail`);
  }
  writeFaults(name, [...faults, fault]);
  return applyFault(ctx, fault);
}

/** `lab heal [TARGET]`: undoes that fault, or every fault of the lab. Returns one line per fault. */
export async function heal(name: string, state: LabState, target?: string): Promise<string[]> {
  const ctx = contextOf(name, state);
  let faults = readFaults(name);
  const todo = target === undefined ? faults : faults.filter((f) => matches(ctx, f, target));
  if (target !== undefined && todo.length === 0) throw new ChaosError(`${target} has not failed`);
  const lines: string[] = [];
  for (const f of todo) {
    lines.push(await undoFault(ctx, f));
    faults = faults.filter((x) => faultKey(x) !== faultKey(f));
    writeFaults(name, faults);
  }
  return lines;
}
