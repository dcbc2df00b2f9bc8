/**
 * The IPAM facade the daemon, the CNI endpoint and `podroute ipam show` call.
 *
 * On open it places the node in its group (topology.ts), loads the blocks the store says it holds
 * and the per-address state the node saved (state.ts), and re-claims any block the saved state
 * needs. Allocation is in-process (allocator.ts); only claiming or returning a whole block touches
 * the store, one compare-and-swap on one block (store/types.ts). Every change of this node's block
 * set, and every change of other nodes' claims seen through the store's watch, fires `onChange`
 * so the advertiser re-reads `announcement()` and the route programmer `blocksByNode()`.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { IpamConfig } from '../config/ipam.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { aggregate } from '../net/aggregate.js';
import {
  comparePrefix,
  formatPrefix,
  type Prefix,
  parseAddress,
  parsePrefix,
  prefixContains,
  toBigInt,
} from '../net/prefix.js';
import { AddressPool, type Allocation, HeldBlock } from './allocator.js';
import { chooseBlock, freeSpace } from './carve.js';
import { FileNodeState, type NodeStateData, type NodeStateStore } from './state.js';
import type { BlockClaim, BlockStore, ReleaseNodeOptions } from './store/types.js';
import { type GroupSpec, type NetworkSpec, Topology } from './topology.js';

export interface IpamNode {
  name: string;
  labels: Readonly<Record<string, string>>;
}

export interface IpamOptions {
  config: IpamConfig;
  node: IpamNode;
  store: BlockStore;
  clock: Clock;
  logger: Logger;
  /** Where this node's allocations survive restarts; default `<stateDir>/ipam-<node>.json`. */
  state?: NodeStateStore;
}

/** Who holds an address: one pod interface (CNI: container id and interface name). */
export interface Owner {
  containerId: string;
  ifname: string;
}

export interface AddressLease {
  address: string;
  /**
   * 32 / 128 (a host route; the node routes for the pod) unless the network has a gateway: then
   * the pod sits on that VLAN segment and gets the length of the range it is in.
   */
  prefixLength: number;
  gateway?: string;
  vlan?: number;
  /** The block the address came from, and its network and group. */
  block: string;
  network: string;
  group: string;
}

export interface IpamShow {
  node: string;
  group: string;
  store: string;
  announcement: string[];
  networks: {
    name: string;
    cidrs: string[];
    blockSize: number;
    vlan?: number;
    gateway?: string;
    blocksClaimed: number;
    blocksTotal: number;
  }[];
  groups: {
    name: string;
    path: string;
    selector: Record<string, string>;
    cidrs: string[] | 'shared';
    nodes: string[];
  }[];
  nodes: { node: string; blocks: string[]; announcement: string[] }[];
  local: {
    blocks: {
      block: string;
      network: string;
      used: number;
      quarantined: number;
      free: number;
      capacity: number;
      usePercent: number;
    }[];
    used: number;
    capacity: number;
    usePercent: number;
  };
}

export class IpamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IpamError';
  }
}

/** No group matches the node's labels: a configuration error, reported like one. */
export class IpamPlacementError extends IpamError {
  constructor(message: string) {
    super(message);
    this.name = 'IpamPlacementError';
  }
}

export class IpamExhaustedError extends IpamError {
  constructor(message: string) {
    super(message);
    this.name = 'IpamExhaustedError';
  }
}

const ownerKey = (o: Owner): string => `${o.containerId}/${o.ifname}`;
const newClaimId = (): string => randomBytes(8).toString('hex');

export class Ipam {
  private readonly pool: AddressPool;
  private readonly claims = new Map<string, BlockClaim>();
  private readonly listeners = new Set<() => void>();
  private readonly grace = new Map<string, TimerHandle>();
  private quarantineTimer: TimerHandle | undefined;
  private quarantineAt = Number.POSITIVE_INFINITY;
  private mutex: Promise<unknown> = Promise.resolve();
  private unwatch: (() => void) | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private announced: Prefix[] = [];
  private closed = false;
  private readonly graceMs: number;

  private constructor(
    private readonly opts: IpamOptions,
    readonly topology: Topology,
    private readonly group: GroupSpec,
    private readonly state: NodeStateStore,
  ) {
    this.pool = new AddressPool(opts.config.quarantine * 1000, (b) => this.scheduleGrace(b));
    this.graceMs = opts.config.blockGrace * 1000;
  }

