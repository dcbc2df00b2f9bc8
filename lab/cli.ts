/**
 * The Docker-free lab runner: builds a containerlab topology from network namespaces, veths, FRR and
 * podroute (lab/topology.ts on the shared fixture), keeps it running, and removes it again.
 *
 *   npx tsx lab/cli.ts up containerlab/demo.clab.yml     build, print progress and session changes;
 *                                                         Ctrl-C (or `down` from another shell) removes it
 *   npx tsx lab/cli.ts status [name|file] [--json]        podroute status and each FRR node's BGP routes
 *   npx tsx lab/cli.ts down [name|file]                   remove a lab started earlier (even if `up` died)
 *   npx tsx lab/cli.ts list                               labs that are up
 *
 * A running lab is described in /run/podroute-lab/<name>.json (namespaces, pids, dirs, nodes), which is
 * what lets `status` and `down` work from another process. Namespaces are `<name>-<node>`, so
 * `ip netns exec demo-leaf1 ...` and `vtysh -N demo-leaf1` reach a node by hand.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { daemonEnv, destroyLabState, Lab, type LabState, REPO_ROOT, run } from './fixture/index.js';
import {
  buildTopology,
  loadTopology,
  type NodeMeta,
  type NodeRole,
  type RunningTopology,
} from './topology.js';

export const STATE_DIR = '/run/podroute-lab';

const stamp = (): string => new Date().toISOString().slice(11, 19);
const say = (line: string): void => {
  process.stdout.write(`${stamp()} ${line}\n`);
};

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A lab name from a name or a topology file path. */
function labName(arg: string): string {
  if (arg.endsWith('.yml') || arg.endsWith('.yaml')) return loadTopology(arg).name;
  return arg;
}

function readState(name: string): LabState | undefined {
  const file = join(STATE_DIR, `${name}.json`);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as LabState;
}

function labNames(arg: string | undefined): string[] {
  if (arg) return [labName(arg)];
  if (!existsSync(STATE_DIR)) return [];
  return readdirSync(STATE_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5));
}

function nodesOf(state: LabState): NodeMeta[] {
  return (state.meta.nodes as NodeMeta[] | undefined) ?? [];
}

/** One line per BGP session state change, polled every two seconds while `up` runs. */
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
          if (!p.running)
            note(`${p.name}:exit`, 'x', `${name}: ${p.name} exited ${JSON.stringify(p.exit)}\n${p.tail(10)}`);
        }
        if (!frr.daemons.includes('bgpd') || !frr.running) continue;
        const neighbors = await frr.bgpNeighbors().catch(() => ({}));
        for (const [addr, n] of Object.entries(neighbors)) {
          note(`${name}/${addr}`, n.bgpState, `${name}: BGP ${addr} ${n.bgpState}`);
        }
      }
      for (const [name, node] of topo.podroute) {
        if (!node.running) {
          note(
            `${name}:exit`,
            'x',
            `${name}: podroute exited ${JSON.stringify(node.process?.exit)}\n${node.process?.tail(10) ?? ''}`,
          );
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
  void tick();
  return () => clearInterval(timer);
}

async function up(file: string, opts: { podroute: boolean; frr: boolean; name?: string }): Promise<void> {
  const topo = loadTopology(file);
  if (opts.name !== undefined) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(opts.name)) throw new Error(`bad lab name "${opts.name}"`);
    topo.name = opts.name;
  }
  const stateFile = join(STATE_DIR, `${topo.name}.json`);
  const old = readState(topo.name);
  if (old) {
    if (pidAlive(old.ownerPid) && old.ownerPid !== process.pid) {
      throw new Error(
        `lab ${topo.name} is already up (pid ${old.ownerPid}); run: npx tsx lab/cli.ts down ${topo.name}`,
      );
    }
    say(`removing a stale lab ${topo.name} left by pid ${old.ownerPid}`);
    for (const line of await destroyLabState(old)) say(`  ${line}`);
    rmSync(stateFile, { force: true });
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
    stateFile,
    handleSignals: false,
    meta: { topology: topo.file },
  });
  let stopWatch = (): void => {};
  let stopping = false;
  let signals = 0;
  const teardown = async (why: string, code: number): Promise<void> => {
    if (stopping) {
      // npx and tsx relay a signal to us as well, so one Ctrl-C often arrives twice: let the teardown
      // finish. A third signal means "now": exit, and the fixture's exit hook removes the rest at once.
      if (++signals >= 2) process.exit(130);
      return;
    }
    stopping = true;
    stopWatch();
    say(`${why}: tearing down lab ${topo.name}`);
    await lab.destroy();
    say('lab removed');
    process.exit(code);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void teardown(sig, 0));
  say(`building lab ${topo.name} from ${topo.file} (${topo.nodes.length} nodes, ${topo.links.length} links)`);
  let running: RunningTopology;
  try {
    running = await buildTopology(lab, topo, { skipDaemons: skip, onProgress: (l) => say(l) });
  } catch (e) {
    say(`build failed: ${(e as Error).message}`);
    await teardown('error', 1);
    return;
  }
  say(`lab ${topo.name} is up. Logs and configs: ${lab.tmpDir}`);
  for (const n of running.nodes) {
    const how = n.frr ? `vtysh -N ${n.netns}` : `ip netns exec ${n.netns} bash`;
    say(`  ${n.name.padEnd(10)} ${n.role.padEnd(9)} ${how}`);
  }
  say(
    `status: npx tsx lab/cli.ts status ${topo.name}   stop: Ctrl-C or npx tsx lab/cli.ts down ${topo.name}`,
  );
  stopWatch = watchSessions(running);
}

