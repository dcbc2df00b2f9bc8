/**
 * Crash restore: how a node takes up again the blocks and addresses it had before a restart.
 *
 * The store knows which blocks a node holds; the node's own state file (state.ts) knows which
 * owner has which address in them and which freed addresses are still quiet. `planRestore` is a
 * pure function of both (and the topology): which blocks to hold, which offsets in them are taken,
 * which saved rows to drop and why, and which blocks the state needs but the store holds no claim
 * of ours for (the store lost them, or never recorded them). The facade claims those again through
 * the leasing (leasing.ts), then plans once more with the outcome (the new claims among `mine`, the
 * refused blocks in `refused`), reports the plan and applies it to the address pool.
 */
import type { Logger } from '../lib/log.js';
import { type Prefix, parseAddress, parsePrefix, prefixContains, toBigInt } from '../net/prefix.js';
import { type AddressPool, HeldBlock } from './allocator.js';
import type { NodeStateData } from './state.js';
import type { BlockClaim } from './store/types.js';
import type { NetworkSpec, Topology } from './topology.js';

export interface RestoreInput {
  readonly topology: Topology;
  /** This node's claims in the store (store order), then the blocks claimed again, in order. */
  readonly mine: readonly BlockClaim[];
  readonly saved: NodeStateData | undefined;
  /** Blocks a claim-again was refused for, with the node that holds each. */
  readonly refused?: ReadonlyMap<string, string>;
}

export type DropReason =
  /** Unparsable, outside its block, or an address listed twice. */
  | 'invalid'
  /** The block lies in no configured network, so it cannot be claimed again. */
  | 'no-network'
  /** The block is another node's now. */
  | 'held'
  /** A live address in a held block that no longer fits a configured network. */
  | 'unusable';

export interface DroppedRow {
  readonly reason: DropReason;
  readonly block: string;
  readonly address: string;
  /** The saved owner; '' for a quarantined address. */
  readonly owner: string;
  /** With `held`: who holds the block. */
  readonly holder?: string;
}

export interface PlannedBlock {
  readonly block: string;
  readonly prefix: Prefix;
  readonly network: NetworkSpec;
  /** Offsets taken by a restored allocation or quarantine entry. */
  readonly exclude: ReadonlySet<number>;
}

export interface RestorePlan {
  /** Blocks to claim again (first use in the state first), each with its network. */
  readonly reclaim: readonly { readonly block: string; readonly network: string }[];
  /** Blocks to allocate from, in the order they are held. */
  readonly blocks: readonly PlannedBlock[];
  readonly live: readonly { readonly owner: string; readonly block: string; readonly offset: number }[];
  /** In expiry order; `remainingMs` as saved (may be negative: over at once). */
  readonly quarantine: readonly {
    readonly block: string;
    readonly offset: number;
    readonly remainingMs: number;
  }[];
  readonly dropped: readonly DroppedRow[];
  /** Claimed blocks that fit no configured network any more: left claimed, unused. */
  readonly unfit: readonly string[];
}

interface Row {
  owner: string;
  address: string;
  block: string;
  live: boolean;
  remainingMs: number;
}