  static async open(opts: IpamOptions): Promise<Ipam> {
    const { config, node, store, logger } = opts;
    const topology = Topology.build(config);
    await store.register(node.name);
    const claims = await store.list();
    const state = opts.state ?? new FileNodeState(join(config.stateDir, `ipam-${node.name}.json`));
    const saved = await state.load();
    const mine = claims.filter((c) => c.node === node.name);
    const nodesPerGroup = new Map<string, Set<string>>();
    for (const c of claims) {
      if (c.node === node.name) continue;
      const s = getOrAdd(nodesPerGroup, c.group, () => new Set<string>());
      s.add(c.node);
    }
    // The saved group is the latest placement; the store's claims may span an older group too.
    const current = saved?.group ?? mine[0]?.group;
    const group = topology.place(node.labels, (g) => nodesPerGroup.get(g.name)?.size ?? 0, current);
    if (!group) {
      const groups = topology.groups.map((g) => `${g.path} ${JSON.stringify(g.selector)}`).join(', ');
      throw new IpamPlacementError(
        `node.labels: ${JSON.stringify(node.labels)} matches no group in ipam.groups (${groups})`,
      );
    }
    if (current && current !== group.name) {
      logger.warn(
        { from: current, to: group.name },
        'node labels moved it to another group; held blocks stay until empty',
      );
    }
    const ipam = new Ipam(opts, topology, group, state);
    for (const c of claims) ipam.claims.set(c.block, c);
    await ipam.restore(mine, saved);
    ipam.announced = ipam.computeAnnouncement();
    ipam.unwatch = store.watch(() => {
      void ipam.refresh();
    });
    logger.info(
      {
        group: group.path,
        blocks: mine.length,
        allocations: saved?.allocations.length ?? 0,
        store: store.kind,
      },
      'ipam ready',
    );
    return ipam;
  }

  /** Rebuilds held blocks and allocations; re-claims blocks the saved state needs. */
  private async restore(mine: BlockClaim[], saved: NodeStateData | undefined): Promise<void> {
    const { logger, node, store } = this.opts;
    const exclude = new Map<string, Set<number>>();
    const wanted = new Set(mine.map((c) => c.block));
    const rows = [
      ...(saved?.allocations ?? []).map((a) => ({ ...a, live: true, remainingMs: 0 })),
      ...(saved?.quarantine ?? []).map((q) => ({ ...q, owner: '', live: false })),
    ];
    const usable: typeof rows = [];
    const seen = new Set<string>();
    for (const r of rows) {
      let block: Prefix;
      try {
        block = parsePrefix(r.block);
      } catch {
        block = parsePrefix('0.0.0.0/32');
      }
      if (offsetIn(block, r.address) < 0 || seen.has(r.address)) {
        logger.error(
          { block: r.block, address: r.address, owner: r.owner },
          'saved address is invalid or listed twice; dropped',
        );
        continue;
      }
      seen.add(r.address);
      if (!wanted.has(r.block)) {
        // The state says we used this block but the store lost or never recorded our claim.
        const net = this.topology.networkOf(block);
        if (!net) {
          logger.error(
            { block: r.block, address: r.address },
            'saved address lies in no configured network; dropped',
          );
          continue;
        }
        const claim: BlockClaim = {
          block: r.block,
          node: node.name,
          group: this.group.name,
          network: net.name,
          claimId: newClaimId(),
        };
        const res = await store.claim(claim);
        if (!res.ok) {
          logger.error(
            { block: r.block, address: r.address, holder: res.holder.node },
            'saved address lies in a block another node holds; dropped',
          );
          continue;
        }
        wanted.add(r.block);
        this.claims.set(claim.block, claim);
      }
      usable.push(r);
    }
    const holds = [...wanted];
    const heldBlocks = new Map<string, HeldBlock>();
    for (const r of usable) {
      const p = parsePrefix(r.block);
      const off = offsetIn(p, r.address);
      if (off < 0) continue;
      const s = getOrAdd(exclude, r.block, () => new Set<number>());
      s.add(off);
    }
    for (const text of holds) {
      const prefix = parsePrefix(text);
      const claim = this.claims.get(text);
      const net = (claim && this.topology.network(claim.network)) ?? this.topology.networkOf(prefix);
      if (!net || net.blockLength !== prefix.length) {
        logger.warn({ block: text }, 'held block no longer fits a configured network; left claimed, unused');
        continue;
      }
      const b = new HeldBlock(prefix, net, exclude.get(text));
      heldBlocks.set(text, b);
      this.pool.addBlock(b);
    }
    const now = this.opts.clock.now();
    for (const r of usable.filter((x) => x.live)) {
      const b = heldBlocks.get(r.block);
      if (b) this.pool.restoreLive(r.owner, b, offsetIn(b.prefix, r.address));
      else
        logger.error(
          { block: r.block, address: r.address, owner: r.owner },
          'saved address in an unusable block',
        );
    }
    for (const r of usable.filter((x) => !x.live).sort((a, b) => a.remainingMs - b.remainingMs)) {
      const b = heldBlocks.get(r.block);
      if (b) this.pool.restoreQuarantine(b, offsetIn(b.prefix, r.address), now + Math.max(0, r.remainingMs));
    }
    this.armQuarantine();
    for (const b of heldBlocks.values()) if (b.empty) this.scheduleGrace(b);
  }

