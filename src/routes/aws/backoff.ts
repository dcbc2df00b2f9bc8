/**
 * Retries for EC2 calls. EC2 throttles per account and region with `RequestLimitExceeded` (and
 * answers 5xx when it is having trouble); its guidance is to retry with exponential backoff and
 * jitter. "Full jitter" (a uniform wait in [0, min(cap, base·2^n)]) spreads a cluster's retries
 * best. Time and randomness are inputs, so tests run a throttling storm in microseconds.
 */
import type { Clock } from '../../lib/clock.js';
import { ec2ErrorCode, httpStatus } from './vpc-api.js';

export interface BackoffOptions {
  readonly clock: Clock;
  /** [0, 1), Math.random in production. */
  readonly random: () => number;
  readonly baseMs?: number;
  readonly capMs?: number;
  /** Attempts in all, the first included. */
  readonly attempts?: number;
  /** Called before each wait: for counting and logs. */
  readonly onRetry?: (code: string, waitMs: number, attempt: number) => void;
}

const THROTTLED = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'ServiceUnavailable',
  'Unavailable',
  'InternalError',
  'InternalFailure',
]);

/** The code to retry on, or undefined when the error is final (a 4xx that is not throttling). */
export function retryableCode(e: unknown): string | undefined {
  const code = ec2ErrorCode(e);
  if (code !== undefined && THROTTLED.has(code)) return code;
  const status = httpStatus(e);
  if (status !== undefined && status >= 500) return code ?? `HTTP ${status}`;
  // No answer at all (connection refused or reset, timeout): the endpoint may come back.
  if (status === undefined && code === undefined) {
    const errno = (e as NodeJS.ErrnoException | null)?.code;
    if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) return errno;
    const name = (e as Error | null)?.name;
    if (name === 'TimeoutError') return name;
  }
  return undefined;
}

export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(ms, resolve));
}

export async function withBackoff<T>(op: () => Promise<T>, opts: BackoffOptions): Promise<T> {
  const base = opts.baseMs ?? 250;
  const cap = opts.capMs ?? 20_000;
  const attempts = opts.attempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (e) {
      const code = retryableCode(e);
      if (code === undefined || attempt >= attempts) throw e;
      const wait = Math.floor(opts.random() * Math.min(cap, base * 2 ** (attempt - 1)));
      opts.onRetry?.(code, wait, attempt);
      await sleep(opts.clock, wait);
    }
  }
}
