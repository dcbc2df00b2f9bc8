/**
 * Follows this node's own Node object: read it once at start (retrying with back-off while the
 * API is unreachable, saying why each time), then list + watch it from the list's
 * resourceVersion for as long as the daemon runs.
 *
 * Kubernetes API conventions (api-concepts "Efficient detection of changes"):
 * - a watch resumes from the last resourceVersion seen (an event's or a bookmark's), so a
 *   connection the server or the network cut loses nothing;
 * - `410 Gone` (HTTP status or an ERROR event with code 410) means that version has been
 *   compacted away: list again and watch from the new list's version;
 * - any other failure: back off and try again; the last identity stays in force meanwhile, so an
 *   API outage changes nothing on the node.
 *
 * Listeners hear only real changes (labels, InternalIP addresses, pod CIDRs); label changes are
 * logged. What a change means (a new IPAM group for future blocks) is the daemon's business.
 */
import { Backoff } from '../lib/backoff.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { describeApiError, type NodeApi, statusOf, type WatchEvent, type WatchHandle } from './client.js';
import { diffLabels, identityChanged, identityFromNode, type NodeIdentity } from './node-identity.js';

export interface NodeWatcherOptions {
  api: NodeApi;
  name: string;
  clock: Clock;
  logger: Logger;
  /** Back-off between failed attempts, ms (default 500 doubling to 30 000, jittered). */
  backoff?: { initialMs?: number; maxMs?: number; random?: (() => number) | null };
}

type Listener = (now: NodeIdentity, before: NodeIdentity) => void;

export class NodeWatcher {
  private current: NodeIdentity | undefined;
  private readonly listeners: Listener[] = [];
  private readonly backoff: Backoff;
  private resourceVersion = '';
  private watch: WatchHandle | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** Watch restarts since the last event: a server closing every watch at once must not spin. */
  private quickCloses = 0;
  private lastError = '';

  constructor(private readonly opts: NodeWatcherOptions) {
    const b = opts.backoff ?? {};
    this.backoff = new Backoff({ initialMs: b.initialMs ?? 500, maxMs: b.maxMs ?? 30_000, random: b.random });
  }

  /** The Node as last seen; undefined before `start` resolved. */
  get identity(): NodeIdentity | undefined {
    return this.current;
  }

  /** Why the last API call failed ('' when the last one worked): for status and logs. */
  get error(): string {
    return this.lastError;
  }

  onChange(fn: Listener): void {
    this.listeners.push(fn);
  }

  /** Resolves with the Node once it was read; retries (logged) until then or until `stop`. */
  start(): Promise<NodeIdentity> {
    return new Promise<NodeIdentity>((resolve, reject) => {
      const attempt = (): void => {
        if (this.stopped) {
          reject(new Error(`stopped before Node ${this.opts.name} could be read`));
          return;
        }
        this.opts.api.get(this.opts.name).then(
          (node) => {
            this.current = identityFromNode(node);
            this.backoff.reset();
            this.lastError = '';
            this.opts.logger.info(
              { node: this.opts.name, labels: this.current.labels, addresses: this.current.addresses },
              'read the Node object',
            );
            resolve(this.current);
            this.relist();
          },
          (err: unknown) => {
            const delayMs = this.backoff.next();
            this.failed(err, 'reading the Node object', delayMs);
            this.timer = this.opts.clock.setTimer(delayMs, attempt);
          },
        );
      };
      attempt();
    });
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.watch?.abort();
    this.watch = undefined;
  }

  private failed(err: unknown, what: string, retryInMs: number): void {
    this.lastError = describeApiError(err, this.opts.api.server, this.opts.name);
    this.opts.logger.warn(
      { node: this.opts.name, status: statusOf(err), retryInMs, failures: this.backoff.failures },
      `${what} failed: ${this.lastError}; retrying`,
    );
  }

  private later(fn: () => void, err: unknown, what: string): void {
    if (this.stopped) return;
    const delayMs = this.backoff.next();
    this.failed(err, what, delayMs);
    this.timer = this.opts.clock.setTimer(delayMs, fn);
  }

  private relist(): void {
    if (this.stopped) return;
    this.opts.api.list(this.opts.name).then(
      (l) => {
        if (this.stopped) return;
        const node = l.items.find((n) => n.metadata?.name === this.opts.name);
        if (node) this.apply(node);
        this.resourceVersion = l.resourceVersion;
        this.rewatch();
      },
      (err: unknown) => this.later(() => this.relist(), err, 'listing the Node'),
    );
  }

  private rewatch(): void {
    if (this.stopped) return;
    let gone = false;
    this.opts.api
      .watch(
        this.opts.name,
        this.resourceVersion,
        (e) => {
          if (this.event(e)) gone = true;
        },
        (err) => {
          this.watch = undefined;
          if (this.stopped) return;
          if (gone || statusOf(err) === 410) {
            // The version we hold is compacted away: start over from a fresh list.
            this.opts.logger.info(
              { node: this.opts.name },
              'watch expired (410 Gone); listing the Node again',
            );
            this.resourceVersion = '';
            this.relist();
          } else if (err) {
            this.later(() => this.rewatch(), err, 'watching the Node');
          } else if (++this.quickCloses > 3) {
            // Closed cleanly again and again without an event: pace the reconnects.
            this.later(() => this.rewatch(), new Error('the watch keeps closing'), 'watching the Node');
          } else {
            this.rewatch();
          }
        },
      )
      .then(
        (h) => {
          if (this.stopped) h.abort();
          else this.watch = h;
        },
        (err: unknown) => this.later(() => this.rewatch(), err, 'watching the Node'),
      );
  }

  /** Handles one watch event; true when it says the resourceVersion is gone (410). */
  private event(e: WatchEvent): boolean {
    if (e.type === 'ERROR') return e.object.code === 410;
    this.quickCloses = 0;
    this.backoff.reset();
    this.lastError = '';
    const rv = e.object.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (e.type === 'ADDED' || e.type === 'MODIFIED') this.apply(e.object);
    else if (e.type === 'DELETED') {
      this.opts.logger.warn(
        { node: this.opts.name },
        'the Node object was deleted; keeping the last identity',
      );
    }
    return false;
  }

  private apply(node: WatchEvent['object']): void {
    const next = identityFromNode(node);
    const before = this.current;
    if (!before) {
      this.current = next;
      return;
    }
    if (!identityChanged(before, next)) {
      this.current = next;
      return;
    }
    const labels = diffLabels(before.labels, next.labels);
    if (labels) this.opts.logger.info({ node: this.opts.name, ...labels }, 'Node labels changed');
    this.current = next;
    for (const fn of this.listeners) fn(next, before);
  }
}