async function status(arg: string | undefined, opts: { json: boolean }): Promise<number> {
  const names = labNames(arg);
  if (names.length === 0) {
    process.stderr.write(arg ? `no lab named ${arg} is up\n` : 'no lab is up\n');
    return 1;
  }
  const bin = join(REPO_ROOT, 'bin', 'podroute');
  const report: Record<string, unknown>[] = [];
  let rc = 0;
  for (const name of names) {
    const state = readState(name);
    if (!state) {
      process.stderr.write(`no lab named ${name} is up\n`);
      rc = 1;
      continue;
    }
    const alive = pidAlive(state.ownerPid);
    if (!opts.json)
      process.stdout.write(`# lab ${name} (owner pid ${state.ownerPid}${alive ? '' : ', not running'})\n`);
    const nodes: Record<string, unknown>[] = [];
    for (const n of nodesOf(state)) {
      if (n.role === 'podroute' && n.socket) {
        const r = await run(bin, ['status', ...(opts.json ? ['--json'] : []), '--socket', n.socket], {
          allowFail: true,
          timeoutMs: 10_000,
          env: daemonEnv(),
        });
        if (r.code !== 0) rc = 1;
        if (opts.json) {
          let parsed: unknown = null;
          try {
            parsed = JSON.parse(r.stdout);
          } catch {
            // unreachable daemon: reported as null with the error below
          }
          nodes.push({
            name: n.name,
            role: n.role,
            status: parsed,
            error: r.code === 0 ? null : r.stderr.trim(),
          });
        } else {
          process.stdout.write(`\n## ${n.name} (podroute)\n${r.stdout}${r.code === 0 ? '' : r.stderr}`);
        }
      } else if (n.role === 'frr' && n.frr) {
        if (opts.json) {
          const sum = await run('vtysh', ['-N', n.netns, '-c', 'show bgp summary json'], { allowFail: true });
          const rib = await run('vtysh', ['-N', n.netns, '-c', 'show ip bgp json'], { allowFail: true });
          const parse = (s: string): unknown => {
            try {
              return JSON.parse(s);
            } catch {
              return null;
            }
          };
          nodes.push({
            name: n.name,
            role: n.role,
            bgpSummary: parse(sum.stdout),
            bgpRoutes: parse(rib.stdout),
          });
        } else {
          const r = await run('vtysh', ['-N', n.netns, '-c', 'show bgp summary', '-c', 'show ip bgp'], {
            allowFail: true,
          });
          process.stdout.write(`\n## ${n.name} (frr)\n${r.stdout}${r.code === 0 ? '' : r.stderr}`);
        }
      }
    }
    report.push({ name, ownerPid: state.ownerPid, running: alive, nodes });
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return rc;
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
    for (const line of await destroyLabState(state)) say(`  ${line}`);
    rmSync(join(STATE_DIR, `${name}.json`), { force: true });
    say(`lab ${name} removed`);
  }
  return 0;
}

const program = new Command()
  .name('lab')
  .description('Docker-free lab: containerlab topologies on network namespaces, veths, FRR and podroute');

program
  .command('up <file>')
  .description('build a *.clab.yml topology and keep it running until Ctrl-C or `down`')
  .option('--no-podroute', 'do not start podroute daemons (namespaces, links and addresses still built)')
  .option('--no-frr', 'do not start FRR')
  .option('--name <name>', 'lab name (namespace prefix) instead of the topology name')
  .action(async (file: string, opts: { podroute: boolean; frr: boolean; name?: string }) => {
    try {
      await up(file, opts);
    } catch (e) {
      process.stderr.write(`lab up: ${(e as Error).message}\n`);
      process.exit(1);
    }
  });

program
  .command('status [name]')
  .description('podroute status and BGP routes of each node (a lab name or its topology file)')
  .option('--json', 'JSON for tools')
  .action(async (name: string | undefined, opts: { json?: boolean }) => {
    process.exitCode = await status(name, { json: opts.json ?? false });
  });

program
  .command('down [name]')
  .description('remove a lab started earlier (all labs when no name is given)')
  .action(async (name: string | undefined) => {
    process.exitCode = await down(name);
  });

program
  .command('list')
  .description('labs that are up')
  .action(() => {
    for (const name of labNames(undefined)) {
      const s = readState(name);
      if (!s) continue;
      const nodes = nodesOf(s)
        .map((n) => `${n.name}(${n.role})`)
        .join(' ');
      process.stdout.write(`${name}\tpid ${s.ownerPid}${pidAlive(s.ownerPid) ? '' : ' (dead)'}\t${nodes}\n`);
    }
  });

await program.parseAsync(process.argv);
