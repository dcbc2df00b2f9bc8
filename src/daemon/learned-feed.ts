/**
 * Wiring from the BGP speaker's received routes to the route programmer: on every change the
 * speaker reports, the peers' kept routes go to `RoutesManager.updateLearned` (learned.ts picks
 * what reaches the kernel).
 *
 * Coalesced on the injected clock: UPDATEs (a full table is thousands of them) only arm a short
 * timer, so a burst becomes one hand-over and one kernel diff, not one per UPDATE. A peer going
 * down is handed over at once: its next hops must leave the kernel now, not after the timer.
 */
import type { LearnedPeerRoutes } from '../bgp/speaker.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Prefix } from '../net/prefix.js';
import type { LearnedInput } from '../routes/learned.js';

/** Milliseconds UPDATE-driven changes wait for more before they are handed over. */
export const LEARNED_COALESCE_MS = 50;

export interface LearnedSource {
  onReceivedChange(fn: (peerDown: boolean) => void): void;
  learnedPeers(): LearnedPeerRoutes[];
}

export interface LearnedSink {
  updateLearned(input: LearnedInput): void;
}

export class LearnedFeed {
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** The last hand-over had no routes: another empty one would only cost a reconcile. */
  private handedEmpty = false;

  constructor(
    private readonly source: LearnedSource,
    private readonly sink: LearnedSink,
    private readonly podNetworks: readonly Prefix[],
    private readonly clock: Clock,
    private readonly delayMs = LEARNED_COALESCE_MS,
  ) {
    source.onReceivedChange((peerDown) => (peerDown ? this.flush() : this.schedule()));
  }

  /** Hands the current routes over now (also at start, so the sink begins from the truth). */
  flush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.stopped) return;
    // learnedPeers() lists only peers with kept routes: with `accept: none` everywhere it is always
    // empty, and the UPDATEs of a full table must not cost a kernel reconcile each.
    const peers = this.source.learnedPeers();
    if (peers.length === 0 && this.handedEmpty) return;
    this.handedEmpty = peers.length === 0;
    this.sink.updateLearned({ peers, podNetworks: this.podNetworks });
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
