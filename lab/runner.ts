/**
 * The lab runner's life cycle: `up` (in the background or in the foreground), the runner that builds a
 * topology, gives its podroute nodes pods and owns it all until a signal, and `down`, which removes a
 * lab whether its runner is alive or was killed. lab/cli.ts loads this module only for those
 * commands: it reads the topology (and the daemon's config schema with it), which `status`, `check`
 * and `exec` do not need.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ApiClient } from '../src/api/client.js';
import { mapLimit } from './concurrency.js';
import { destroyLabState, Lab, type LabState, REPO_ROOT, run, sleep, waitFor } from './fixture/index.js';
import { addPod, cniBinDir, deletePod, type PodMeta, podCounts, podNetworks } from './pods.js';
import {
  allLabs,
  labName,
  labNames,
  logFile,
  metaOf,
  pidAlive,
  readState,
  removeStateFiles,
  STATE_DIR,
  stateFile,
} from './state.js';
import { collectStatus, converged } from './status.js';
import { buildTopology, loadTopology, type NodeRole, type RunningTopology } from './topology.js';

const stamp = (): string => new Date().toISOString().slice(11, 19);
export const say = (line: string): void => {
  process.stdout.write(`${stamp()} ${line}\n`);
};

/** How to call us in the lines we print: `bin/podroute` from the clone, else its full path. */
export function self(): string {
  const bin = join(REPO_ROOT, 'bin', 'podroute');
  const rel = relative(process.cwd(), bin);
  return rel.startsWith('..') ? bin : rel;
}

/** How long `up` waits for every podroute session before it returns anyway (with a warning). */
const CONVERGE_TIMEOUT_MS = 60_000;

/** One line per BGP session state change, polled every two seconds while the runner runs. */
function watchSessions(topo: RunningTopology): () => void {
  const last = new Map<string, string>();
  let busy = false;
  const note = (key: string, value: string, line: string): void => {
    if (last.get(key) === value) return;
    last.set(key, value);
    say(line);
  };
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      for (const [name, frr] of topo.frr) {
        for (const p of frr.processes) {
          if (!p.running) note(`${p.name}:exit`, 'x', `${name}: ${p.name} exited ${JSON.stringify(p.exit)}`);
        }
        // The routers' side of every session too: with `--no-podroute` it is the only side there is.
        if (!frr.daemons.includes('bgpd') || !frr.running) continue;
        const neighbors = await frr.bgpNeighbors().catch(() => ({}));
        for (const [addr, n] of Object.entries(neighbors))
          note(`${name}/${addr}`, n.bgpState, `${name}: BGP ${addr} ${n.bgpState}`);
      }
      for (const [name, node] of topo.podroute) {
        if (!node.running) {
          note(`${name}:exit`, 'x', `${name}: podroute exited ${JSON.stringify(node.process?.exit)}`);
          continue;
        }
        const st = await node.status().catch(() => undefined);
        for (const p of st?.bgp?.peers ?? [])
          note(`${name}/${p.address}`, p.state, `${name}: BGP ${p.address} ${p.state}`);
        for (const i of st?.ospf?.interfaces ?? []) {
          for (const n of i.neighbors)
            note(
              `${name}/${i.name}/${n.routerId}`,
              n.state,
              `${name}: OSPF ${i.name} ${n.routerId} ${n.state}`,
            );
        }
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), 2000);
  return () => clearInterval(timer);
}

/** Namespace names a lab of this topology can have, so `down` finds one created just before a kill. */
function expectedNamespaces(state: LabState): string[] {
  const file = metaOf(state).topology;
  if (!file || !existsSync(file)) return [];
  try {
    const topo = loadTopology(file);
    const counts = podCounts(topo);
    return topo.nodes.flatMap((n) => [
      `${state.prefix}-${n.name}`,
      ...Array.from({ length: counts.get(n.name) ?? 0 }, (_, i) => `${state.prefix}-${n.name}-pod${i + 1}`),
    ]);
  } catch {
    return [];
  }
}

