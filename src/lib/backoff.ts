/**
 * Reconnect back-off: a small first delay doubling up to a cap, reset only when a session reaches
 * Established: resetting it on TCP up (as MetalLB did, its issue #1114) reconnects within milliseconds
 * to a peer that accepts TCP and then refuses the session.
 * RFC 4271 10 suggests jitter (0.75..1 of the value) so peers restarted together do not stay in
 * step; the random source is injected so tests are deterministic.
 */
export interface BackoffOptions {
  /** First delay in ms (default 100). */
  readonly initialMs?: number;
  /** Cap in ms, e.g. the peer's connectRetryTime. */
  readonly maxMs: number;
  /** Returns [0, 1); default Math.random. Pass `() => 1 - Number.EPSILON`-like or null for no jitter. */
  readonly random?: (() => number) | null;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: (() => number) | null;
  private attempt = 0;

  constructor(opts: BackoffOptions) {
    this.initialMs = opts.initialMs ?? 100;
    this.maxMs = Math.max(opts.maxMs, this.initialMs);
    this.random = opts.random === undefined ? Math.random : opts.random;
  }

  /** The delay before the next attempt; each call doubles the following one up to the cap. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    if (!this.random) return base;
    // RFC 4271 10: jitter between 75% and 100% of the value.
    return Math.round(base * (0.75 + 0.25 * this.random()));
  }

  /** Failures since the last reset. */
  get failures(): number {
    return this.attempt;
  }

  /** Makes the next delay the cap (e.g. after the peer exceeded its prefix limit). */
  penalize(): void {
    this.attempt = 31;
  }

  reset(): void {
    this.attempt = 0;
  }
}