export function planRestore(input: RestoreInput): RestorePlan {
  const { topology, mine, saved } = input;
  const refused = input.refused ?? new Map<string, string>();
  const claimOf = new Map(mine.map((c) => [c.block, c]));
  const wanted = new Set(mine.map((c) => c.block));
  const rows: Row[] = [
    ...(saved?.allocations ?? []).map((a) => ({ ...a, live: true, remainingMs: 0 })),
    ...(saved?.quarantine ?? []).map((q) => ({ ...q, owner: '', live: false })),
  ];
  const reclaim: { block: string; network: string }[] = [];
  const dropped: DroppedRow[] = [];
  const usable: (Row & { offset: number })[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    const block = tryPrefix(r.block);
    const offset = block ? offsetIn(block, r.address) : -1;
    if (!block || offset < 0 || seen.has(r.address)) {
      dropped.push({ reason: 'invalid', block: r.block, address: r.address, owner: r.owner });
      continue;
    }
    seen.add(r.address);
    if (!wanted.has(r.block)) {
      const net = topology.networkOf(block);
      const holder = refused.get(r.block);
      if (!net) {
        dropped.push({ reason: 'no-network', block: r.block, address: r.address, owner: r.owner });
        continue;
      }
      if (holder !== undefined) {
        dropped.push({ reason: 'held', block: r.block, address: r.address, owner: r.owner, holder });
        continue;
      }
      reclaim.push({ block: r.block, network: net.name });
      wanted.add(r.block);
    }
    usable.push({ ...r, offset });
  }
  const exclude = new Map<string, Set<number>>();
  for (const r of usable) {
    let s = exclude.get(r.block);
    if (!s) {
      s = new Set();
      exclude.set(r.block, s);
    }
    s.add(r.offset);
  }
  const blocks: PlannedBlock[] = [];
  const unfit: string[] = [];
  for (const text of wanted) {
    const prefix = parsePrefix(text);
    const claim = claimOf.get(text);
    const net = (claim && topology.network(claim.network)) ?? topology.networkOf(prefix);
    if (!net || net.blockLength !== prefix.length) {
      unfit.push(text);
      continue;
    }
    blocks.push({ block: text, prefix, network: net, exclude: exclude.get(text) ?? new Set() });
  }
  const held = new Set(blocks.map((b) => b.block));
  const live: { owner: string; block: string; offset: number }[] = [];
  for (const r of usable.filter((x) => x.live)) {
    if (held.has(r.block)) live.push({ owner: r.owner, block: r.block, offset: r.offset });
    else dropped.push({ reason: 'unusable', block: r.block, address: r.address, owner: r.owner });
  }
  const quarantine = usable
    .filter((x) => !x.live && held.has(x.block))
    .sort((a, b) => a.remainingMs - b.remainingMs)
    .map((r) => ({ block: r.block, offset: r.offset, remainingMs: r.remainingMs }));
  return { reclaim, blocks, live, quarantine, dropped, unfit };
}

/** Logs what a plan drops or leaves unused: each is a lost address an operator may ask about. */
export function reportRestore(plan: RestorePlan, logger: Logger): void {
  for (const d of plan.dropped) {
    const where = { block: d.block, address: d.address };
    if (d.reason === 'invalid')
      logger.error({ ...where, owner: d.owner }, 'saved address is invalid or listed twice; dropped');
    else if (d.reason === 'no-network')
      logger.error(where, 'saved address lies in no configured network; dropped');
    else if (d.reason === 'held')
      logger.error(
        { ...where, holder: d.holder },
        'saved address lies in a block another node holds; dropped',
      );
    else logger.error({ ...where, owner: d.owner }, 'saved address in an unusable block');
  }
  for (const block of plan.unfit)
    logger.warn({ block }, 'held block no longer fits a configured network; left claimed, unused');
}

/**
 * Puts the plan's blocks, live addresses and quarantine into an empty pool; the quiet periods
 * restart from `now`. Returns the blocks, so the caller can start the grace of the empty ones.
 */
export function applyRestore(plan: RestorePlan, pool: AddressPool, now: number): HeldBlock[] {
  const held = new Map<string, HeldBlock>();
  for (const b of plan.blocks) {
    const h = new HeldBlock(b.prefix, b.network, b.exclude);
    held.set(b.block, h);
    pool.addBlock(h);
  }
  for (const l of plan.live) pool.restoreLive(l.owner, held.get(l.block)!, l.offset);
  for (const q of plan.quarantine)
    pool.restoreQuarantine(held.get(q.block)!, q.offset, now + Math.max(0, q.remainingMs));
  return [...held.values()];
}

function tryPrefix(text: string): Prefix | undefined {
  try {
    return parsePrefix(text);
  } catch {
    return undefined;
  }
}

/** Offset of an address in a block, or -1 when it is not an address inside the block. */
function offsetIn(block: Prefix, address: string): number {
  let bytes: Buffer;
  try {
    bytes = parseAddress(address);
  } catch {
    return -1;
  }
  if (bytes.length !== block.bytes.length) return -1;
  if (!prefixContains(block, { family: block.family, bytes, length: bytes.length * 8 })) return -1;
  return Number(toBigInt(bytes) - toBigInt(block.bytes));
}
