/**
 * Addresses inside the blocks one node holds. Synchronous and allocation-free on the hot path so
 * the CNI path costs microseconds: each block keeps a FIFO ring of free offsets (a freed address
 * goes to the back, so reuse is as late as possible), and freed addresses wait in one quarantine
 * queue (ordered by expiry, since the quiet period is one constant) before rejoining their ring.
 *
 * Never handed out: each network range's first and last address, the gateway, `reserved`
 * (NetworkSpec.reserved). Romana (the IPAM podroute replaces) reused a freed IP at once; stale ARP,
 * conntrack and DNS entries then point at the wrong pod.
 */
import { bigMax, bigMin } from '../net/aggregate.js';
import {
  addressBits,
  formatAddress,
  type Prefix,
  prefixContains,
  prefixSize,
  toBigInt,
} from '../net/prefix.js';
import type { NetworkSpec } from './topology.js';

export class HeldBlock {
  readonly text: string;
  readonly size: number;
  /** Addresses in use by an owner. */
  live = 0;
  /** Freed addresses still in quarantine. */
  quarantined = 0;
  private readonly ring: Int32Array;
  private head = 0;
  private free = 0;
  private readonly v4Base: number;
  private readonly usable: number;
  /**
   * Prefix length given to pods: a host route (32/128), unless the network has a gateway; then
   * the pod sits on that segment and gets the length of the range the block lies in.
   */
  readonly podPrefixLength: number;

  constructor(
    readonly prefix: Prefix,
    readonly network: NetworkSpec,
    exclude: ReadonlySet<number> = new Set(),
  ) {
    this.text = `${formatAddress(prefix.bytes)}/${prefix.length}`;
    this.size = Number(prefixSize(prefix));
    this.ring = new Int32Array(this.size);
    this.v4Base = prefix.family === 4 ? prefix.bytes.readUInt32BE(0) : 0;
    const reserved = reservedOffsets(prefix, network);
    for (let i = 0; i < this.size; i++) {
      if (!reserved.has(i) && !exclude.has(i)) this.ring[this.free++] = i;
    }
    this.usable = this.size - reserved.size;
    const segment = network.ranges.find((r) => prefixContains(r, prefix));
    this.podPrefixLength =
      network.gateway !== undefined && segment ? segment.length : addressBits(prefix.family);
  }

  get freeCount(): number {
    return this.free;
  }

  /** Addresses that can ever be handed out (size minus reserved). */
  get capacity(): number {
    return this.usable;
  }

  get empty(): boolean {
    return this.live === 0 && this.quarantined === 0;
  }

  /** Takes the oldest free offset, or -1. */
  take(): number {
    if (this.free === 0) return -1;
    const i = this.ring[this.head]!;
    this.head = (this.head + 1) % this.size;
    this.free--;
    return i;
  }

  /** Puts an offset back at the end of the ring. */
  giveBack(offset: number): void {
    this.ring[(this.head + this.free) % this.size] = offset;
    this.free++;
  }

  address(offset: number): string {
    if (this.prefix.family === 4) {
      const n = this.v4Base + offset;
      return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    }
    const b = Buffer.from(this.prefix.bytes);
    // Blocks have at most 16 host bits (src/config/ipam-rules.ts), aligned: the offset fits the last 2 bytes.
    b.writeUInt16BE(b.readUInt16BE(14) | offset, 14);
    return formatAddress(b);
  }

  /** Offset of an address in this block, or -1 when outside. */
  offsetOf(address: Buffer): number {
    if (address.length !== this.prefix.bytes.length) return -1;
    const bits = addressBits(this.prefix.family);
    if (!prefixContains(this.prefix, { family: this.prefix.family, bytes: address, length: bits })) return -1;
    return Number(toBigInt(address) - toBigInt(this.prefix.bytes));
  }
}

function reservedOffsets(block: Prefix, network: NetworkSpec): Set<number> {
  const out = new Set<number>();
  const base = toBigInt(block.bytes);
  const end = base + prefixSize(block) - 1n;
  for (const r of network.reserved) {
    if (r.family !== block.family) continue;
    const first = toBigInt(r.bytes);
    const last = first + prefixSize(r) - 1n;
    const lo = bigMax(first, base);
    const hi = bigMin(last, end);
    for (let a = lo; a <= hi; a++) out.add(Number(a - base));
  }
  return out;
}