async function deletePods(pods: readonly PodMeta[], log: (l: string) => void): Promise<void> {
  if (pods.length === 0) return;
  const errors = await mapLimit(pods, 8, (p) => deletePod(p));
  const failed = errors.filter((e): e is string => e !== undefined);
  log(`CNI DEL for ${pods.length} pod(s)${failed.length ? `, ${failed.length} failed` : ''}`);
  for (const e of failed) log(`  ${e}`);
}

export interface UpOptions {
  podroute: boolean;
  frr: boolean;
  name?: string;
  foreground?: boolean;
  /** This process is the runner `up` started in the background. */
  runner?: boolean;
  wait: boolean;
}

/** The runner itself: builds the lab and owns it until a signal (or `down`) tears it down. */
export async function runLab(file: string, opts: UpOptions): Promise<void> {
  const topo = loadTopology(file);
  if (opts.name !== undefined) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(opts.name)) throw new Error(`bad lab name "${opts.name}"`);
    topo.name = opts.name;
  }
  const counts = podCounts(topo);
  const networks = podNetworks(topo);
  const old = readState(topo.name);
  if (old) {
    if (pidAlive(old.ownerPid) && old.ownerPid !== process.pid) {
      throw new Error(
        `lab ${topo.name} is already up (pid ${old.ownerPid}); run: ${self()} lab down ${topo.name}`,
      );
    }
    say(`removing a stale lab ${topo.name} left by pid ${old.ownerPid}`);
    await deletePods(metaOf(old).pods ?? [], (l) => say(`  ${l}`));
    for (const line of await destroyLabState(old)) say(`  ${line}`);
    rmSync(stateFile(topo.name), { force: true });
  }
  const leftovers = (await namespaces()).filter((n) => n.startsWith(`${topo.name}-`));
  if (leftovers.length) {
    throw new Error(`namespaces ${leftovers.join(', ')} exist but no lab state owns them; remove them first`);
  }
  const skip: NodeRole[] = [
    ...(opts.podroute ? [] : ['podroute' as const]),
    ...(opts.frr ? [] : ['frr' as const]),
  ];
  const lab = await Lab.create({
    prefix: topo.name,
    stateFile: stateFile(topo.name),
    handleSignals: false,
    meta: { topology: topo.file, name: topo.name },
  });
  let pods: PodMeta[] = [];
  let stopWatch = (): void => {};
  let stopping = false;
  let signals = 0;
  const teardown = async (why: string, code: number): Promise<void> => {
    if (stopping) {
      // One Ctrl-C often arrives twice (relayed by npx or a wrapper): let the teardown finish. A third
      // signal means "now": exit, and the fixture's exit hook removes the rest at once.
      if (++signals >= 2) process.exit(130);
      return;
    }
    stopping = true;
    stopWatch();
    say(`${why}: tearing down lab ${topo.name}`);
    await deletePods(pods, say);
    await lab.destroy();
    say('lab removed');
    // The background runner's log is read (and removed) by the `down` that stopped it.
    removeStateFiles(topo.name, { keepLog: opts.runner === true });
    process.exit(code);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void teardown(sig, 0));
  const t0 = Date.now();
  say(`building lab ${topo.name} from ${topo.file} (${topo.nodes.length} nodes, ${topo.links.length} links)`);
  let running: RunningTopology;
  try {
    running = await buildTopology(lab, topo, { skipDaemons: skip, onProgress: (l) => say(l) });
    const cniPath = cniBinDir(lab);
    // A node takes pods once its IPAM answers (the daemon's API is up before its block store is: a
    // CNI call in between gets "try again later"), as kubelet waits for a Ready node. The daemons
    // open their stores at the same time, so the wait grows with their number (rack-scale: 32).
    const ipamWaitMs = Math.max(30_000, 2_000 * running.podroute.size);
    await Promise.all(
      [...running.podroute.keys()]
        .filter((node) => (counts.get(node) ?? 0) > 0)
        .map((node) => {
          const client = new ApiClient(running.nodes.find((n) => n.name === node)!.socket!);
          return waitFor(() => client.call('GET /ipam'), {
            timeoutMs: ipamWaitMs,
            intervalMs: 100,
            what: `${node}: IPAM ready`,
          });
        }),
    );
    const wanted = [...running.podroute.keys()].flatMap((node) =>
      Array.from({ length: counts.get(node) ?? 0 }, (_, i) => ({ node, index: i + 1 })),
    );
    pods = (
      await mapLimit(wanted, 8, async (w) => {
        const meta = running.nodes.find((n) => n.name === w.node)!;
        const asks = networks.get(w.node);
        const network = asks ? asks[(w.index - 1) % asks.length] : undefined;
        const pod = await addPod(lab, {
          node: w.node,
          nodeNetns: meta.netns,
          socket: meta.socket!,
          index: w.index,
          cniPath,
          ...(network ? { network } : {}),
        });
        pods.push(pod);
        lab.setMeta({ pods });
        say(
          `pod ${pod.name} on ${w.node}: ${pod.addresses.join(' ')}${pod.network ? ` in ${pod.network}` : ''} (ptp + podroute-cni)`,
        );
        return pod;
      })
    ).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    lab.setMeta({ pods });
  } catch (e) {
    say(`build failed: ${(e as Error).message}`);
    await teardown('error', 1);
    return;
  }
  if (opts.wait && running.podroute.size > 0) {
    say('waiting for every podroute session (BGP Established, OSPF Full)');
    const until = Date.now() + CONVERGE_TIMEOUT_MS;
    for (;;) {
      const st = await collectStatus(topo.name, lab.state());
      if (converged(st)) break;
      if (Date.now() > until) {
        say(`not every session is up after ${CONVERGE_TIMEOUT_MS / 1000} s: see ${self()} lab status`);
        break;
      }
      await sleep(100);
    }
  }
  say(
    `lab ${topo.name} is up in ${((Date.now() - t0) / 1000).toFixed(1)} s. Logs and configs: ${lab.tmpDir}`,
  );
  for (const n of running.nodes) {
    const how = n.frr ? `vtysh -N ${n.netns}` : `${self()} lab exec ${n.name} -- bash`;
    say(`  ${n.name.padEnd(10)} ${n.role.padEnd(9)} ${how}`);
  }
  say(
    `stop: ${opts.foreground ? 'Ctrl-C or ' : ''}${self()} lab down ${topo.name}; failures: ${self()} lab fail LINK|NODE`,
  );
  lab.setMeta({ ready: true });
  if (pods.length === 0) say('no pods: no podroute node of this topology has an ipam section (or pods: 0)');
  // The one command to run next: the matrix when there are pods to check, else the sessions.
  say(`next: ${self()} lab ${pods.length ? 'check' : 'status'} ${topo.name}`);
  stopWatch = watchSessions(running);
}

