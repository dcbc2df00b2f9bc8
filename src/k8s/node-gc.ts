/**
 * Releases the IPAM blocks of Nodes that are gone. Runs on the leader only (the daemon starts it
 * when the Lease is won and stops it when lost, lease.ts): it lists and watches every Node
 * (cluster-wide; the same list + watch + 410-relist conventions as node-watch.ts) and compares
 * them with the nodes the block store knows. A store node with no Node object (deleted while
 * we watched, or before we became leader) is released after a grace period, once, and logged; a
 * Node that comes back within the grace period cancels it. The grace period is counted from when
 * this leader saw the Node missing, so a new leader never releases sooner than it should.
 *
 * The release is the operator's `podroute ipam release-node` without `--force`: a node the store
 * still sees alive (its etcd lease, its process) is not released; that is retried later.
 */
import type { V1Node } from '@kubernetes/client-node';
import { Backoff } from '../lib/backoff.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { describeApiError, type OpenOptions, statusOf, type WatchEvent, type WatchHandle } from './client.js';
import type { LeaseStatus } from './lease.js';

/** List and watch every Node. */
export interface NodeListApi {
  readonly server: string;
  list(): Promise<{ items: V1Node[]; resourceVersion: string }>;
  watch(
    resourceVersion: string,
    onEvent: (e: WatchEvent) => void,
    done: (err: unknown) => void,
  ): Promise<WatchHandle>;
}

export async function openNodeListApi(opts: OpenOptions = {}): Promise<NodeListApi> {
  const k8s = await import('@kubernetes/client-node');
  const env = opts.env ?? process.env;
  const kc = new k8s.KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else if (env.KUBERNETES_SERVICE_HOST && !env.KUBECONFIG) kc.loadFromCluster();
  else kc.loadFromDefault();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const watcher = new k8s.Watch(kc);
  return {
    server: kc.getCurrentCluster()?.server ?? '(no cluster in the kubeconfig)',
    async list() {
      const l = await core.listNode();
      return { items: l.items, resourceVersion: l.metadata?.resourceVersion ?? '' };
    },
    async watch(resourceVersion, onEvent, done) {
      const c = await watcher.watch(
        '/api/v1/nodes',
        { resourceVersion, allowWatchBookmarks: true },
        (type: string, object: WatchEvent['object']) => onEvent({ type: type as WatchEvent['type'], object }),
        done,
      );
      return { abort: () => c.abort() };
    },
  };
}

/** What the collector needs of IPAM (the daemon passes the Ipam facade and its store). */
export interface BlockReleaser {
  /** Every node the block store knows (a claim or a node record). */
  storeNodes(): Promise<string[]>;
  /** `podroute ipam release-node NAME`: blocks freed; NodeAliveError while the node looks alive. */
  releaseNode(name: string): Promise<number>;
}

export interface NodeGcOptions {
  api: NodeListApi;
  ipam: BlockReleaser;
  /** This node: never released. */
  self: string;
  clock: Clock;
  logger: Logger;
  /** ms a Node must stay gone before its blocks are released. */
  graceMs: number;
  /** ms before a release that failed (node still alive, store unreachable) is tried again (default 60 s). */
  retryMs?: number;
  /** Checked before releasing: the Lease may have been lost meanwhile. */
  isLeader: () => boolean;
  backoff?: { initialMs?: number; maxMs?: number; random?: (() => number) | null };
}

/** `podroute status`, `nodeGc`: the Lease that picks the one releasing node, and its work. */
export interface NodeGcStatus {
  lease: LeaseStatus;
  /** Deleted Nodes waiting out the grace period (only the leader counts them). */
  waiting: string[];
  /** Releases this node did, oldest first. */
  released: { node: string; blocks: number }[];
}

export class NodeGc {
  private readonly nodes = new Set<string>();
  private readonly pending = new Map<string, TimerHandle>();
  private readonly backoff: Backoff;
  private resourceVersion = '';
  private watchHandle: WatchHandle | undefined;
  private timer: TimerHandle | undefined;
  private stopped = true;
  private listed = false;
  private generation = 0;
  /** Releases done, node → blocks freed (status, tests). */
  readonly released: { node: string; blocks: number }[] = [];

  constructor(private readonly opts: NodeGcOptions) {
    const b = opts.backoff ?? {};
    this.backoff = new Backoff({ initialMs: b.initialMs ?? 500, maxMs: b.maxMs ?? 30_000, random: b.random });
  }

  /** Nodes waiting out their grace period. */
  get waiting(): string[] {
    return [...this.pending.keys()].sort();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.generation++;
    this.relist();
  }

  /** Stops watching and forgets every pending release (a new leader starts its own count). */
  stop(): void {
    this.stopped = true;
    this.generation++;
    this.timer?.cancel();
    this.watchHandle?.abort();
    this.watchHandle = undefined;
    for (const t of this.pending.values()) t.cancel();
    this.pending.clear();
    this.nodes.clear();
    this.listed = false;
  }

