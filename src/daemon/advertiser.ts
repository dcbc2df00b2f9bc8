/**
 * What the daemon needs from a routing protocol speaker: it is handed the desired prefix set and
 * reconciles toward it (data flows one way, from desired state to each consumer; every consumer
 * works by difference).
 */
import type { Prefix } from '../net/prefix.js';

export interface Advertiser<S> {
  start(): Promise<void>;
  setDesired(prefixes: readonly Prefix[]): void;
  /** drain: withdraw everything and tell the peers why; otherwise just close (graceful restart). */
  stop(mode: { drain: boolean; message?: string }): Promise<void>;
  status(): S;
}
