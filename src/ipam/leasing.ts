/**
 * Block leasing: how this node takes blocks from its group and gives them back, through the store.
 *
 * Claiming picks the next free block buddy-style (carve.ts) and takes it with one compare-and-swap
 * on that block alone (store/types.ts); a lost race teaches the cluster view who holds it, and
 * every few losses the view re-reads every claim. Renewing claims again, at start, the blocks the
 * node's saved state needs that the store holds no claim of ours for (restore.ts). An empty block
 * stays with the node for `ipam.blockGrace` seconds, then goes back to the group; an allocation in
 * it during that time keeps it. The address pool (allocator.ts) holds the blocks; this module is
 * the only one that adds or removes them after start.
 */
import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { formatPrefix, parsePrefix } from '../net/prefix.js';
import { type AddressPool, HeldBlock } from './allocator.js';
import { chooseBlock, freeSpace } from './carve.js';
import type { ClusterView } from './cluster.js';
import { IpamError } from './errors.js';
import type { BlockClaim, BlockStore } from './store/types.js';
import type { GroupSpec, NetworkSpec, Topology } from './topology.js';

export interface BlockLeasingOptions {
  readonly node: string;
  readonly group: GroupSpec;
  readonly topology: Topology;
  readonly store: BlockStore;
  readonly cluster: ClusterView;
  readonly pool: AddressPool;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long an empty block stays with the node, ms. */
  readonly graceMs: number;
  /** Runs `fn` under the facade's mutex, which allocation's slow path holds while it claims. */
  readonly exclusive: <T>(fn: () => Promise<T>) => Promise<T>;
  /** This node's block set changed (a block claimed or given back). */
  readonly changed: () => void;
}

/** Attempts before claiming gives up: each lost race names one more holder. */
const CLAIM_ATTEMPTS = 64;
/** Every this many lost races, re-read every claim instead of learning one holder at a time. */
const REREAD_EVERY = 8;

const newClaimId = (): string => randomBytes(8).toString('hex');

export class BlockLeasing {
  private readonly grace = new Map<string, TimerHandle>();
  private closed = false;

  constructor(private readonly opts: BlockLeasingOptions) {}

  /** Claims one more block of `net` for this node (caller holds the mutex); false when the group has none left. */
  async claim(net: NetworkSpec): Promise<boolean> {
    const { cluster, group, pool, store } = this.opts;
    const space = this.opts.topology.pool(group, net);
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const claimed = cluster.allClaims().map((c) => parsePrefix(c.block));
      const held = pool
        .heldBlocks()
        .filter((b) => b.network === net)
        .map((b) => b.prefix);
      const choice = chooseBlock(freeSpace(space, claimed, net.blockLength), net.blockLength, held);
      if (!choice) return false;
      const claim = this.newClaim(formatPrefix(choice), net.name);
      const res = await store.claim(claim);
      if (res.ok) {
        cluster.noteClaim(claim);
        pool.addBlock(new HeldBlock(choice, net));
        this.opts.logger.info({ block: claim.block, network: net.name, group: group.path }, 'claimed block');
        this.opts.changed();
        return true;
      }
      // Someone took it first: remember, and every few losses re-read everything.
      cluster.noteClaim(res.holder);
      if (attempt % REREAD_EVERY === REREAD_EVERY - 1) await cluster.refreshClaims();
    }
    throw new IpamError(
      `group ${group.path}: lost the race for a block of ${net.name} ${CLAIM_ATTEMPTS} times; store too busy`,
    );
  }

  /**
   * Claims again, one after the other, blocks the saved state needs (restore.ts). Returns the new
   * claims in order and, for each block refused, the node that holds it.
   */
  async renew(
    blocks: readonly { readonly block: string; readonly network: string }[],
  ): Promise<{ claimed: BlockClaim[]; refused: Map<string, string> }> {
    const claimed: BlockClaim[] = [];
    const refused = new Map<string, string>();
    for (const b of blocks) {
      const claim = this.newClaim(b.block, b.network);
      const res = await this.opts.store.claim(claim);
      if (res.ok) {
        this.opts.cluster.noteClaim(claim);
        claimed.push(claim);
      } else refused.set(b.block, res.holder.node);
    }
    return { claimed, refused };
  }

  /** Starts the grace period of an empty block (once; again after `keep`). */
  scheduleGrace(b: HeldBlock): void {
    if (this.closed || this.grace.has(b.text)) return;
    this.grace.set(
      b.text,
      this.opts.clock.setTimer(this.opts.graceMs, () => {
        this.grace.delete(b.text);
        void this.giveBack(b);
      }),
    );
  }

  /** An address was handed out in the block: it stays, whatever its grace timer said. */
  keep(b: HeldBlock): void {
    const t = this.grace.get(b.text);
    if (t) {
      t.cancel();
      this.grace.delete(b.text);
    }
  }

  /** No more claims or returns; grace timers stop. Call under the mutex. */
  close(): void {
    this.closed = true;
    for (const t of this.grace.values()) t.cancel();
    this.grace.clear();
  }

  /** Gives an empty block back to the group after its grace period. */
  private giveBack(b: HeldBlock): Promise<void> {
    const { pool, store, logger } = this.opts;
    return this.opts.exclusive(async () => {
      if (this.closed || !b.empty || pool.block(b.text) !== b) return;
      pool.removeBlock(b.text);
      try {
        await store.release(b.text, this.opts.node);
      } catch (e) {
        logger.warn({ block: b.text, err: (e as Error).message }, 'cannot return block; will retry');
        const again = new HeldBlock(b.prefix, b.network);
        pool.addBlock(again);
        this.scheduleGrace(again);
        return;
      }
      this.opts.cluster.noteRelease(b.text);
      logger.info({ block: b.text }, 'returned empty block');
      this.opts.changed();
    });
  }

  private newClaim(block: string, network: string): BlockClaim {
    return { block, node: this.opts.node, group: this.opts.group.name, network, claimId: newClaimId() };
  }
}
