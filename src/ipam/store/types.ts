/**
 * The block store contract. Romana kept all IPAM state in one etcd blob behind a global lock, so
 * every agent and CNI call parsed and rewrote everything. Here the unit of
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

/** What a node says about itself when it registers (layer 2 routes need its addresses). */
export interface NodeInfo {
  /** The node's addresses on its links (IPv4/IPv6 text, no prefix length); see `nodes()`. */
  readonly addresses: readonly string[];
}

/**
 * One node known to the store. A record lives from the first `register` until `releaseNode`,
 * like the node's claims: a daemon that stops or loses etcd for a while keeps its record (and so
 * the other nodes' layer 2 routes to its pods), it only stops being `alive`.
 */
export interface NodeRecord {
  readonly node: string;
  /** Sorted, unique. Empty when the node never registered any. */
  readonly addresses: string[];
  readonly alive: boolean;
}

export interface ReleaseNodeOptions {
  /** Release even when the node still looks alive (its lease or process exists). */
  readonly force?: boolean;
}

export interface BlockStore {
  /** `file` or `etcd`, for logs and `podroute ipam show`. */
  readonly kind: string;
  /**
   * Marks `node` alive (etcd: a key on a lease kept alive; file: the process id) and creates its
   * node record. With `info`, the record's addresses are replaced; without, they stay as they
   * were. Registering again from the same client is safe (etcd: the same lease).
   */
  register(node: string, info?: NodeInfo): Promise<void>;
  isAlive(node: string): Promise<boolean>;
  /** Every node record, sorted by node name (released nodes are gone). */
  nodes(): Promise<NodeRecord[]>;
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
   * Removes every claim and the node record of a node gone for good (explicit operator command).
   * Refused with NodeAliveError while the node looks alive, unless forced. Returns the number of
   * blocks freed.
   */
  releaseNode(node: string, opts?: ReleaseNodeOptions): Promise<number>;
  /**
   * Calls `cb` after any claim or node record changes (possibly more often). Returns an
   * unsubscribe function.
   */
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

/** Canonical form of a node's address list: unique, sorted, so comparisons are by value. */
export function normalizeAddresses(addresses: readonly string[]): string[] {
  return [...new Set(addresses)].sort();
}

export function isNodeInfo(v: unknown): v is NodeInfo {
  if (v === null || typeof v !== 'object') return false;
  const a = (v as Record<string, unknown>).addresses;
  return Array.isArray(a) && a.every((x) => typeof x === 'string');
}
