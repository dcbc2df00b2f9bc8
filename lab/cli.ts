/**
 * The Docker-free lab runner behind `podroute lab`: builds a containerlab topology from network
 * namespaces, veths, FRR and podroute (lab/topology.ts on the shared fixture), gives every podroute node
 * its pods through CNI (lab/pods.ts), checks that they reach each other (lab/check.ts), injects failures
 * (lab/chaos.ts), and removes it all again.
 *
 *   podroute lab up FILE [--foreground]    build; returns once pods exist and sessions are up (the lab keeps
 *                                          running in a background runner); --foreground: stay, Ctrl-C removes
 *   podroute lab status [NAME] [--json]    routers' sessions, nodes' status, pods, failures
 *   podroute lab check [NAME] [--json]     every pod pings every pod and its gateway; exit 1 on any loss
 *   podroute lab exec [--lab N] NODE -- CMD  CMD inside NODE's namespace (a node or a pod name)
 *   podroute lab fail|heal [--lab N] TARGET  a link (`node:ifname`, --silent), or a node
 *   podroute lab down [NAME]               remove a lab (even if its runner was killed)
 *   podroute lab list                      labs that are up
 *
 * `bin/podroute lab` runs this file as bundled by `npm run build` (dist/lab/podroute-lab.mjs); during
 * development `npx tsx lab/cli.ts ...` is the same. A running lab is described in
 * /run/podroute-lab/<name>.json (lab/state.ts), which is what lets every command work from another
 * process. Namespaces are `<name>-<node>` and `<name>-<node>-pod<i>`.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { Command, Option } from 'commander';
import { ChaosError, fail, heal } from './chaos.js';
import { checkPods, formatCheck } from './check.js';
import { destroyLabState, Lab, type LabState, REPO_ROOT, run, sleep } from './fixture/index.js';
import { addPod, cniBinDir, deletePod, mapLimit, type PodMeta, podCounts } from './pods.js';
import {
  allLabs,
  LabNotFound,
  labNames,
  logFile,
  metaOf,
  pidAlive,
  readState,
  removeStateFiles,
  STATE_DIR,
  stateFile,
  theLab,
} from './state.js';
import { collectStatus, converged, formatStatus } from './status.js';
import { buildTopology, loadTopology, type NodeRole, type RunningTopology } from './topology.js';

const stamp = (): string => new Date().toISOString().slice(11, 19);
const say = (line: string): void => {
  process.stdout.write(`${stamp()} ${line}\n`);
};

/** How to call us in the lines we print: `bin/podroute` from the clone, else its full path. */
function self(): string {
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

interface UpOptions {
  podroute: boolean;
  frr: boolean;
  name?: string;
  foreground?: boolean;
  /** This process is the runner `up` started in the background. */
  runner?: boolean;
  wait: boolean;
}

/** The runner itself: builds the lab and owns it until a signal (or `down`) tears it down. */
async function runLab(file: string, opts: UpOptions): Promise<void> {
  const topo = loadTopology(file);
  if (opts.name !== undefined) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(opts.name)) throw new Error(`bad lab name "${opts.name}"`);
    topo.name = opts.name;
  }
  const counts = podCounts(topo);
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
  const leftovers = (await run('ip', ['netns', 'list'])).stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(`${topo.name}-`));
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
    const wanted = [...running.podroute.keys()].flatMap((node) =>
      Array.from({ length: counts.get(node) ?? 0 }, (_, i) => ({ node, index: i + 1 })),
    );
    pods = (
      await mapLimit(wanted, 8, async (w) => {
        const meta = running.nodes.find((n) => n.name === w.node)!;
        const pod = await addPod(lab, {
          node: w.node,
          nodeNetns: meta.netns,
          socket: meta.socket!,
          index: w.index,
          cniPath,
        });
        pods.push(pod);
        lab.setMeta({ pods });
        say(`pod ${pod.name} on ${w.node}: ${pod.addresses.join(' ')} (ptp + podroute-cni)`);
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
  say(`next: ${self()} lab check ${topo.name}`);
  stopWatch = watchSessions(running);
}

/**
 * `up` without --foreground: starts the runner detached (its own session, output to
 * /run/podroute-lab/<name>.log), relays that output until the runner says the lab is ready, and
 * returns; Ctrl-C before that tears the half-built lab down.
 */
async function upDetached(file: string, opts: UpOptions, argv: string[]): Promise<number> {
  const name = opts.name ?? loadTopology(file).name;
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

async function down(arg: string | undefined): Promise<number> {
  const names = labNames(arg);
  if (names.length === 0) {
    process.stderr.write(arg ? `no lab named ${arg} is up\n` : 'no lab is up\n');
    return 1;
  }
  for (const name of names) {
    const state = readState(name);
    if (!state) {
      process.stderr.write(`no lab named ${name} is up\n`);
      continue;
    }
    say(`removing lab ${name}`);
    // A live runner deletes its pods and its lab on SIGTERM; for a dead one, the pods go first here,
    // while the daemons that hand out their addresses may still run.
    if (!pidAlive(state.ownerPid)) await deletePods(metaOf(state).pods ?? [], (l) => say(`  ${l}`));
    const log = logFile(name);
    const logStart = existsSync(log) ? statSync(log).size : 0;
    for (const line of await destroyLabState(state)) say(`  ${line}`);
    // What the runner did on its way out (CNI DEL, teardown), from its log.
    if (existsSync(log)) {
      const text = readFileSync(log).subarray(logStart).toString('utf8').trimEnd();
      for (const line of text ? text.split('\n') : []) say(`  runner: ${line.slice(9)}`);
    }
    // A runner killed between `ip netns add` and writing its state leaves a namespace the state does
    // not name: the topology says which names it could have.
    const existing = new Set(
      (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? ''),
    );
    for (const ns of expectedNamespaces(state)) {
      if (!existing.has(ns)) continue;
      const pids = (await run('ip', ['netns', 'pids', ns], { allowFail: true })).stdout
        .split(/\s+/)
        .filter(Boolean);
      if (pids.length) await run('kill', ['-9', ...pids], { allowFail: true });
      await run('ip', ['netns', 'del', ns], { allowFail: true });
      rmSync(`/var/run/frr/${ns}`, { recursive: true, force: true });
      say(`  deleted namespace ${ns}`);
    }
    removeStateFiles(name);
    say(`lab ${name} removed`);
  }
  return 0;
}

/** Runs `cmd` inside a node's or pod's namespace with the terminal attached; resolves with its exit code. */
function execIn(netns: string, cmd: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', netns, ...cmd], { stdio: 'inherit' });
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function fatal(e: unknown): number {
  if (e instanceof LabNotFound || e instanceof ChaosError) process.stderr.write(`${e.message}\n`);
  else process.stderr.write(`lab: ${(e as Error).message}\n`);
  return 1;
}

const program = new Command()
  .name('podroute lab')
  .description(
    'Docker-free lab: containerlab topologies on network namespaces, veths, FRR, podroute and pods',
  )
  .enablePositionalOptions()
  .showHelpAfterError();

program
  .command('up <file>')
  .description(
    'build a *.clab.yml topology with pods; returns once it is up (the runner stays in the background)',
  )
  .option('--foreground', 'stay in the foreground: session changes are printed, Ctrl-C removes the lab')
  .option('--no-wait', 'return without waiting for the sessions to come up')
  .addOption(new Option('--runner', 'the detached runner `up` starts').hideHelp())
  .option('--no-podroute', 'do not start podroute daemons (namespaces, links and addresses still built)')
  .option('--no-frr', 'do not start FRR')
  .option('--name <name>', 'lab name (namespace prefix) instead of the topology name')
  .action(async (file: string, opts: UpOptions) => {
    if (!opts.foreground && !opts.runner) {
      const passOn = [file, ...process.argv.slice(3).filter((a) => a !== file)];
      process.exit(await upDetached(file, opts, passOn));
    }
    try {
      await runLab(file, opts);
    } catch (e) {
      process.stderr.write(`lab up: ${(e as Error).message}\n`);
      process.exit(1);
    }
  });

program
  .command('status [name]')
  .description("every router's sessions, every node's podroute status, the pods and injected failures")
  .option('--json', 'JSON for tools (with each node’s whole status document)')
  .action(async (arg: string | undefined, opts: { json?: boolean }) => {
    const names = labNames(arg);
    if (names.length === 0) {
      process.exitCode = fatal(new LabNotFound(arg ? `no lab named ${arg} is up` : 'no lab is up'));
      return;
    }
    const all = [];
    for (const name of names) {
      const state = readState(name);
      if (!state) continue;
      const st = await collectStatus(name, state);
      all.push(st);
      if (!opts.json) process.stdout.write(`${formatStatus(st)}\n\n`);
      if (st.nodes.some((n) => n.role === 'podroute' && !n.status)) process.exitCode = 1;
    }
    if (opts.json) process.stdout.write(`${JSON.stringify(arg ? all[0] : all, null, 2)}\n`);
  });

program
  .command('check [name]')
  .description('every pod pings every other pod and its gateway; prints the matrix, exit 1 on any loss')
  .option('--json', 'JSON for tools')
  .option('--wait <seconds>', 'repeat until no loss or this many seconds have passed', '0')
  .action(async (arg: string | undefined, opts: { json?: boolean; wait: string }) => {
    try {
      const { state } = theLab(arg);
      const pods = metaOf(state).pods ?? [];
      if (pods.length === 0) throw new LabNotFound(`lab ${state.prefix} has no pods to check`);
      const until = Date.now() + Number(opts.wait) * 1000;
      let report = await checkPods(pods);
      while (report.lost > 0 && Date.now() < until) {
        await sleep(200);
        report = await checkPods(pods);
      }
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatCheck(report)}\n`);
      process.exitCode = report.lost > 0 ? 1 : 0;
    } catch (e) {
      process.exitCode = fatal(e);
    }
  });

program
  .command('exec <node> [cmd...]')
  .description('run CMD inside a node’s (or pod’s) namespace: podroute lab exec node1 -- ip route')
  .option('--lab <name>', 'which lab, when more than one is up')
  .passThroughOptions()
  .action(async (node: string, cmd: string[], opts: { lab?: string }) => {
    try {
      const { state } = theLab(opts.lab);
      const meta = metaOf(state);
      const netns =
        meta.nodes?.find((n) => n.name === node)?.netns ?? meta.pods?.find((p) => p.name === node)?.netns;
      if (!netns) {
        const known = [...(meta.nodes ?? []).map((n) => n.name), ...(meta.pods ?? []).map((p) => p.name)];
        throw new LabNotFound(`lab ${state.prefix} has no node or pod ${node} (${known.join(', ')})`);
      }
      const argv = cmd[0] === '--' ? cmd.slice(1) : cmd;
      process.exitCode = await execIn(netns, argv.length ? argv : ['sh']);
    } catch (e) {
      process.exitCode = fatal(e);
    }
  });

program
  .command('fail <target>')
  .description(
    'a link down (node:ifname, either end; --silent: drop every packet, link up), or a node: podroute SIGKILLed / FRR stopped',
  )
  .option('--silent', 'links: keep them up but drop everything both ways (iptables), so only timers notice')
  .option('--lab <name>', 'which lab, when more than one is up')
  .action(async (target: string, opts: { silent?: boolean; lab?: string }) => {
    try {
      const { name, state } = theLab(opts.lab);
      say(await fail(name, state, target, { silent: opts.silent === true }));
    } catch (e) {
      process.exitCode = fatal(e);
    }
  });

program
  .command('heal [target]')
  .description('undo `lab fail TARGET` (every failure when no target is given)')
  .option('--lab <name>', 'which lab, when more than one is up')
  .action(async (target: string | undefined, opts: { lab?: string }) => {
    try {
      const { name, state } = theLab(opts.lab);
      const lines = await heal(name, state, target);
      if (lines.length === 0) say('nothing has failed');
      for (const l of lines) say(l);
    } catch (e) {
      process.exitCode = fatal(e);
    }
  });

program
  .command('down [name]')
  .description('remove a lab (every lab when no name is given): pods (CNI DEL), daemons, namespaces, state')
  .action(async (name: string | undefined) => {
    process.exitCode = await down(name);
  });

program
  .command('list')
  .description('labs that are up')
  .action(() => {
    for (const name of allLabs()) {
      const s = readState(name);
      if (!s) continue;
      const meta = metaOf(s);
      const nodes = (meta.nodes ?? []).map((n) => `${n.name}(${n.role})`).join(' ');
      process.stdout.write(
        `${name}\tpid ${s.ownerPid}${pidAlive(s.ownerPid) ? '' : ' (dead)'}\t${meta.pods?.length ?? 0} pods\t${nodes}\n`,
      );
    }
  });

await program.parseAsync(process.argv);