  /** The group this node was placed in. */
  get groupName(): string {
    return this.group.name;
  }

  /**
   * Gives the owner an address (the same one again if it has one). Claims a new block when the
   * node's blocks of the network are full. `network` picks one of the group's networks by name;
   * default: the first of the group's networks with room.
   */
  async allocate(owner: Owner, opts: { network?: string } = {}): Promise<AddressLease> {
    if (this.closed) throw new IpamError('ipam is closed');
    const key = ownerKey(owner);
    const had = this.pool.get(key);
    if (had) return this.lease(had);
    const nets = this.networksFor(opts.network);
    const now = this.opts.clock.now();
    for (const net of nets) {
      const a = this.pool.allocate(key, net.name, now);
      if (a) return this.allocated(a);
    }
    // Slow path: claim blocks one at a time, under the mutex so concurrent callers share them.
    return this.exclusive(async () => {
      const again = this.pool.get(key);
      if (again) return this.lease(again);
      for (const net of nets) {
        for (;;) {
          const a = this.pool.allocate(key, net.name, this.opts.clock.now());
          if (a) return this.allocated(a);
          if (!(await this.claimBlock(net))) break;
        }
      }
      throw new IpamExhaustedError(
        `group ${this.group.path}: no free address or block left in network ${nets.map((n) => n.name).join(', ')}`,
      );
    });
  }

  private networksFor(name: string | undefined): readonly NetworkSpec[] {
    if (name === undefined) return this.group.networks;
    const n = this.group.networks.find((x) => x.name === name);
    if (!n) throw new IpamError(`network ${name} is not one of group ${this.group.path}'s networks`);
    return [n];
  }

  private async allocated(a: Allocation): Promise<AddressLease> {
    const t = this.grace.get(a.block.text);
    if (t) {
      t.cancel();
      this.grace.delete(a.block.text);
    }
    await this.persist();
    return this.lease(a);
  }

  private lease(a: Allocation): AddressLease {
    const net = a.block.network;
    // Plain literal, no spreads: this runs once per CNI ADD and in the benchmark's hot loop.
    const out: AddressLease = {
      address: a.address,
      prefixLength: a.block.podPrefixLength,
      block: a.block.text,
      network: net.name,
      group: this.group.name,
    };
    if (net.gateway !== undefined) out.gateway = net.gateway;
    if (net.vlan !== undefined) out.vlan = net.vlan;
    return out;
  }

  /** Frees the owner's address (into quarantine). False when the owner had none. */
  async release(owner: Owner): Promise<boolean> {
    const a = this.pool.release(ownerKey(owner), this.opts.clock.now());
    if (!a) return false;
    if (a.block.empty) this.scheduleGrace(a.block);
    else this.armQuarantine();
    await this.persist();
    return true;
  }

  /** The current address of an owner, if any. */
  lookup(owner: Owner): AddressLease | undefined {
    const a = this.pool.get(ownerKey(owner));
    return a ? this.lease(a) : undefined;
  }

  /** Minimal set of prefixes covering exactly this node's blocks. */
  announcement(): Prefix[] {
    return this.announced;
  }

