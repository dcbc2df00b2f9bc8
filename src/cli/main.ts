/**
 * `podroute` command line (DESIGN.md "Command line"):
 *   podroute run --config FILE
 *   podroute status [--json] [--socket PATH]
 */
import { Command, Option } from 'commander';
import { ConfigError, loadConfig } from '../config/index.js';
import { ApiUnreachable, callApi } from '../daemon/api-client.js';
import { Daemon } from '../daemon/daemon.js';
import type { StatusDocument } from '../daemon/status.js';
import { systemClock } from '../lib/clock.js';
import { createLogger } from '../lib/log.js';
import { formatStatus } from './format-status.js';

const DEFAULT_SOCKET = '/run/podroute/podroute.sock';
/** DESIGN.md: exit within 5 s of SIGTERM, whatever the peers do. */
const STOP_DEADLINE_MS = 4500;

function socketOption(): Option {
  return new Option('--socket <path>', 'local API socket of the daemon').default(DEFAULT_SOCKET);
}

async function run(opts: { config: string }): Promise<void> {
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
  let daemon: Daemon;
  try {
    daemon = new Daemon({ config, logger, clock: systemClock });
    await daemon.start();
  } catch (e) {
    process.stderr.write(`podroute: cannot start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  const shutdown = (signal: string) => {
    setTimeout(() => process.exit(0), STOP_DEADLINE_MS).unref();
    daemon.stop(`podroute on ${daemon.node} received ${signal}`).then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

async function status(opts: { json?: boolean; socket: string }): Promise<void> {
  try {
    const res = await callApi(opts.socket, 'GET', '/status');
    if (res.status !== 200) throw new Error(`daemon answered ${res.status}: ${JSON.stringify(res.body)}`);
    const doc = res.body as StatusDocument;
    process.stdout.write(opts.json ? `${JSON.stringify(doc, null, 2)}\n` : `${formatStatus(doc)}\n`);
  } catch (e) {
    process.stderr.write(`podroute: ${(e as Error).message}\n`);
    process.exit(e instanceof ApiUnreachable ? 1 : 3);
  }
}

export function buildProgram(): Command {
  const program = new Command('podroute')
    .description('Announces a Kubernetes node’s pod prefixes to its leaf routers over BGP or OSPF')
    .showHelpAfterError();
  program
    .command('run')
    .description('run the daemon in the foreground (logs JSON lines)')
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .action(run);
  program
    .command('status')
    .description('show the running daemon’s sessions, adjacencies and announcements')
    .option('--json', 'machine-readable output (DESIGN.md status JSON)')
    .addOption(socketOption())
    .action(status);
  return program;
}

await buildProgram().parseAsync(process.argv);
