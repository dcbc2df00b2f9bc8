/**
 * Leader election with a `coordination.k8s.io/v1` Lease: one podroute in the cluster at a time
 * does the cluster-wide work (releasing the blocks of deleted Nodes, node-gc.ts). The same
 * algorithm as client-go's leaderelection package, through the official JavaScript client:
 *
 * - a candidate reads the Lease; absent (404): it creates it with itself as `holderIdentity`;
 * - held by another: it is free once `leaseDurationSeconds` have passed *on this node's clock*
 *   since the record last changed (the holder's `renewTime` is written, never compared, so clock
 *   skew between nodes does not matter);
 * - free, expired or ours: a PUT with the `resourceVersion` read (optimistic concurrency,
 *   api-concepts "Resource versions"); `409 Conflict` (on PUT or on the create) means another
 *   candidate wrote first: read again, it has probably won;
 * - the leader renews every `retryPeriod`; when it could not renew for `renewDeadline` (shorter
 *   than the lease) it stops leading before anyone else can start;
 * - `release()` (a clean stop) writes an empty holder so a successor need not wait out the lease.
 *
 * Times are the injected Clock (monotonic ms); `wallClock` only fills renewTime/acquireTime.
 */
import type { V1Lease } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { describeApiError, type OpenOptions, statusOf } from './client.js';

/** The Lease calls the elector makes; `openLeaseApi` backs them with the official client. */
export interface LeaseApi {
  readonly server: string;
  get(namespace: string, name: string): Promise<V1Lease>;
  create(namespace: string, lease: V1Lease): Promise<V1Lease>;
  /** A PUT: refused with 409 when `lease.metadata.resourceVersion` is not the stored one. */
  replace(namespace: string, name: string, lease: V1Lease): Promise<V1Lease>;
}

export async function openLeaseApi(opts: OpenOptions = {}): Promise<LeaseApi & { namespace: string }> {
  const k8s = await import('@kubernetes/client-node');
  const env = opts.env ?? process.env;
  const kc = new k8s.KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else if (env.KUBERNETES_SERVICE_HOST && !env.KUBECONFIG) kc.loadFromCluster();
  else kc.loadFromDefault();
  const coord = kc.makeApiClient(k8s.CoordinationV1Api);
  // In a pod, loadFromCluster takes the namespace from the ServiceAccount mount.
  const ctx = kc.getContextObject(kc.getCurrentContext());
  return {
    server: kc.getCurrentCluster()?.server ?? '(no cluster in the kubeconfig)',
    namespace: env.POD_NAMESPACE || ctx?.namespace || 'podroute',
    get: (namespace, name) => coord.readNamespacedLease({ name, namespace }),
    create: (namespace, body) => coord.createNamespacedLease({ namespace, body }),
    replace: (namespace, name, body) => coord.replaceNamespacedLease({ name, namespace, body }),
  };
}

export interface LeaderElectorOptions {
  api: LeaseApi;
  namespace: string;
  /** The Lease's name: one per kind of cluster-wide work. */
  name: string;
  /** Who we are (the node name): the Lease's holderIdentity. */
  identity: string;
  clock: Clock;
  logger: Logger;
  /** Seconds a lease lasts without renewal (default 15, as client-go). */
  leaseDurationSeconds?: number;
  /** ms the leader keeps trying to renew before it steps down (default 2/3 of the lease). */
  renewDeadlineMs?: number;
  /** ms between attempts (default 2/15 of the lease: 2 s for 15 s). */
  retryPeriodMs?: number;
  wallClock?: () => Date;
}

/** The Lease as this node last read it (`podroute status`). */
export interface LeaseStatus {
  namespace: string;
  name: string;
  /** `holderIdentity` (a node name); null when free or not read yet. */
  holder: string | null;
  /** Whether this node leads now (holds the Lease and renewed it within the renew deadline). */
  leading: boolean;
  /** The holder's last renewal as written in the Lease (its wall clock, RFC 3339); null if none. */
  renewTime: string | null;
  leaseDurationSeconds: number;
  /** The last failed read or write of the Lease, null after a success. */
  error: string | null;
}

type Listener = () => void;

export class LeaderElector {
  private readonly durationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private leading = false;
  private stopped = true;
  private timer: TimerHandle | undefined;
  /** The record as last read, and when (our clock) it last changed. */
  private observed: V1Lease | undefined;
  private observedKey = '';
  private observedAt = 0;
  private lastRenew = 0;
  private running: Promise<void> | undefined;
  private lastError = '';
  private readonly started: Listener[] = [];
  private readonly stoppedLeading: Listener[] = [];

  constructor(private readonly opts: LeaderElectorOptions) {
    const s = opts.leaseDurationSeconds ?? 15;
    if (!Number.isInteger(s) || s < 1) throw new Error(`lease duration ${s}: not a whole number of seconds`);
    this.durationMs = s * 1000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? Math.floor((this.durationMs * 2) / 3);
    this.retryMs = opts.retryPeriodMs ?? Math.max(100, Math.floor((this.durationMs * 2) / 15));
    if (this.renewDeadlineMs >= this.durationMs)
      throw new Error('renew deadline must be shorter than the lease');
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** The holder as last read ('' when free or not read yet). */
  get holder(): string {
    return this.observed?.spec?.holderIdentity ?? '';
  }

  get error(): string {
    return this.lastError;
  }

  /** For `podroute status`: the Lease as last read, and whether this node holds it. */
  status(): LeaseStatus {
    const spec = this.observed?.spec;
    const renew = spec?.renewTime as Date | string | undefined;
    return {
      namespace: this.opts.namespace,
      name: this.opts.name,
      holder: spec?.holderIdentity || null,
      leading: this.leading,
      renewTime: renew instanceof Date ? renew.toISOString() : typeof renew === 'string' ? renew : null,
      leaseDurationSeconds: spec?.leaseDurationSeconds ?? this.durationMs / 1000,
      error: this.lastError || null,
    };
  }

  onStartedLeading(fn: Listener): void {
    this.started.push(fn);
  }

  onStoppedLeading(fn: Listener): void {
    this.stoppedLeading.push(fn);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tick();
  }

  /** Stops campaigning; the Lease is left to expire (what a crash does). */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.setLeading(false);
  }

