/**
 * The send hold timer of one connection (RFC 9687 "Border Gateway Protocol 4 (BGP-4) Send Hold
 * Timer", updating RFC 4271 8): a peer that stops reading our messages while its TCP window stays
 * open at zero would keep the session (and our withdrawn routes in its table) forever, since its
 * own hold timer is fed by its KEEPALIVEs, not ours. The timer runs while our writes make no
 * progress (from a write the socket could not take, until its buffer drains); when it expires the
 * session goes down with NOTIFICATION Send Hold Timer Expired (error code 8, RFC 9687 5) and the
 * connection is closed at once (RFC 9687 4: SendHoldTimer_Expires, a TCP disconnect).
 *
 * The time: RFC 9687 4 suggests 8 minutes and at least twice the negotiated hold time, so the
 * default here is the larger of 480 s and 2 × hold time; a peer's `sendHoldTime` overrides it.
 */
import type { Clock } from '../lib/clock.js';

/** RFC 9687 5: the NOTIFICATION error code, no subcodes. */
export const SEND_HOLD_TIMER_EXPIRED = 8;

/** RFC 9687 4: the suggested default, in seconds. */
export const DEFAULT_SEND_HOLD_SECONDS = 480;

/** The send hold time in ms for a configured value (seconds) and the negotiated hold time (seconds). */
export function sendHoldMs(configured: number | undefined, holdTime: number): number {
  return (configured ?? Math.max(DEFAULT_SEND_HOLD_SECONDS, 2 * holdTime)) * 1000;
}

export class SendHoldWatch {
  private timer: { cancel(): void } | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly ms: () => number,
    private readonly expired: () => void,
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** A write found the socket buffer full: no progress from here until it drains. */
  blocked(): void {
    if (this.timer) return;
    this.timer = this.clock.setTimer(this.ms(), () => {
      this.timer = undefined;
      this.expired();
    });
  }

  /** The buffer drained (the peer read), or the connection is gone. */
  progressed(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
