/**
 * Named one-shot timers over the injected Clock. A timer's callback runs only if it is still the
 * armed one (a restart or stop cancels the old handle), so stale expiries never reach the FSM.
 */
import type { Clock, TimerHandle } from '../lib/clock.js';

export class Timer {
  private handle: TimerHandle | undefined;
  private generation = 0;

  constructor(
    private readonly clock: Clock,
    private readonly onExpire: () => void,
  ) {}

  /** (Re)starts the timer for `ms`; a value <= 0 stops it (RFC 4271 4.4: hold time 0 = no timers). */
  start(ms: number): void {
    this.stop();
    if (!(ms > 0)) return;
    const gen = ++this.generation;
    this.handle = this.clock.setTimer(ms, () => {
      if (gen !== this.generation) return;
      this.handle = undefined;
      this.onExpire();
    });
  }

  stop(): void {
    this.generation++;
    this.handle?.cancel();
    this.handle = undefined;
  }

  get running(): boolean {
    return this.handle !== undefined;
  }
}
