/**
 * The restarting side of graceful restart (RFC 4724 4.1): after podroute restarted with its kernel
 * routes in place, the routes left by the previous process stay until every peer that negotiated
 * graceful restart has sent its End-of-RIB for each family of the session (what it re-sent is then
 * known), or until the restart time has passed (RFC 4724 4.1 allows such a bound on the deferral).
 * Peers without the capability are not waited for (RFC 4724 4.1). Then `synced` fires once, and
 * the caller removes what was not re-learned, and later OPENs drop the R bit and set the F bit
 * (the forwarding state is there now).
 *
 * On the injected clock; the speaker feeds it Established and End-of-RIB per peer.
 */
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { AfiSafi } from './message/types.js';

/** The OPENs' view of our restart, shared with every session's LocalOpenParams (so it changes in place). */
export interface RestartFlags {
  readonly restartTime: number;
  restarting: boolean;
  forwardingPreserved: boolean;
}

/** Status JSON `bgp.gracefulRestart`. */
export type RestartStatus = {
  restartTime: number;
  /** OPENs carry the R bit: we restarted and wait for the peers (RFC 4724 4.1). */
  restarting: boolean;
  /** Peers whose End-of-RIB we still wait for. */
  waitingFor: string[];
  secondsLeft: number | null;
};

export class RestartSync {
  private readonly waiting = new Map<string, Set<number> | null>();
  private timer: TimerHandle | undefined;
  private done = false;
  private readonly listeners: (() => void)[] = [];
  private deadline: number;

  /** `peers`: addresses of the peers graceful restart is enabled for (each is awaited). */
  constructor(
    peers: readonly string[],
    private readonly clock: Clock,
    readonly flags: RestartFlags,
  ) {
    for (const p of peers) this.waiting.set(p, null);
    this.deadline = clock.now() + flags.restartTime * 1000;
    this.timer = clock.setTimer(flags.restartTime * 1000, () => this.finish());
    if (this.waiting.size === 0) this.finish();
  }

  status(): RestartStatus {
    const { restartTime, restarting } = this.flags;
    return { restartTime, restarting, waitingFor: this.pending, secondsLeft: this.secondsLeft() };
  }

  get synced(): boolean {
    return this.done;
  }

  /** Peers not synced yet (status). */
  get pending(): string[] {
    return this.done ? [] : [...this.waiting.keys()];
  }

  secondsLeft(): number | null {
    return this.done ? null : Math.max(0, Math.ceil((this.deadline - this.clock.now()) / 1000));
  }

  /** Runs `fn` once when synced (at once if already). */
  onSynced(fn: () => void): void {
    if (this.done) fn();
    else this.listeners.push(fn);
  }

  /** The peer is Established; `gr` false: it did not negotiate the capability, so it is not awaited. */
  established(peer: string, families: readonly AfiSafi[], gr: boolean): void {
    if (this.done || !this.waiting.has(peer)) return;
    if (!gr || families.length === 0) this.synced1(peer);
    else this.waiting.set(peer, new Set(families.map((f) => f.afi)));
  }

  endOfRib(peer: string, afi: number): void {
    const w = this.waiting.get(peer);
    if (this.done || !w) return;
    w.delete(afi);
    if (w.size === 0) this.synced1(peer);
  }

  /** The speaker stops: no sync will come. */
  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private synced1(peer: string): void {
    this.waiting.delete(peer);
    if (this.waiting.size === 0) this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.cancel();
    this.flags.restarting = false;
    this.flags.forwardingPreserved = true;
    for (const fn of this.listeners.splice(0)) fn();
  }
}