/**
 * `up` without --foreground: starts the runner detached (its own session, output to
 * /run/podroute-lab/<name>.log), relays that output until the runner says the lab is ready, and
 * returns; Ctrl-C before that tears the half-built lab down.
 */
export async function upDetached(file: string, opts: UpOptions, argv: string[]): Promise<number> {
  const name = opts.name ?? labName(file);
  const old = readState(name);
  if (old && pidAlive(old.ownerPid)) {
    process.stderr.write(
      `lab up: lab ${name} is already up (pid ${old.ownerPid}); run: ${self()} lab down ${name}\n`,
    );
    return 1;
  }
  mkdirSync(STATE_DIR, { recursive: true });
  const log = logFile(name);
  rmSync(log, { force: true });
  const fd = openSync(log, 'a');
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, 'up', ...argv, '--runner'], {
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    if (child.pid) process.kill(child.pid, 'SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let offset = 0;
  const relay = (): void => {
    try {
      const size = statSync(log).size;
      if (size <= offset) return;
      const buf = Buffer.alloc(size - offset);
      const rfd = openSync(log, 'r');
      try {
        offset += readSyncAll(rfd, buf, offset);
      } finally {
        closeSync(rfd);
      }
      process.stdout.write(buf);
    } catch {
      // the runner removed its log while tearing down
    }
  };
  for (;;) {
    relay();
    if (exited !== undefined) {
      relay();
      // The runner gave up (or was interrupted) and removed its lab: its log has been shown.
      if (!readState(name)) rmSync(log, { force: true });
      return interrupted ? 130 : 1;
    }
    const st = readState(name);
    if (st && st.ownerPid === child.pid && metaOf(st).ready) {
      await sleep(50);
      relay();
      child.unref();
      return 0;
    }
    await sleep(50);
  }
}

function readSyncAll(fd: number, buf: Buffer, position: number): number {
  let n = 0;
  while (n < buf.length) {
    const r = readSync(fd, buf, n, buf.length - n, position + n);
    if (r === 0) break;
    n += r;
  }
  return n;
}

export async function down(arg: string | undefined): Promise<number> {
  const names = labNames(arg);
  if (names.length === 0) {
    process.stderr.write(arg ? `no lab named ${arg} is up\n` : 'no lab is up\n');
    return 1;
  }
  for (const name of names) {
    const state = readState(name);
    if (!state) {
      if (existsSync(stateFile(name))) {
        await downUnreadable(name);
        continue;
      }
      process.stderr.write(`no lab named ${name} is up\n`);
      continue;
    }
    say(`removing lab ${name}`);
    // A live runner deletes its pods and its lab on SIGTERM; for a dead one, the pods go first here,
    // while the daemons that hand out their addresses may still run.
    if (!pidAlive(state.ownerPid)) await deletePods(metaOf(state).pods ?? [], (l) => say(`  ${l}`));
    const log = logFile(name);
    const logStart = existsSync(log) ? statSync(log).size : 0;
    // A live runner gets time for its orderly teardown (CNI DEL of every pod, then the lab: a 32-node
    // lab on a loaded machine takes well over the fixture's default 8 s); one that hangs is killed.
    for (const line of await destroyLabState(state, { ownerGraceMs: 60_000 })) say(`  ${line}`);
    if (pidAlive(state.ownerPid)) {
      process.kill(state.ownerPid, 'SIGKILL');
      say(`  SIGKILL runner pid ${state.ownerPid} (still tearing down after 60 s)`);
    }
    // What the runner did on its way out (CNI DEL, teardown), from its log.
    if (existsSync(log)) {
      const text = readFileSync(log).subarray(logStart).toString('utf8').trimEnd();
      for (const line of text ? text.split('\n') : []) say(`  runner: ${line.slice(9)}`);
    }
    // A runner killed between `ip netns add` and writing its state leaves a namespace the state does
    // not name: the topology says which names it could have.
    const existing = new Set(await namespaces());
    await removeNamespaces(expectedNamespaces(state).filter((ns) => existing.has(ns)));
    removeStateFiles(name);
    say(`lab ${name} removed`);
  }
  return 0;
}

async function namespaces(): Promise<string[]> {
  return (await run('ip', ['netns', 'list'])).stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter(Boolean);
}

/** Kills whatever runs in each namespace, then deletes it and its FRR run dir. */
async function removeNamespaces(list: readonly string[]): Promise<void> {
  for (const ns of list) {
    const pids = (await run('ip', ['netns', 'pids', ns], { allowFail: true })).stdout
      .split(/\s+/)
      .filter(Boolean);
    if (pids.length) await run('kill', ['-9', ...pids], { allowFail: true });
    await run('ip', ['netns', 'del', ns], { allowFail: true });
    rmSync(`/var/run/frr/${ns}`, { recursive: true, force: true });
    say(`  deleted namespace ${ns}`);
  }
}

/**
 * A state file that cannot be read (cut short by a crash, or edited by hand) names nothing, so the
 * lab's namespaces are found by their prefix, leaving those another lab's state names, and its temp
 * dir by the fixture's naming.
 */
async function downUnreadable(name: string): Promise<void> {
  say(`removing lab ${name} (its state file ${stateFile(name)} cannot be read: removing by name)`);
  const owned = new Set(
    allLabs()
      .filter((other) => other !== name)
      .flatMap((other) => readState(other)?.namespaces ?? []),
  );
  await removeNamespaces((await namespaces()).filter((ns) => ns.startsWith(`${name}-`) && !owned.has(ns)));
  for (const d of readdirSync(tmpdir()))
    if (d.startsWith(`podroute-lab-${name}-`)) {
      rmSync(join(tmpdir(), d), { recursive: true, force: true });
      say(`  removed ${join(tmpdir(), d)}`);
    }
  removeStateFiles(name);
  say(`lab ${name} removed`);
}
