/**
 * Helper mode of graceful restart for one peer (RFC 4724 4.2, RFC 8538 3): when the peer's session
 * ends the graceful way, its routes stay (in the Adj-RIB-In, so in the kernel too) marked stale for
 * the Restart Time the peer advertised. When the session is back, families the new OPEN does not
 * list with the F bit lose their stale routes at once; the others lose what is still stale at the
 * peer's End-of-RIB for that family. If the peer does not come back within its restart time (or,
 * once back, sends no End-of-RIB within STALE_PATH_MS), every stale route goes.
 *
 * Runs on the injected clock; the speaker calls it from its session hooks.
 */
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import type { AdjRibIn } from './adj-rib-in.js';
import {
  familiesKeptAfterReconnect,
  type GracefulRestartSession,
  keepsRoutes,
  type SessionEnd,
  STALE_PATH_MS,
} from './graceful-restart.js';
import { Afi, type AfiSafi } from './message/types.js';

function familyOf(afi: number): 4 | 6 | undefined {
  return afi === Afi.Ipv4 ? 4 : afi === Afi.Ipv6 ? 6 : undefined;
}

export class StaleRoutes {
  private timer: TimerHandle | undefined;
  private deadline: number | undefined;
  /** Stale routes swept since start (status). */
  swept = 0;

  constructor(
    private readonly ribIn: AdjRibIn,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** The kept routes changed outside an UPDATE (a sweep by timer). */
    private readonly changed: () => void,
  ) {}

  /** Stale routes still kept. */
  get count(): number {
    return this.ribIn.staleCount;
  }

  /** Seconds until the stale routes go anyway, or null when none are kept. */
  secondsLeft(): number | null {
    if (this.deadline === undefined || this.count === 0) return null;
    return Math.max(0, Math.ceil((this.deadline - this.clock.now()) / 1000));
  }

  /**
   * The Established session ended. Returns true when the routes are kept (helper mode); otherwise
   * the Adj-RIB-In is emptied as before graceful restart.
   */
  sessionDown(gr: GracefulRestartSession | undefined, end: SessionEnd): boolean {
    if (!keepsRoutes(gr, end) || this.ribIn.size === 0 || !gr) {
      this.cancel();
      this.ribIn.clear();
      return false;
    }
    const n = this.ribIn.markStale();
    this.arm(
      gr.peerRestartTime * 1000,
      `the peer did not come back within its restart time of ${gr.peerRestartTime} s`,
    );
    this.log.info(
      { stale: n, restartTime: gr.peerRestartTime, end: end.kind },
      'BGP peer restarting: keeping its routes as stale (graceful restart helper)',
    );
    return true;
  }

  /**
   * The session is Established again. Returns true when stale routes were deleted at once (a
   * family without the F bit, RFC 4724 4.2).
   */
  established(gr: GracefulRestartSession | undefined, families: readonly AfiSafi[]): boolean {
    if (this.count === 0) {
      this.cancel();
      this.ribIn.clear();
      return false;
    }
    const kept = familiesKeptAfterReconnect(gr).filter((f) => families.some((g) => g.afi === f.afi));
    let gone = 0;
    for (const fam of [4, 6] as const) {
      if (!kept.some((f) => familyOf(f.afi) === fam)) gone += this.ribIn.sweepStale(fam);
    }
    this.swept += gone;
    if (gone > 0) this.log.info({ swept: gone }, 'stale routes of families without forwarding state removed');
    if (this.count > 0) this.arm(STALE_PATH_MS, 'the peer sent no End-of-RIB within the stale path time');
    else this.cancel();
    return gone > 0;
  }

  /** The peer's End-of-RIB for `afi`: what is still stale in that family goes. Returns how many. */
  endOfRib(afi: number): number {
    const fam = familyOf(afi);
    if (fam === undefined || this.count === 0) return 0;
    const gone = this.ribIn.sweepStale(fam);
    this.swept += gone;
    if (gone > 0) this.log.info({ swept: gone, afi }, 'stale routes not re-sent before End-of-RIB removed');
    if (this.count === 0) this.cancel();
    return gone;
  }

  /** Forgets the timer (speaker stopping). */
  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.deadline = undefined;
  }

  private arm(ms: number, why: string): void {
    this.cancel();
    this.deadline = this.clock.now() + ms;
    this.timer = this.clock.setTimer(ms, () => {
      this.timer = undefined;
      this.deadline = undefined;
      const gone = this.ribIn.sweepStale();
      this.swept += gone;
      this.log.info({ swept: gone }, `stale routes removed: ${why}`);
      if (gone > 0) this.changed();
    });
  }
}
