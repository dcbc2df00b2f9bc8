/**
 * `podroute` command line (its options and exit codes are a contract scripts rely on):
 *   podroute run --config FILE
 *   podroute --version
 *   podroute status [--json] [--ospf-database] [--socket PATH]
 *   podroute drain [--reason TEXT] [--socket PATH]
 *   podroute reload [--socket PATH]       (the same as SIGHUP to the daemon)
 *   podroute ipam show [--json] | podroute ipam release-node NAME [--force]
 *   podroute lab up FILE | status | check | exec NODE -- CMD | fail | heal | down | list   (lab/, a clone only)
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ApiClient, ApiRefused, ApiUnreachable } from '../api/client.js';
import { DEFAULT_SOCKET, type Endpoint, type RequestOf, type ResponseOf } from '../api/endpoints.js';
import { ConfigError, loadConfig } from '../config/index.js';
import { systemClock } from '../lib/clock.js';
import { createLogger } from '../lib/log.js';
import { registerAwsCommands } from './aws.js';
import { registerLabCommand } from './lab.js';

/** The daemon exits within 5 s of SIGTERM, whatever the peers do. */
const STOP_DEADLINE_MS = 4500;

function socketOption(): Option {
  return new Option('--socket <path>', 'local API socket of the daemon').default(DEFAULT_SOCKET);
}

async function run(opts: { config: string }): Promise<void> {
  // SIGHUP's default would end the process: from the first moment it reloads (or, before the
  // daemon runs, is refused and logged), never kills.
  let onHup: () => void = () => {};
  process.on('SIGHUP', () => onHup());
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(opts.config);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`podroute: bad config ${opts.config}: ${e.problems.join('; ')}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger(config.log.level);
  // A bug must not take the node's routes down with it: log loudly and keep serving.
  process.on('uncaughtException', (e) => logger.error({ err: e.stack ?? String(e) }, 'uncaught exception'));
  process.on('unhandledRejection', (e) => logger.error({ err: String(e) }, 'unhandled rejection'));
  // Loaded here so `podroute status` does not pay for the protocol stacks.
  const { Daemon } = await import('../daemon/daemon.js');
  let daemon: InstanceType<typeof Daemon>;
  try {
    daemon = new Daemon({
      config,
      logger,
      clock: systemClock,
      onDrained: () => process.exit(0),
      configFile: opts.config,
    });
  } catch (e) {
    process.stderr.write(`podroute: cannot start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  // Handlers first: a signal during start-up still withdraws whatever is already announced (or,
  // with bgp.gracefulRestart, closes the sessions the graceful way: SIGTERM is then a restart).
  const shutdown = (signal: string) => {
    // bgp.gracefulShutdown.wait (RFC 8326) holds the withdrawal back by that long on purpose.
    const wait = (config.bgp?.gracefulShutdown?.wait ?? 0) * 1000;
    setTimeout(() => process.exit(0), STOP_DEADLINE_MS + wait).unref();
    daemon.stop(`podroute on ${daemon.node} received ${signal}`).then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  // SIGHUP reloads the configuration file (Node's default for it is to exit, withdrawing nothing).
  // The outcome is logged; a refused reload leaves the running configuration as it was.
  const reloader = daemon.reloader;
  onHup = () => void reloader?.reload('SIGHUP').catch(() => {});
  try {
    await daemon.start();
  } catch (e) {
    process.stderr.write(`podroute: cannot start: ${(e as Error).message}\n`);
    // Close what did start (API socket, sessions) so a retry finds nothing in its way.
    await daemon.stop('podroute failed to start').catch(() => {});
    process.exit(1);
  }
}

/**
 * One request to the daemon, printed as JSON (`--json`) or through `format`. Exit 1 when the
 * daemon is unreachable, 3 when it refused the request.
 */
async function ask<E extends Endpoint>(
  opts: { json?: boolean; socket: string },
  endpoint: E,
  format: (doc: ResponseOf<E>) => string,
  ...body: RequestOf<E> extends undefined ? [] : [RequestOf<E>]
): Promise<void> {
  try {
    const doc = await new ApiClient(opts.socket).call(endpoint, ...body);
    process.stdout.write(opts.json ? `${JSON.stringify(doc, null, 2)}\n` : `${format(doc)}\n`);
  } catch (e) {
    process.stderr.write(`podroute: ${(e as Error).message}\n`);
    process.exit(e instanceof ApiUnreachable ? 1 : 3);
  }
}

/** Milliseconds `podroute drain` waits for the daemon to be gone (it exits within 5 s). */
const DRAIN_WAIT_MS = 6000;

/**
 * `podroute drain`: the daemon withdraws everything, tells the peers why, and exits 0; this command
 * returns once its socket no longer answers. Exit 1 when unreachable, 3 when refused, 4 when it is
 * still running after DRAIN_WAIT_MS.
 */
async function drain(opts: { socket: string; reason?: string }): Promise<void> {
  const client = new ApiClient(opts.socket);
  try {
    const r = await client.call('POST /drain', opts.reason ? { reason: opts.reason } : {});
    process.stdout.write(`draining ${r.node}: ${r.reason}\n`);
  } catch (e) {
    process.stderr.write(`podroute: ${(e as Error).message}\n`);
    process.exit(e instanceof ApiUnreachable ? 1 : 3);
  }
  const until = Date.now() + DRAIN_WAIT_MS;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      await client.call('GET /status');
    } catch (e) {
      if (e instanceof ApiUnreachable) {
        process.stdout.write('withdrawn; the daemon has exited\n');
        return;
      }
    }
  }
  process.stderr.write(`podroute: the daemon is still running after ${DRAIN_WAIT_MS / 1000} s\n`);
  process.exit(4);
}

