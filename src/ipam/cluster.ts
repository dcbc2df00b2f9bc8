/**
 * The cluster view: what this node knows of every node's blocks, kept current from the store.
 *
 * It holds every claim (re-read on each store watch event, and updated at once by this node's own
 * claims and returns, leasing.ts), the node records when asked to track them (layer 2 routes
 * need other nodes' link addresses), and the aggregate of the blocks this node allocates from.
 * From these it derives what the daemon needs, `{aggregate, peers}` (the node's announcement and
 * the layer 2 peers with their blocks), and a plain snapshot of every node with its blocks and
 * addresses for anything else that routes to pods (`snapshot()`). Listeners hear of every change
 * of this node's blocks, of any claim, and of the peers.
 */
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { aggregate } from '../net/aggregate.js';
import { comparePrefix, formatPrefix, type Prefix, parsePrefix } from '../net/prefix.js';
import type { BlockClaim, BlockStore, NodeRecord } from './store/types.js';

/** One other node as layer 2 routes see it: its link addresses and its blocks. */
export interface ClusterPeer {
  readonly node: string;
  readonly addresses: readonly string[];
  /** The blocks the store says the node holds, sorted. */
  readonly blocks: readonly Prefix[];
}

/** What the daemon announces and routes toward. */
export interface ClusterRouting {
  /** Minimal set of prefixes covering exactly the blocks this node allocates from. */
  readonly aggregate: readonly Prefix[];
  /** Every other node with a node record; empty unless node records are tracked. */
  readonly peers: readonly ClusterPeer[];
}

/** One node in a snapshot. */
export interface ClusterNode {
  readonly node: string;
  /** True when the node is this one. */
  readonly self: boolean;
  /** False for a node known only by its claims (no record, or node records not tracked). */
  readonly registered: boolean;
  /** The store's word on whether the node runs (etcd lease, file store process); false unregistered. */
  readonly alive: boolean;
  /** Link addresses from its node record, sorted; empty when unregistered. */
  readonly addresses: readonly string[];
  /** Claimed blocks, sorted, each with its network and group. */
  readonly blocks: readonly ClusterBlock[];
}

export interface ClusterBlock {
  readonly prefix: Prefix;
  /** Canonical prefix text, as stored. */
  readonly block: string;
  readonly network: string;
  readonly group: string;
}

/** Every node with a claim or a node record, sorted by name: plain data, safe to keep. */
export interface ClusterSnapshot {
  readonly nodes: readonly ClusterNode[];
}

export interface ClusterViewOptions {
  /** This node's name. */
  readonly node: string;
  readonly store: BlockStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The blocks this node allocates from: each must keep its claim in the store. */
  readonly inUse: () => readonly string[];
}

/** Node records are re-read this long after a failed read: the watch may stay silent after an outage. */
const NODES_RETRY_MS = 5000;