  /** Subscribes to changes of this node's announcement or of any node's blocks. */
  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Every node's blocks (this one included), sorted: for layer 2 routes and `ipam show`. */
  blocksByNode(): Map<string, Prefix[]> {
    const out = new Map<string, Prefix[]>();
    for (const c of this.claims.values()) {
      const l = getOrAdd(out, c.node, () => [] as Prefix[]);
      l.push(parsePrefix(c.block));
    }
    for (const l of out.values()) l.sort(comparePrefix);
    return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Frees the blocks of a node gone for good (operator command). Never this node. */
  async releaseNode(name: string, opts: ReleaseNodeOptions = {}): Promise<number> {
    if (name === this.opts.node.name)
      throw new IpamError(`node ${name} is this node; it releases its own blocks when empty`);
    const n = await this.opts.store.releaseNode(name, opts);
    await this.refresh();
    return n;
  }

  /** Re-reads every claim from the store (the watch calls this); fires onChange on a difference. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    const run = async (): Promise<void> => {
      do {
        this.refreshAgain = false;
        let list: BlockClaim[];
        try {
          list = await this.opts.store.list();
        } catch (e) {
          this.opts.logger.warn({ err: (e as Error).message }, 'cannot re-read block claims');
          return;
        }
        if (this.closed) return;
        const before = [...this.claims.values()].map((c) => `${c.block} ${c.node}`).join();
        const me = this.opts.node.name;
        for (const b of this.pool.heldBlocks()) {
          const c = list.find((x) => x.block === b.text);
          if (!c || c.node !== me) {
            this.opts.logger.error(
              { block: b.text, holder: c?.node ?? null },
              'a block this node uses lost its claim in the store',
            );
          }
        }
        // Our own claims are authoritative locally until we release them.
        this.claims.clear();
        for (const c of list) this.claims.set(c.block, c);
        const after = list.map((c) => `${c.block} ${c.node}`).join();
        if (before !== after) this.emit();
      } while (this.refreshAgain);
    };
    this.refreshing = run().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  show(): IpamShow {
    const byNode = this.blocksByNode();
    const groupNodes = new Map<string, Set<string>>();
    for (const c of this.claims.values()) {
      const s = getOrAdd(groupNodes, c.group, () => new Set<string>());
      s.add(c.node);
    }
    const local = this.pool.heldBlocks().map((b) => ({
      block: b.text,
      network: b.network.name,
      used: b.live,
      quarantined: b.quarantined,
      free: b.freeCount,
      capacity: b.capacity,
      usePercent: percent(b.live, b.capacity),
    }));
    const used = local.reduce((s, b) => s + b.used, 0);
    const capacity = local.reduce((s, b) => s + b.capacity, 0);
    return {
      node: this.opts.node.name,
      group: this.group.path,
      store: this.opts.store.kind,
      announcement: this.announced.map(formatPrefix),
      networks: this.topology.networks.map((n) => ({
        name: n.name,
        cidrs: n.ranges.map(formatPrefix),
        blockSize: n.blockLength,
        ...(n.vlan !== undefined ? { vlan: n.vlan } : {}),
        ...(n.gateway !== undefined ? { gateway: n.gateway } : {}),
        blocksClaimed: [...this.claims.values()].filter((c) => c.network === n.name).length,
        blocksTotal: Number(n.ranges.reduce((s, r) => s + (1n << BigInt(n.blockLength - r.length)), 0n)),
      })),
      groups: this.topology.groups.map((g) => ({
        name: g.name,
        path: g.path,
        selector: { ...g.selector },
        cidrs: g.explicit ? g.explicit.map(formatPrefix) : 'shared',
        nodes: [...(groupNodes.get(g.name) ?? [])].sort(),
      })),
      nodes: [...byNode.entries()].map(([node, blocks]) => ({
        node,
        blocks: blocks.map(formatPrefix),
        announcement: aggregate(blocks).map(formatPrefix),
      })),
      local: { blocks: local, used, capacity, usePercent: percent(used, capacity) },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.unwatch?.();
    await this.exclusive(async () => {
      this.closed = true;
    });
    for (const t of this.grace.values()) t.cancel();
    this.grace.clear();
    this.quarantineTimer?.cancel();
    await this.persist();
    await this.refreshing;
    this.listeners.clear();
  }

  // ===== blocks =====

  /** Claims one more block of `net` for this node; false when the group has none left. */
  private async claimBlock(net: NetworkSpec): Promise<boolean> {
    const pool = this.topology.pool(this.group, net);
    const me = this.opts.node.name;
    for (let attempt = 0; attempt < 64; attempt++) {
      const claimed = [...this.claims.keys()].map((b) => parsePrefix(b));
      const held = this.pool
        .heldBlocks()
        .filter((b) => b.network === net)
        .map((b) => b.prefix);
      const choice = chooseBlock(freeSpace(pool, claimed, net.blockLength), net.blockLength, held);
      if (!choice) return false;
      const claim: BlockClaim = {
        block: formatPrefix(choice),
        node: me,
        group: this.group.name,
        network: net.name,
        claimId: newClaimId(),
      };
      const res = await this.opts.store.claim(claim);
      if (res.ok) {
        this.claims.set(claim.block, claim);
        this.pool.addBlock(new HeldBlock(choice, net));
        this.opts.logger.info(
          { block: claim.block, network: net.name, group: this.group.path },
          'claimed block',
        );
        this.blocksChanged();
        return true;
      }
      // Someone took it first: remember, and every few losses re-read everything.
      this.claims.set(res.holder.block, res.holder);
      if (attempt % 8 === 7) await this.refresh();
    }
    throw new IpamError(
      `group ${this.group.path}: lost the race for a block of ${net.name} 64 times; store too busy`,
    );
  }

  private scheduleGrace(b: HeldBlock): void {
    if (this.closed || this.grace.has(b.text)) return;
    this.grace.set(
      b.text,
      this.opts.clock.setTimer(this.graceMs, () => {
        this.grace.delete(b.text);
        void this.returnBlock(b);
      }),
    );
  }

  /** Gives an empty block back to the group after its grace period. */
  private returnBlock(b: HeldBlock): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed || !b.empty || this.pool.block(b.text) !== b) return;
      this.pool.removeBlock(b.text);
      try {
        await this.opts.store.release(b.text, this.opts.node.name);
      } catch (e) {
        this.opts.logger.warn(
          { block: b.text, err: (e as Error).message },
          'cannot return block; will retry',
        );
        const again = new HeldBlock(b.prefix, b.network);
        this.pool.addBlock(again);
        this.scheduleGrace(again);
        return;
      }
      this.claims.delete(b.text);
      this.opts.logger.info({ block: b.text }, 'returned empty block');
      this.blocksChanged();
    });
  }

  private armQuarantine(): void {
    const at = this.pool.nextExpiry();
    if (at === undefined || this.closed || at >= this.quarantineAt) return;
    this.quarantineTimer?.cancel();
    this.quarantineAt = at;
    this.quarantineTimer = this.opts.clock.setTimer(at - this.opts.clock.now(), () => {
      this.quarantineTimer = undefined;
      this.quarantineAt = Number.POSITIVE_INFINITY;
      this.pool.expire(this.opts.clock.now()); // emptied blocks reach scheduleGrace via onEmpty
      this.armQuarantine();
    });
  }

  private blocksChanged(): void {
    this.announced = this.computeAnnouncement();
    void this.persist();
    this.emit();
  }

  private computeAnnouncement(): Prefix[] {
    return aggregate(this.pool.heldBlocks().map((b) => b.prefix));
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

  private readonly snapshotFn = (): NodeStateData => this.snapshot();

  private persist(): Promise<void> {
    return this.state.save(this.snapshotFn);
  }

  private snapshot(): NodeStateData {
    const now = this.opts.clock.now();
    return {
      version: 1,
      node: this.opts.node.name,
      group: this.group.name,
      allocations: [...this.pool.allocations()].map((a) => ({
        owner: a.owner,
        address: a.address,
        block: a.block.text,
      })),
      quarantine: this.pool.quarantine().map((q) => ({
        address: q.block.address(q.offset),
        block: q.block.text,
        remainingMs: Math.max(0, q.until - now),
      })),
    };
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.mutex.then(fn, fn);
    this.mutex = p.catch(() => {});
    return p;
  }
}

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

function getOrAdd<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
}

function percent(n: number, of: number): number {
  return of === 0 ? 0 : Math.round((n / of) * 1000) / 10;
}
