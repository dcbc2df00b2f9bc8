/**
 * The IPAM facade the daemon, the CNI endpoint and `podroute ipam show` call; it allocates.
 *
 * On open it registers the node (once, with its link addresses when given), places it in its
 * group (placement.ts), and takes up the blocks and addresses it had (restore.ts: a pure plan,
 * whose missing claims the leasing renews). Allocation is in-process (allocator.ts); only claiming
 * or returning a whole block touches the store (leasing.ts). What the node knows of every node's
 * blocks, its own announcement and the layer 2 peers is the cluster view (cluster.ts, `cluster`),
 * whose `onChange` the daemon follows; the operator's view is views.ts.
 */
import { join } from 'node:path';
import type { IpamConfig } from '../config/ipam.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import type { Prefix } from '../net/prefix.js';
import { AddressPool, type Allocation } from './allocator.js';
import { ClusterView } from './cluster.js';
import { IpamError, IpamExhaustedError, IpamNetworkError } from './errors.js';
import { BlockLeasing } from './leasing.js';
import { placeNode } from './placement.js';
import { applyRestore, planRestore, reportRestore } from './restore.js';
import { FileNodeState, type NodeStateData, type NodeStateStore, snapshotState } from './state.js';
import type { BlockClaim, BlockStore, ReleaseNodeOptions } from './store/types.js';
import { type GroupSpec, type NetworkSpec, Topology } from './topology.js';
import { type IpamShow, showIpam } from './views.js';

export { IpamError, IpamExhaustedError, IpamNetworkError, IpamPlacementError } from './errors.js';
export type { IpamShow } from './views.js';

export interface IpamNode {
  name: string;
  labels: Readonly<Record<string, string>>;
  /**
   * The node's link addresses, stored in its node record for other nodes' layer 2 routes. Absent:
   * the record keeps the addresses it had.
   */
  addresses?: readonly string[];
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

const ownerKey = (o: Owner): string => `${o.containerId}/${o.ifname}`;
const released = (): boolean => true;

export class Ipam {
  /** Every node's blocks, this node's announcement, the layer 2 peers; `onChange` lives there. */
  readonly cluster: ClusterView;
  private readonly pool: AddressPool;
  private readonly leasing: BlockLeasing;
  private quarantineTimer: TimerHandle | undefined;
  private quarantineAt = Number.POSITIVE_INFINITY;
  private mutex: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly opts: IpamOptions,
    readonly topology: Topology,
    private group: GroupSpec,
    private readonly state: NodeStateStore,
  ) {
    const { clock, logger, node, store, config } = opts;
    this.pool = new AddressPool(config.quarantine * 1000, (b) => this.leasing.scheduleGrace(b));
    this.cluster = new ClusterView({
      node: node.name,
      store,
      clock,
      logger,
      inUse: () => this.pool.heldBlocks().map((b) => b.text),
    });
    const self = this;
    this.leasing = new BlockLeasing({
      node: node.name,
      // Read at each claim: `relabel` may move the node to another group for its next blocks.
      get group() {
        return self.group;
      },
      topology,
      store,
      cluster: this.cluster,
      pool: this.pool,
      clock,
      logger,
      graceMs: config.blockGrace * 1000,
      exclusive: (fn) => this.exclusive(fn),
      changed: () => this.blocksChanged(),
    });
  }

  static async open(opts: IpamOptions): Promise<Ipam> {
    const { config, node, store, logger } = opts;
    const topology = Topology.build(config);
    await store.register(node.name, node.addresses ? { addresses: node.addresses } : undefined);
    const claims = await store.list();
    const state = opts.state ?? new FileNodeState(join(config.stateDir, `ipam-${node.name}.json`));
    const saved = await state.load();
    const mine = claims.filter((c) => c.node === node.name);
    const { group, previous } = placeNode(topology, node, claims, saved?.group);
    if (previous && previous !== group.name) {
      logger.warn(
        { from: previous, to: group.name },
        'node labels moved it to another group; held blocks stay until empty',
      );
    }
    const ipam = new Ipam(opts, topology, group, state);
    for (const c of claims) ipam.cluster.noteClaim(c);
    await ipam.restore(mine, saved);
    ipam.cluster.setLocalBlocks(ipam.pool.heldBlocks().map((b) => b.prefix));
    ipam.cluster.start();
    const allocations = saved?.allocations.length ?? 0;
    logger.info({ group: group.path, blocks: mine.length, allocations, store: store.kind }, 'ipam ready');
    return ipam;
  }

