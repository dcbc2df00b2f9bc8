/**
 * `podroute lab ...`: hands the whole command line to the lab runner, a separate program that
 * `npm run build` bundles from lab/ into dist/lab/podroute-lab.mjs. The daemon's code never loads
 * the lab (it is a test tool, above every layer of src/), and an installation without it (the
 * container image) says so in one line instead of failing on an import.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

const RUNNER = fileURLToPath(new URL('../lab/podroute-lab.mjs', import.meta.url));

/** Runs the lab runner with `args`; resolves with its exit code (128 + n after signal n). */
export function runLab(args: readonly string[]): Promise<number> {
  if (!existsSync(RUNNER)) {
    process.stderr.write(
      `podroute: the lab runner is not part of this installation (${RUNNER} is missing: run npm run build in a clone)\n`,
    );
    return Promise.resolve(1);
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUNNER, ...args], { stdio: 'inherit' });
    // Ctrl-C reaches the runner too (same process group): it decides what a signal means (tear the
    // lab down). This process only relays the ones sent to it alone and waits for the runner.
    const relay = (sig: NodeJS.Signals) => () => {
      if (sig !== 'SIGINT') child.kill(sig);
    };
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, relay(sig));
    child.on('error', (e) => {
      process.stderr.write(`podroute: cannot start the lab runner: ${e.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15)));
  });
}

export function registerLabCommand(program: Command): void {
  program
    .command('lab')
    .description(
      'Docker-free lab from a clone: up FILE | status | check | exec NODE -- CMD | fail | heal | down | list (podroute lab --help)',
    )
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .action(async () => {
      // Everything after `lab`, untouched by this parser: the runner has its own options and help.
      const at = process.argv.indexOf('lab', 2);
      process.exit(await runLab(process.argv.slice(at + 1)));
    });
}
