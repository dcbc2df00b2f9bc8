/**
 * Structured logging: JSON lines through pino. Protocol code takes a Logger (the subset below) so
 * tests can pass `silentLogger` or capture records.
 */
import { pino } from 'pino';

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * The daemon's logger: JSON lines on stdout, as `podroute run` promises (docs/cli.md).
 *
 * Written synchronously: a line is out before the next statement runs, so nothing is lost when the
 * process exits. pino's default asynchronous destination buffers lines and flushes them on exit,
 * and when stdout's reader is gone (a closed pipe: EPIPE) that flush retries forever, so SIGTERM
 * never ended the daemon. Here a reader that went away only ends the logging, never the daemon or
 * its shutdown.
 */
export function createLogger(level: LogLevel = 'info'): Logger {
  const out = pino.destination({ dest: 1, sync: true });
  out.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') return;
    out.write = () => true;
  });
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      // "level":"warn" reads better in `kubectl logs` and greps than pino's numeric 40.
      formatters: { level: (label) => ({ level: label }) },
    },
    out,
  );
}

const noop = (): void => {};
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};