  /** Rebuilds held blocks and allocations; claims again the blocks the saved state needs. */
  private async restore(mine: BlockClaim[], saved: NodeStateData | undefined): Promise<void> {
    const { topology } = this;
    let plan = planRestore({ topology, mine, saved });
    if (plan.reclaim.length > 0) {
      const { claimed, refused } = await this.leasing.renew(plan.reclaim);
      plan = planRestore({ topology, mine: [...mine, ...claimed], saved, refused });
    }
    reportRestore(plan, this.opts.logger);
    const held = applyRestore(plan, this.pool, this.opts.clock.now());
    this.armQuarantine();
    for (const b of held) if (b.empty) this.leasing.scheduleGrace(b);
  }

  /**
   * The node's labels changed (its Node object, when node.source is kubernetes): blocks claimed
   * from now on come from the group the new labels place it in. Held blocks and addresses stay
   * as they are (nothing is renumbered); they go back to their group when empty, as after a
   * restart with new labels. A node that still matches its group stays in it (Topology.place).
   * Returns the move, or undefined when the group stays; labels matching no group keep the old
   * one (logged).
   */
  async relabel(labels: Readonly<Record<string, string>>): Promise<{ from: string; to: string } | undefined> {
    return this.exclusive(async () => {
      const claims = await this.opts.store.list();
      let group: GroupSpec;
      try {
        ({ group } = placeNode(
          this.topology,
          { name: this.opts.node.name, labels },
          claims,
          this.group.name,
        ));
      } catch (e) {
        this.opts.logger.warn(
          { group: this.group.path, error: (e as Error).message },
          'new labels match no group; staying',
        );
        return undefined;
      }
      if (group.name === this.group.name) return undefined;
      const move = { from: this.group.path, to: group.path };
      this.group = group;
      await this.persist();
      this.opts.logger.warn(
        move,
        'node labels moved it to another group: new blocks come from there, held blocks stay until empty',
      );
      return move;
    });
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
  allocate(owner: Owner, opts: { network?: string } = {}): Promise<AddressLease> {
    // Not async: nested async frames cost ~30% of this path (once per CNI ADD). A throw rejects.
    try {
      if (this.closed) throw new IpamError('ipam is closed');
      const key = ownerKey(owner);
      const had = this.pool.get(key);
      if (had) return Promise.resolve(this.lease(had));
      const nets = this.networksFor(opts.network);
      const now = this.opts.clock.now();
      for (const net of nets) {
        const a = this.pool.allocate(key, net.name, now);
        if (a) return this.allocated(a);
      }
      return this.allocateSlow(key, nets);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Claims blocks one at a time, under the mutex so concurrent callers share them. */
  private allocateSlow(key: string, nets: readonly NetworkSpec[]): Promise<AddressLease> {
    return this.exclusive(async () => {
      const again = this.pool.get(key);
      if (again) return this.lease(again);
      for (const net of nets) {
        for (;;) {
          const a = this.pool.allocate(key, net.name, this.opts.clock.now());
          if (a) return this.allocated(a);
          if (!(await this.leasing.claim(net))) break;
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
    if (n) return [n];
    if (!this.topology.network(name)) {
      throw new IpamNetworkError(`network ${name} is not defined (ipam.networks)`, name);
    }
    const path = this.group.path;
    throw new IpamNetworkError(`network ${name} is not one of group ${path}'s networks`, name, path);
  }

  private allocated(a: Allocation): Promise<AddressLease> {
    this.leasing.keep(a.block);
    const lease = this.lease(a);
    return this.persist().then(() => lease);
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

  /** This node's blocks with their network and addresses in use (VLAN data plane, status). */
  localBlocks(): { block: Prefix; network: string; used: number }[] {
    return this.pool.heldBlocks().map((b) => ({ block: b.prefix, network: b.network.name, used: b.live }));
  }

  /** Frees the owner's address (into quarantine). False when the owner had none. */
  release(owner: Owner): Promise<boolean> {
    try {
      const a = this.pool.release(ownerKey(owner), this.opts.clock.now());
      if (!a) return Promise.resolve(false);
      if (a.block.empty) this.leasing.scheduleGrace(a.block);
      else this.armQuarantine();
      return this.persist().then(released);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * CNI 1.1 GC (SPEC.md "GC: Clean up any stale resources"): frees, as DEL would, every allocation
   * whose owner is not among `valid` (the runtime's `cni.dev/valid-attachments`), with one save.
   * Answers the owners freed.
   */
  async gc(valid: readonly Owner[]): Promise<Owner[]> {
    const keep = new Set(valid.map(ownerKey));
    const stale = [...this.pool.allocations()].filter((a) => !keep.has(a.owner)).map((a) => a.owner);
    const now = this.opts.clock.now();
    for (const key of stale) {
      const a = this.pool.release(key, now);
      if (a?.block.empty) this.leasing.scheduleGrace(a.block);
    }
    if (stale.length === 0) return [];
    this.armQuarantine();
    await this.persist();
    return stale.map((k) => {
      const slash = k.lastIndexOf('/');
      return { containerId: k.slice(0, slash), ifname: k.slice(slash + 1) };
    });
  }

  /** The current address of an owner, if any. */
  lookup(owner: Owner): AddressLease | undefined {
    const a = this.pool.get(ownerKey(owner));
    return a ? this.lease(a) : undefined;
  }

  /** Minimal set of prefixes covering exactly this node's blocks. */
  announcement(): Prefix[] {
    return this.cluster.aggregate();
  }

  /** Subscribes to changes of this node's announcement, of any node's blocks, of the peers. */
  onChange(cb: () => void): () => void {
    return this.cluster.onChange(cb);
  }

  /** Every node's blocks (this one included), sorted: for layer 2 routes and `ipam show`. */
  blocksByNode(): Map<string, Prefix[]> {
    return this.cluster.blocksByNode();
  }

  /** Frees the blocks of a node gone for good (operator command). Never this node. */
  async releaseNode(name: string, opts: ReleaseNodeOptions = {}): Promise<number> {
    if (name === this.opts.node.name)
      throw new IpamError(`node ${name} is this node; it releases its own blocks when empty`);
    const n = await this.opts.store.releaseNode(name, opts);
    await this.refresh();
    return n;
  }

  /** Re-reads the store (the watch does this too); listeners hear of a difference. */
  refresh(): Promise<void> {
    return this.cluster.refresh();
  }

  show(): IpamShow {
    return showIpam({
      node: this.opts.node.name,
      groupPath: this.group.path,
      storeKind: this.opts.store.kind,
      topology: this.topology,
      announcement: this.cluster.aggregate(),
      claims: this.cluster.allClaims(),
      blocksByNode: this.cluster.blocksByNode(),
      held: this.pool.heldBlocks(),
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.cluster.stopWatching();
    let viewClosed: Promise<void> = Promise.resolve();
    await this.exclusive(async () => {
      this.closed = true;
      this.leasing.close();
      viewClosed = this.cluster.close();
    });
    this.quarantineTimer?.cancel();
    await this.persist();
    await viewClosed;
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

  /** A block was claimed or given back: save, then re-announce (the view tells the listeners). */
  private blocksChanged(): void {
    void this.persist();
    this.cluster.setLocalBlocks(this.pool.heldBlocks().map((b) => b.prefix));
  }

  private readonly snapshotFn = (): NodeStateData =>
    snapshotState(this.opts.node.name, this.group.name, this.pool, this.opts.clock.now());

  private persist(): Promise<void> {
    return this.state.save(this.snapshotFn);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.mutex.then(fn, fn);
    this.mutex = p.catch(() => {});
    return p;
  }
}
