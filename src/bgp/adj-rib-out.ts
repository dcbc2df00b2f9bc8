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
  /** Attribute key per sent prefix (absent = ''). */
  private readonly sentKeys = new Map<string, string>();

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
  reconcile(
    desired: ReadonlyMap<string, Prefix>,
    sendable: (p: Prefix) => boolean,
    attributesKey: (p: Prefix) => string = () => '',
  ): RibDiff {
    const announce: Prefix[] = [];
    const withdraw: Prefix[] = [];
    for (const [key, p] of this.sent) {
      if (!desired.has(key) || !sendable(p)) {
        withdraw.push(p);
        this.sent.delete(key);
        this.sentKeys.delete(key);
      }
    }
    for (const [key, p] of desired) {
      const attrs = this.sent.has(key) || sendable(p) ? attributesKey(p) : undefined;
      if (attrs === undefined) continue;
      if (!this.sent.has(key) || (this.sentKeys.get(key) ?? '') !== attrs) {
        announce.push(p);
        this.sent.set(key, p);
        if (attrs === '') this.sentKeys.delete(key);
        else this.sentKeys.set(key, attrs);
      }
    }
    return { announce, withdraw };
  }

  /** Everything, withdrawn (drain). */
  withdrawAll(): Prefix[] {
    const all = this.prefixes();
    this.clear();
    return all;
  }

  /** The session went down: the peer forgot our routes. */
  clear(): void {
    this.sent.clear();
    this.sentKeys.clear();
  }

  has(p: Prefix): boolean {
    return this.sent.has(formatPrefix(p));
  }
}
