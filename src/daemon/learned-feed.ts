/**
 * Wiring from the BGP speaker's received routes to the route programmer: on every change the
 * speaker reports, what changed in the kept routes goes to `RoutesManager.applyLearned` (learned.ts
 * picks what reaches the kernel). Only differences travel: a peer's table once whole, then the
 * prefixes that changed; a peer with `install: false` hands nothing over (the status view reads its
 * paths where the speaker keeps them), so a full table that is only kept costs no copy and no
 * reconcile.
 *
 * Coalesced on the injected clock: UPDATEs (a full table is thousands of them) only arm a short
 * timer, so a burst becomes one hand-over and one kernel diff, not one per UPDATE. A peer going
 * down is handed over at once: its next hops must leave the kernel now, not after the timer.
 */
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Prefix } from '../net/prefix.js';
import type { LearnedChange, LearnedHandover } from '../routes/learned-table.js';
import type { ShownOnlyRoutes } from '../routes/learned-view.js';

/** Milliseconds UPDATE-driven changes wait for more before they are handed over. */
export const LEARNED_COALESCE_MS = 50;

export interface LearnedSource {
  onReceivedChange(fn: (peerDown: boolean) => void): void;
  /** The changes since the last call (taken: this feed is the only reader). */
  learnedChanges(): LearnedChange[];
  readonly shownRoutes: ShownOnlyRoutes;
}

export interface LearnedSink {
  applyLearned(handover: LearnedHandover): void;
}

export class LearnedFeed {
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** Nothing handed over yet: the first hand-over goes even when empty (the sink starts from it). */
  private first = true;
  /** Whether the last hand-over saw `install: false` paths (the view needs a reconcile when that flips). */
  private shownBefore = false;

  constructor(
    private readonly source: LearnedSource,
    private readonly sink: LearnedSink,
    private readonly podNetworks: readonly Prefix[],
    private readonly clock: Clock,
    private readonly delayMs = LEARNED_COALESCE_MS,
  ) {
    source.onReceivedChange((peerDown) => (peerDown ? this.flush() : this.schedule()));
  }

  /** Hands the changes over now (also at start, so the sink begins from the truth). */
  flush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.stopped) return;
    const changes = this.source.learnedChanges();
    const shown = this.source.shownRoutes;
    const shownNow = shown.paths() > 0;
    // UPDATEs that changed only `install: false` peers (or nothing kept) cost no kernel reconcile.
    if (changes.length === 0 && shownNow === this.shownBefore && !this.first) return;
    this.first = false;
    this.shownBefore = shownNow;
    this.sink.applyLearned({ changes, podNetworks: this.podNetworks, shown });
  }

  /** No further hand-overs (a pending one is dropped). */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = this.clock.setTimer(this.delayMs, () => {
      this.timer = undefined;
      this.flush();
    });
  }
}