export interface Allocation {
  readonly owner: string;
  readonly block: HeldBlock;
  readonly offset: number;
  readonly address: string;
}

interface Quarantined {
  block: HeldBlock;
  offset: number;
  until: number;
}

export class AddressPool {
  private readonly blocks = new Map<string, HeldBlock>();
  private readonly byOwner = new Map<string, Allocation>();
  private queue: Quarantined[] = [];
  private qHead = 0;
  /** Per network: the block we last allocated from (checked first). */
  private readonly current = new Map<string, HeldBlock>();

  /**
   * `onEmpty` hears of every block whose last quarantined address came free, whichever call
   * noticed it (the facade's timer or a later `allocate`), so no empty block is missed.
   */
  constructor(
    private readonly quietMs: number,
    private readonly onEmpty: (b: HeldBlock) => void = () => {},
  ) {}

  addBlock(block: HeldBlock): void {
    this.blocks.set(block.text, block);
  }

  /** Drops a block (it must be empty); its quarantine entries go with it. */
  removeBlock(text: string): void {
    const b = this.blocks.get(text);
    if (!b) return;
    this.blocks.delete(text);
    if (this.current.get(b.network.name) === b) this.current.delete(b.network.name);
    if (b.quarantined > 0) {
      this.queue = this.queue.slice(this.qHead).filter((q) => q.block !== b);
      this.qHead = 0;
    }
  }

  block(text: string): HeldBlock | undefined {
    return this.blocks.get(text);
  }

  heldBlocks(): HeldBlock[] {
    return [...this.blocks.values()];
  }

  get(owner: string): Allocation | undefined {
    return this.byOwner.get(owner);
  }

  allocations(): IterableIterator<Allocation> {
    return this.byOwner.values();
  }

  /** Takes a free address in a block of `network`; undefined when every block is full. */
  allocate(owner: string, network: string, now: number): Allocation | undefined {
    this.expire(now);
    let block = this.current.get(network);
    if (!block || block.freeCount === 0) {
      block = undefined;
      for (const b of this.blocks.values()) {
        if (b.network.name === network && b.freeCount > 0) {
          block = b;
          break;
        }
      }
      if (!block) return undefined;
      this.current.set(network, block);
    }
    const offset = block.take();
    return this.bind(owner, block, offset);
  }

  private bind(owner: string, block: HeldBlock, offset: number): Allocation {
    block.live++;
    const a: Allocation = { owner, block, offset, address: block.address(offset) };
    this.byOwner.set(owner, a);
    return a;
  }

  /** Frees the owner's address into quarantine. */
  release(owner: string, now: number): Allocation | undefined {
    const a = this.byOwner.get(owner);
    if (!a) return undefined;
    this.byOwner.delete(owner);
    a.block.live--;
    if (this.quietMs <= 0) a.block.giveBack(a.offset);
    else {
      a.block.quarantined++;
      this.queue.push({ block: a.block, offset: a.offset, until: now + this.quietMs });
    }
    return a;
  }

  /** Returns quarantined addresses whose quiet period is over; lists blocks that became empty. */
  expire(now: number): HeldBlock[] {
    const emptied: HeldBlock[] = [];
    const q = this.queue;
    while (this.qHead < q.length && q[this.qHead]!.until <= now) {
      const e = q[this.qHead++]!;
      e.block.quarantined--;
      e.block.giveBack(e.offset);
      if (e.block.empty) {
        emptied.push(e.block);
        this.onEmpty(e.block);
      }
    }
    if (this.qHead > 1024 && this.qHead * 2 > q.length) {
      this.queue = q.slice(this.qHead);
      this.qHead = 0;
    }
    return emptied;
  }

  /** When the next quarantined address comes free, or undefined. */
  nextExpiry(): number | undefined {
    return this.queue[this.qHead]?.until;
  }

  quarantine(): { block: HeldBlock; offset: number; until: number }[] {
    return this.queue.slice(this.qHead);
  }

  // ===== restore after restart (the block was built excluding these offsets) =====

  restoreLive(owner: string, block: HeldBlock, offset: number): Allocation {
    return this.bind(owner, block, offset);
  }

  /** Entries must come in expiry order and before any new release. */
  restoreQuarantine(block: HeldBlock, offset: number, until: number): void {
    block.quarantined++;
    this.queue.push({ block, offset, until });
  }
}