/**
 * `podroute reload`: the daemon reads its configuration file again and applies the difference.
 * Exit 0 when applied (or unchanged), 1 when refused (each problem on its own line) or unreachable.
 */
async function reload(opts: { socket: string }): Promise<void> {
  try {
    const r = await new ApiClient(opts.socket).call('POST /reload');
    if (r.applied.length === 0) process.stdout.write(`${r.node}: configuration unchanged\n`);
    for (const line of r.applied) process.stdout.write(`${r.node}: ${line}\n`);
  } catch (e) {
    const problems = e instanceof ApiRefused ? e.body?.problems : undefined;
    if (Array.isArray(problems)) {
      for (const p of problems) process.stderr.write(`podroute: reload refused: ${String(p)}\n`);
    } else process.stderr.write(`podroute: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

async function status(opts: { json?: boolean; socket: string; ospfDatabase?: boolean }): Promise<void> {
  // The formatters (and what they import) load only for the commands that print: `run` never does.
  if (opts.ospfDatabase)
    return ask(opts, 'GET /ospf/database', (await import('./format-ipam.js')).formatOspfDatabase);
  return ask(opts, 'GET /status', (await import('./format-status.js')).formatStatus);
}

/**
 * The version in package.json, which sits two levels above every form this file runs in (src/cli
 * under tsx, dist/cli, and the bundle's dist/bundle), in a clone and in the image alike.
 */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function buildProgram(): Command {
  const program = new Command('podroute')
    .description('Announces a Kubernetes node’s pod prefixes to its leaf routers over BGP or OSPF')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .showHelpAfterError();
  program
    .command('run')
    .description('run the daemon in the foreground (logs JSON lines)')
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .action(run);
  program
    .command('status')
    .description('show the running daemon’s sessions, adjacencies and announcements')
    .option('--json', 'machine-readable output (the status JSON document)')
    .option('--ospf-database', 'list the OSPF link-state database instead')
    .addOption(socketOption())
    .action(status);
  program
    .command('drain')
    .description('withdraw everything, tell the peers why, and stop the daemon (a node taken away)')
    .option('--reason <text>', 'sent to the BGP peers (RFC 9003) and logged')
    .addOption(socketOption())
    .action(drain);
  program
    .command('reload')
    .description('read the configuration file again and apply the difference (as SIGHUP)')
    .addOption(socketOption())
    .action(reload);
  const ipam = program.command('ipam').description('address management: pools, groups, blocks');
  ipam
    .command('show')
    .description('networks, groups, blocks per node and their use')
    .option('--json', 'machine-readable output')
    .addOption(socketOption())
    .action(async (opts: { json?: boolean; socket: string }) =>
      ask(opts, 'GET /ipam', (await import('./format-ipam.js')).formatIpam),
    );
  ipam
    .command('release-node')
    .description('give back every block of a node that is gone for good')
    .argument('<name>', 'node name')
    .option('--force', 'release even if the node still looks alive')
    .option('--json', 'machine-readable output')
    .addOption(socketOption())
    .action((name: string, opts: { json?: boolean; socket: string; force?: boolean }) =>
      ask(opts, 'POST /ipam/release-node', (r) => `released ${r.released} block(s) of node ${r.node}`, {
        name,
        force: opts.force === true,
      }),
    );
  registerAwsCommands(program);
  registerLabCommand(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
