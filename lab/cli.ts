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
import { Command, Option } from 'commander';
import { checkPods, formatCheck } from './check.js';
import { sleep } from './fixture/index.js';
// Types only: the runner module itself is loaded by the commands that need it (it reads topologies).
import type { UpOptions } from './runner.js';
import { allLabs, LabNotFound, labNames, metaOf, pidAlive, readState, theLab } from './state.js';
import { collectStatus, formatStatus } from './status.js';

const stamp = (): string => new Date().toISOString().slice(11, 19);
const say = (line: string): void => {
  process.stdout.write(`${stamp()} ${line}\n`);
};

/** Runs `cmd` inside a node's or pod's namespace with the terminal attached; resolves with its exit code. */
function execIn(netns: string, cmd: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', netns, ...cmd], { stdio: 'inherit' });
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function fatal(e: unknown): number {
  // The user's mistakes (no such lab, link or node; not failed) in one line, anything else prefixed.
  if (e instanceof LabNotFound || (e as Error).name === 'ChaosError')
    process.stderr.write(`${(e as Error).message}\n`);
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
    const { runLab, upDetached } = await import('./runner.js');
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
      const { fail } = await import('./chaos.js');
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
      const { heal } = await import('./chaos.js');
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
    const { down } = await import('./runner.js');
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
