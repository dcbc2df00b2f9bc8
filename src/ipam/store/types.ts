/**
 * The block store contract. Romana kept all IPAM state in one etcd blob behind a global lock, so
 * every agent and CNI call parsed and rewrote everything (notes/romana.md 2). Here the unit of
 * truth is one block claim, created and removed by compare-and-swap on that block alone; two
 * nodes contend only when they want the same block.
 */

/** One claimed block. `claimId` makes a retried claim recognise itself after an ambiguous failure. */
export interface BlockClaim {
  /** The block, canonical prefix text (198.18.0.64/26). Unique: networks never overlap. */
  readonly block: string;
  readonly node: string;
  readonly group: string;
  readonly network: string;
  readonly claimId: string;
}

export type ClaimResult = { readonly ok: true } | { readonly ok: false; readonly holder: BlockClaim };

export interface ReleaseNodeOptions {
  /** Release even when the node still looks alive (its lease or process exists). */
  readonly force?: boolean;
}

export interface BlockStore {
  /** `file` or `etcd`, for logs and `podroute ipam show`. */
  readonly kind: string;
  /** Marks `node` alive (etcd: a key on a lease kept alive; file: the process id). */
  register(node: string): Promise<void>;
  isAlive(node: string): Promise<boolean>;
  /** Every claim, sorted by block. */
  list(): Promise<BlockClaim[]>;
  /**
   * Creates the claim if no claim exists for the block (atomic per block). A claim that already
   * exists with the same node and claimId counts as success, so retrying is always safe.
   */
  claim(claim: BlockClaim): Promise<ClaimResult>;
  /** Removes the block's claim only if `node` holds it. */
  release(block: string, node: string): Promise<boolean>;
  /**
   * Removes every claim of a node gone for good (explicit operator command). Refused with
   * NodeAliveError while the node looks alive, unless forced. Returns the number of blocks freed.
   */
  releaseNode(node: string, opts?: ReleaseNodeOptions): Promise<number>;
  /** Calls `cb` after any claim changes (possibly more often). Returns an unsubscribe function. */
  watch(cb: () => void): () => void;
  close(): Promise<void>;
}

export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

/** The store's data cannot be trusted (torn or edited file); nothing was written. */
export class StoreCorruptError extends StoreError {
  constructor(message: string) {
    super(message);
    this.name = 'StoreCorruptError';
  }
}

export class NodeAliveError extends StoreError {
  constructor(node: string, how: string) {
    super(`node ${node} still looks alive (${how}); stop it first or force the release`);
    this.name = 'NodeAliveError';
  }
}

export function isClaim(v: unknown): v is BlockClaim {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return ['block', 'node', 'group', 'network', 'claimId'].every((k) => typeof o[k] === 'string');
}

export function sameClaimant(a: BlockClaim, b: BlockClaim): boolean {
  return a.node === b.node && a.claimId === b.claimId;
}