  /** Stops and, when leading, gives the Lease up so another node takes over at once. */
  async release(): Promise<void> {
    const was = this.leading;
    this.stop();
    await this.running?.catch(() => {});
    const l = this.observed;
    if (!was || !l || l.spec?.holderIdentity !== this.opts.identity) return;
    const body: V1Lease = {
      ...l,
      spec: {
        ...l.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: this.opts.wallClock?.() ?? new Date(),
      },
    };
    try {
      await this.opts.api.replace(this.opts.namespace, this.opts.name, body);
      this.opts.logger.info({ lease: this.where() }, 'released the leader Lease');
    } catch (err) {
      this.opts.logger.warn(
        { lease: this.where(), status: statusOf(err) },
        'could not release the Lease; it expires by itself',
      );
    }
  }

  /** One attempt now (tests with a ManualClock call it through `advance`). */
  private tick(): void {
    if (this.stopped) return;
    this.running = this.tryAcquireOrRenew().then((ok) => {
      if (this.stopped) return;
      const now = this.opts.clock.now();
      if (ok) this.lastRenew = now;
      if (ok) this.setLeading(true);
      else if (this.leading && now - this.lastRenew >= this.renewDeadlineMs) {
        this.opts.logger.warn(
          { lease: this.where(), error: this.lastError },
          'could not renew the leader Lease in time; stepping down',
        );
        this.setLeading(false);
      }
      this.timer = this.opts.clock.setTimer(this.retryMs, () => this.tick());
    });
  }

  private setLeading(on: boolean): void {
    if (this.leading === on) return;
    this.leading = on;
    this.opts.logger.info(
      { lease: this.where(), identity: this.opts.identity },
      on ? 'became the leader' : 'no longer the leader',
    );
    for (const fn of on ? this.started : this.stoppedLeading) fn();
  }

  private where(): string {
    return `${this.opts.namespace}/${this.opts.name}`;
  }

  /** True when we hold the Lease after this attempt. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { api, namespace, name, identity } = this.opts;
    const now = this.opts.clock.now();
    const wall = this.opts.wallClock?.() ?? new Date();
    let current: V1Lease;
    try {
      current = await api.get(namespace, name);
    } catch (err) {
      if (statusOf(err) !== 404) return this.failed(err, 'reading the Lease');
      const fresh: V1Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: this.durationMs / 1000,
          acquireTime: wall,
          renewTime: wall,
          leaseTransitions: 0,
        },
      };
      try {
        this.observe(await api.create(namespace, fresh), now);
        this.lastError = '';
        return true;
      } catch (e) {
        // 409 AlreadyExists: another candidate created it first; read it next time.
        return statusOf(e) === 409 ? false : this.failed(e, 'creating the Lease');
      }
    }
    this.observe(current, now);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const mine = holder === identity;
    const duration = (spec.leaseDurationSeconds ?? this.durationMs / 1000) * 1000;
    if (!mine && holder !== '' && now - this.observedAt < duration) {
      this.lastError = '';
      return false; // held by someone alive
    }
    const body: V1Lease = {
      ...current,
      metadata: { ...current.metadata, name, namespace },
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: this.durationMs / 1000,
        renewTime: wall,
        acquireTime: mine ? (spec.acquireTime ?? wall) : wall,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
    try {
      const written = await api.replace(namespace, name, body);
      if (!mine)
        this.opts.logger.info({ lease: this.where(), from: holder || '(nobody)' }, 'took over the Lease');
      this.observe(written, now);
      this.lastError = '';
      return true;
    } catch (err) {
      if (statusOf(err) === 409) {
        // Someone wrote between our read and our write: they won this round.
        this.opts.logger.debug(
          { lease: this.where() },
          'Lease changed under us (409 Conflict); reading it again',
        );
        return false;
      }
      return this.failed(err, 'updating the Lease');
    }
  }

  private observe(lease: V1Lease, now: number): void {
    const s = lease.spec ?? {};
    const key = `${lease.metadata?.resourceVersion}|${s.holderIdentity}|${String(s.renewTime)}`;
    if (key !== this.observedKey) {
      this.observedKey = key;
      this.observedAt = now;
    }
    this.observed = lease;
  }

  private failed(err: unknown, what: string): false {
    const before = this.lastError;
    this.lastError =
      statusOf(err) === 403
        ? `the API server at ${this.opts.api.server} forbids ${what.split(' ')[0]} Lease ${this.where()} (403 Forbidden): the ServiceAccount needs get, create and update on leases (deploy/rbac.yaml)`
        : statusOf(err) === 404
          ? `the API server at ${this.opts.api.server} has no namespace ${this.opts.namespace} for Lease ${this.opts.name} (404 Not Found): set POD_NAMESPACE`
          : describeApiError(err, this.opts.api.server, this.opts.identity);
    // Every retry period while the API refuses: warn when the reason changes, not each time.
    const log = this.lastError === before ? this.opts.logger.debug : this.opts.logger.warn;
    log.call(
      this.opts.logger,
      { lease: this.where(), status: statusOf(err) },
      `${what} failed: ${this.lastError}`,
    );
    return false;
  }
}
