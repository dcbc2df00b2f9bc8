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

/** The daemon's logger: JSON lines on stdout, as `podroute run` promises (docs/cli.md). */
export function createLogger(level: LogLevel = 'info'): Logger {
  return pino({
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    // "level":"warn" reads better in `kubectl logs` and greps than pino's numeric 40.
    formatters: { level: (label) => ({ level: label }) },
  });
}

const noop = (): void => {};
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};
