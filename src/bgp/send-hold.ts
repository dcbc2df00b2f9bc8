/**
 * The send hold timer of one connection (RFC 9687 "Border Gateway Protocol 4 (BGP-4) Send Hold
 * Timer", updating RFC 4271 8): a peer that stops reading our messages while its TCP window stays
 * open at zero would keep the session (and our withdrawn routes in its table) forever, since its
 * own hold timer is fed by its KEEPALIVEs, not ours. The timer runs while our writes make no
 * progress (from a write the socket could not take, until its buffer drains): the same trigger as
 * RFC 9687 4.3's "restarted on every message sent", measured where the sending stalls. When it
 * expires the session goes down with NOTIFICATION Send Hold Timer Expired (error code 8, subcode 0
 * and no data: RFC 9687 5 and 6) and the connection is dropped at once (RFC 9687 4.3,
 * SendHoldTimer_Expires: a TCP disconnect; 5: the connection MUST be closed).
 *
 * The time: RFC 9687 6 says the default SHOULD be the greater of 8 minutes and twice the negotiated
 * hold time; a peer's `sendHoldTime` overrides it (config refuses one not above the hold time, RFC
 * 9687 4.4). With a negotiated hold time of 0 there is no send hold timer (RFC 9687 4.3: it is
 * stopped when "the negotiated HoldTime value is zero"), like the hold timer itself.
 */
import type { Clock } from '../lib/clock.js';

/** RFC 9687 5 and its IANA registration: the NOTIFICATION error code; subcode 0 (RFC 9687 6). */
export const SEND_HOLD_TIMER_EXPIRED = 8;

/** RFC 9687 6: the floor of the default, in seconds (8 minutes). */
export const DEFAULT_SEND_HOLD_SECONDS = 480;

/**
 * The send hold time in ms for a configured value (seconds) and the negotiated hold time (seconds),
 * or undefined when the timer does not run (negotiated hold time 0).
 */
export function sendHoldMs(configured: number | undefined, holdTime: number): number | undefined {
  if (holdTime === 0) return undefined;
  return (configured ?? Math.max(DEFAULT_SEND_HOLD_SECONDS, 2 * holdTime)) * 1000;
}

export class SendHoldWatch {
  private timer: { cancel(): void } | undefined;
  private armed = 0;

  constructor(
    private readonly clock: Clock,
    private readonly ms: () => number | undefined,
    private readonly expired: () => void,
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** The time (ms) the timer ran, or runs, for when it was last started; 0 before that. */
  get armedMs(): number {
    return this.armed;
  }

  /** A write found the socket buffer full: no progress from here until it drains. */
  blocked(): void {
    if (this.timer) return;
    const ms = this.ms();
    if (ms === undefined) return;
    this.armed = ms;
    this.timer = this.clock.setTimer(ms, () => {
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