  private later(fn: () => void, err: unknown, what: string): void {
    if (this.stopped) return;
    const delayMs = this.backoff.next();
    this.opts.logger.warn(
      { status: statusOf(err), retryInMs: delayMs },
      `${what} failed: ${describeApiError(err, this.opts.api.server, '(all nodes)')}; retrying`,
    );
    this.timer = this.opts.clock.setTimer(delayMs, fn);
  }

  private relist(): void {
    if (this.stopped) return;
    const gen = this.generation;
    this.opts.api.list().then(
      (l) => {
        if (gen !== this.generation) return;
        this.nodes.clear();
        for (const n of l.items) if (n.metadata?.name) this.nodes.add(n.metadata.name);
        for (const name of this.nodes) this.cancel(name, 'is in the API again');
        this.listed = true;
        this.resourceVersion = l.resourceVersion;
        this.backoff.reset();
        void this.reconcile();
        this.rewatch();
      },
      (err: unknown) => this.later(() => this.relist(), err, 'listing the Nodes'),
    );
  }

  private rewatch(): void {
    if (this.stopped) return;
    const gen = this.generation;
    let gone = false;
    this.opts.api
      .watch(
        this.resourceVersion,
        (e) => {
          if (gen !== this.generation) return;
          this.backoff.reset();
          if (e.type === 'ERROR') {
            if (e.object.code === 410) gone = true;
            return;
          }
          const rv = e.object.metadata?.resourceVersion;
          if (rv) this.resourceVersion = rv;
          const name = e.object.metadata?.name;
          if (e.type === 'BOOKMARK' || !name) return;
          if (e.type === 'DELETED') {
            this.nodes.delete(name);
            void this.reconcile();
          } else {
            this.nodes.add(name);
            this.cancel(name, 'came back');
          }
        },
        (err) => {
          if (gen !== this.generation) return;
          this.watchHandle = undefined;
          if (gone || statusOf(err) === 410) this.relist();
          else if (err) this.later(() => this.rewatch(), err, 'watching the Nodes');
          else this.timer = this.opts.clock.setTimer(this.backoff.next(), () => this.rewatch());
        },
      )
      .then(
        (h) => {
          if (gen !== this.generation) h.abort();
          else this.watchHandle = h;
        },
        (err: unknown) => this.later(() => this.rewatch(), err, 'watching the Nodes'),
      );
  }

  /** Starts the grace period of every store node that has no Node object. */
  private async reconcile(): Promise<void> {
    const gen = this.generation;
    let known: string[];
    try {
      known = await this.opts.ipam.storeNodes();
    } catch (err) {
      this.opts.logger.warn(
        { error: (err as Error).message },
        'could not read the block store; deleted Nodes are checked again later',
      );
      if (gen === this.generation)
        this.timer = this.opts.clock.setTimer(this.opts.retryMs ?? 60_000, () => void this.reconcile());
      return;
    }
    if (gen !== this.generation || !this.listed) return;
    for (const name of known) {
      if (name === this.opts.self || this.nodes.has(name) || this.pending.has(name)) continue;
      this.opts.logger.info(
        { node: name, releaseInSeconds: Math.round(this.opts.graceMs / 1000) },
        `Node ${name} is not in the API; its blocks are released after the grace period unless it comes back`,
      );
      this.arm(name, this.opts.graceMs);
    }
  }

  private arm(name: string, ms: number): void {
    this.pending.set(
      name,
      this.opts.clock.setTimer(ms, () => void this.release(name)),
    );
  }

  private cancel(name: string, why: string): void {
    const t = this.pending.get(name);
    if (!t) return;
    t.cancel();
    this.pending.delete(name);
    this.opts.logger.info({ node: name }, `Node ${name} ${why}; its blocks stay`);
  }

  private async release(name: string): Promise<void> {
    const gen = this.generation;
    if (this.stopped || !this.opts.isLeader() || this.nodes.has(name)) {
      this.pending.delete(name);
      return;
    }
    try {
      const blocks = await this.opts.ipam.releaseNode(name);
      if (gen !== this.generation) return;
      this.pending.delete(name);
      this.released.push({ node: name, blocks });
      this.opts.logger.info(
        { node: name, blocks, afterSeconds: Math.round(this.opts.graceMs / 1000) },
        `released ${blocks} block(s) of deleted Node ${name}`,
      );
    } catch (err) {
      if (gen !== this.generation) return;
      const retryMs = this.opts.retryMs ?? 60_000;
      this.opts.logger.warn(
        { node: name, error: (err as Error).message, retryInSeconds: Math.round(retryMs / 1000) },
        `could not release the blocks of deleted Node ${name}; trying again later`,
      );
      this.arm(name, retryMs);
    }
  }
}