export class ClusterView {
  private readonly claims = new Map<string, BlockClaim>();
  private readonly listeners = new Set<() => void>();
  private aggregated: Prefix[] = [];
  private unwatch: (() => void) | undefined;
  private claimsRun: Promise<void> | undefined;
  private claimsAgain = false;
  private records: NodeRecord[] = [];
  private peerList: ClusterPeer[] = [];
  /** How many callers follow the node records (trackNodes). */
  private trackers = 0;
  private nodesRun: Promise<void> | undefined;
  private nodesAgain = false;
  private nodesRetry: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly opts: ClusterViewOptions) {}

  /** Follows the store's watch from now on (the claims read at start came in by `noteClaim`). */
  start(): void {
    this.unwatch = this.opts.store.watch(() => {
      void this.refresh();
    });
  }

  routing(): ClusterRouting {
    return { aggregate: this.aggregated, peers: this.peerList };
  }

  aggregate(): Prefix[] {
    return this.aggregated;
  }

  /** The layer 2 peers; kept as they were once no one tracks node records. */
  peers(): readonly ClusterPeer[] {
    return this.peerList;
  }

  /** Every claim, in the order they were learnt. */
  allClaims(): BlockClaim[] {
    return [...this.claims.values()];
  }

  /** Every node's blocks (this one included), sorted by node, then block. */
  blocksByNode(): Map<string, Prefix[]> {
    const out = new Map<string, Prefix[]>();
    for (const c of this.claims.values()) {
      let l = out.get(c.node);
      if (!l) {
        l = [];
        out.set(c.node, l);
      }
      l.push(parsePrefix(c.block));
    }
    for (const l of out.values()) l.sort(comparePrefix);
    return new Map([...out.entries()].sort(([a], [b]) => compareText(a, b)));
  }

  snapshot(): ClusterSnapshot {
    const blocks = new Map<string, ClusterBlock[]>();
    for (const c of this.claims.values()) {
      let l = blocks.get(c.node);
      if (!l) {
        l = [];
        blocks.set(c.node, l);
      }
      l.push({ prefix: parsePrefix(c.block), block: c.block, network: c.network, group: c.group });
    }
    const records = new Map(this.records.map((r) => [r.node, r]));
    const names = [...new Set([...blocks.keys(), ...records.keys()])].sort(compareText);
    return {
      nodes: names.map((node) => {
        const r = records.get(node);
        return {
          node,
          self: node === this.opts.node,
          registered: r !== undefined,
          alive: r?.alive ?? false,
          addresses: r ? [...r.addresses] : [],
          blocks: (blocks.get(node) ?? []).sort((a, b) => comparePrefix(a.prefix, b.prefix)),
        };
      }),
    };
  }

  /** Subscribes to changes of this node's blocks, of any claim and of the peers. */
  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  // ===== this node's side (leasing.ts and restore) =====

  /** This node claimed a block (or learnt who holds one): known at once, before the watch says so. */
  noteClaim(claim: BlockClaim): void {
    this.claims.set(claim.block, claim);
  }

  noteRelease(block: string): void {
    this.claims.delete(block);
  }

  /** The blocks this node allocates from changed: re-aggregates and tells the listeners. */
  setLocalBlocks(blocks: readonly Prefix[]): void {
    this.aggregated = aggregate(blocks);
    if (this.tracking) this.derivePeers();
    this.emit();
  }

  // ===== re-reading the store =====

  /** Re-reads every claim, and the node records when tracked. */
  async refresh(): Promise<void> {
    await Promise.all([this.refreshClaims(), this.tracking ? this.refreshNodes() : undefined]);
  }

  /**
   * Re-reads every claim; tells the listeners on a difference. Runs never overlap; calls during a
   * run coalesce into one more run.
   */
  refreshClaims(): Promise<void> {
    if (this.claimsRun) {
      this.claimsAgain = true;
      return this.claimsRun;
    }
    const run = async (): Promise<void> => {
      do {
        this.claimsAgain = false;
        let list: BlockClaim[];
        try {
          list = await this.opts.store.list();
        } catch (e) {
          this.opts.logger.warn({ err: (e as Error).message }, 'cannot re-read block claims');
          return;
        }
        if (this.closed) return;
        const before = [...this.claims.values()].map((c) => `${c.block} ${c.node}`).join();
        const me = this.opts.node;
        for (const block of this.opts.inUse()) {
          const c = list.find((x) => x.block === block);
          if (!c || c.node !== me) {
            this.opts.logger.error(
              { block, holder: c?.node ?? null },
              'a block this node uses lost its claim in the store',
            );
          }
        }
        // The claims follow the store, ours included; a block we allocate from stays in use
        // locally until we return it, so a lost claim is reported above, not acted on.
        this.claims.clear();
        for (const c of list) this.claims.set(c.block, c);
        const after = list.map((c) => `${c.block} ${c.node}`).join();
        if (before !== after) {
          if (this.tracking) this.derivePeers();
          this.emit();
        }
      } while (this.claimsAgain);
    };
    this.claimsRun = run().finally(() => {
      this.claimsRun = undefined;
    });
    return this.claimsRun;
  }

  /**
   * Starts following the node records (layer 2 routes to other nodes' blocks via their addresses;
   * anything else that reads `snapshot()` for addresses). Resolves after the first read, with a
   * function that ends this caller's interest; the records are followed while anyone is
   * interested, and the peers stay as they were once no one is. A node released with
   * `podroute ipam release-node` has neither claims nor a record, so it stops being a peer.
   */
  async trackNodes(): Promise<() => Promise<void>> {
    this.trackers++;
    let ended = false;
    const untrack = async (): Promise<void> => {
      if (ended) return;
      ended = true;
      this.trackers = Math.max(0, this.trackers - 1);
      if (this.tracking) return;
      this.nodesRetry?.cancel();
      this.nodesRetry = undefined;
      await this.nodesRun;
    };
    await this.refreshNodes();
    return untrack;
  }

  private get tracking(): boolean {
    return this.trackers > 0 && !this.closed;
  }

  private refreshNodes(): Promise<void> {
    if (this.nodesRun) {
      this.nodesAgain = true;
      return this.nodesRun;
    }
    const run = async (): Promise<void> => {
      do {
        this.nodesAgain = false;
        if (!this.tracking || this.closed) return;
        let records: NodeRecord[];
        try {
          records = await this.opts.store.nodes();
        } catch (e) {
          this.opts.logger.warn(
            { err: (e as Error).message },
            'cannot read node records; layer 2 routes unchanged, retrying in 5 s',
          );
          // The store's watch may stay silent after an outage: retry on our own.
          this.nodesRetry ??= this.opts.clock.setTimer(NODES_RETRY_MS, () => {
            this.nodesRetry = undefined;
            void this.refreshNodes();
          });
          return;
        }
        if (!this.tracking || this.closed) return;
        this.records = records;
        if (this.derivePeers()) this.emit();
      } while (this.nodesAgain);
    };
    this.nodesRun = run().finally(() => {
      this.nodesRun = undefined;
    });
    return this.nodesRun;
  }

  /** Pairs the node records with the claims; true when the peers changed. */
  private derivePeers(): boolean {
    const blocks = this.blocksByNode();
    const peers = this.records
      .filter((r) => r.node !== this.opts.node)
      .map((r) => ({ node: r.node, addresses: r.addresses, blocks: blocks.get(r.node) ?? [] }));
    if (peersKey(peers) === peersKey(this.peerList)) return false;
    this.peerList = peers;
    return true;
  }

  private emit(): void {
    for (const cb of this.listeners) {
      try {
        cb();
      } catch (e) {
        this.opts.logger.error({ err: (e as Error).message }, 'ipam change listener failed');
      }
    }
  }

  /** Stops following the store's watch (the first step of closing). */
  stopWatching(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /**
   * From now on a re-read changes nothing and tells no one; resolves when no re-read is running.
   * The facade calls it once it has stopped allocating.
   */
  async close(): Promise<void> {
    this.stopWatching();
    this.closed = true;
    this.trackers = 0;
    this.nodesRetry?.cancel();
    this.nodesRetry = undefined;
    await Promise.all([this.claimsRun, this.nodesRun]);
    this.listeners.clear();
  }
}

function peersKey(ps: readonly ClusterPeer[]): string {
  return ps
    .map((p) => `${p.node}=${p.addresses.join(',')}:${p.blocks.map(formatPrefix).join(',')}`)
    .join(';');
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
