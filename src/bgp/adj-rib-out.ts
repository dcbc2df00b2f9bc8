/**
 * Adj-RIB-Out (RFC 4271 3.2) of one peer: the prefixes the peer currently has from us. The speaker
 * reconciles it against the desired set: a change sends only the difference, a new session starts
 * from empty so the whole set is replayed (desired-state reconciliation, docs/architecture.md).
 */
import { formatPrefix, type Prefix } from '../net/prefix.js';

export interface RibDiff {
  readonly announce: Prefix[];
  readonly withdraw: Prefix[];
}

export class AdjRibOut {
  private readonly sent = new Map<string, Prefix>();

  get size(): number {
    return this.sent.size;
  }

  /** Announced prefixes, in insertion order. */
  prefixes(): Prefix[] {
    return [...this.sent.values()];
  }

  /**
   * What must change for the peer to hold exactly `desired` (restricted by `sendable`), and
   * records it as done: the caller sends the UPDATEs right away on the Established session.
   */
  reconcile(desired: ReadonlyMap<string, Prefix>, sendable: (p: Prefix) => boolean): RibDiff {
    const announce: Prefix[] = [];
    const withdraw: Prefix[] = [];
    for (const [key, p] of this.sent) {
      if (!desired.has(key) || !sendable(p)) {
        withdraw.push(p);
        this.sent.delete(key);
      }
    }
    for (const [key, p] of desired) {
      if (!this.sent.has(key) && sendable(p)) {
        announce.push(p);
        this.sent.set(key, p);
      }
    }
    return { announce, withdraw };
  }

  /** Everything, withdrawn (drain). */
  withdrawAll(): Prefix[] {
    const all = this.prefixes();
    this.sent.clear();
    return all;
  }

  /** The session went down: the peer forgot our routes. */
  clear(): void {
    this.sent.clear();
  }

  has(p: Prefix): boolean {
    return this.sent.has(formatPrefix(p));
  }
}
