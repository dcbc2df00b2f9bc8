/** In-process block store: the reference for the conformance suite, and for tests and benchmarks. */
import {
  type BlockClaim,
  type BlockStore,
  type ClaimResult,
  NodeAliveError,
  type NodeInfo,
  type NodeRecord,
  normalizeAddresses,
  type ReleaseNodeOptions,
  sameClaimant,
} from './types.js';

export class MemoryBlockStore implements BlockStore {
  readonly kind = 'memory';
  private readonly claims = new Map<string, BlockClaim>();
  private readonly alive = new Set<string>();
  private readonly records = new Map<string, string[]>();
  private readonly watchers = new Set<() => void>();

  async register(node: string, info?: NodeInfo): Promise<void> {
    this.alive.add(node);
    const before = this.records.get(node);
    const next = info ? normalizeAddresses(info.addresses) : (before ?? []);
    this.records.set(node, next);
    if (before === undefined || before.join() !== next.join()) this.notify();
  }

  async nodes(): Promise<NodeRecord[]> {
    return [...this.records.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([node, addresses]) => ({ node, addresses: [...addresses], alive: this.alive.has(node) }));
  }

  async isAlive(node: string): Promise<boolean> {
    return this.alive.has(node);
  }

  /** Marks a node dead, as if its process or lease went away. */
  kill(node: string): void {
    this.alive.delete(node);
  }

  async list(): Promise<BlockClaim[]> {
    return [...this.claims.values()].sort((a, b) => (a.block < b.block ? -1 : a.block > b.block ? 1 : 0));
  }

  async claim(claim: BlockClaim): Promise<ClaimResult> {
    const held = this.claims.get(claim.block);
    if (held) return sameClaimant(held, claim) ? { ok: true } : { ok: false, holder: held };
    this.claims.set(claim.block, { ...claim });
    this.notify();
    return { ok: true };
  }

  async release(block: string, node: string): Promise<boolean> {
    if (this.claims.get(block)?.node !== node) return false;
    this.claims.delete(block);
    this.notify();
    return true;
  }

  async releaseNode(node: string, opts: ReleaseNodeOptions = {}): Promise<number> {
    if (!opts.force && this.alive.has(node)) throw new NodeAliveError(node, 'registered in this process');
    let n = 0;
    for (const [k, c] of this.claims) {
      if (c.node === node) {
        this.claims.delete(k);
        n++;
      }
    }
    const hadRecord = this.records.delete(node);
    if (n > 0 || hadRecord) this.notify();
    return n;
  }

  watch(cb: () => void): () => void {
    this.watchers.add(cb);
    return () => this.watchers.delete(cb);
  }

  private notify(): void {
    for (const cb of this.watchers) queueMicrotask(cb);
  }

  async close(): Promise<void> {
    this.watchers.clear();
    this.alive.clear();
  }
}
