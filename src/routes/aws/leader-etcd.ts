/**
 * Leadership for a cluster on the etcd store: the key `<prefix>/aws/leader` created on our own
 * lease (create_revision must be 0, so one holder at a time); it goes away with the lease when the
 * holder dies or loses etcd for the lease's TTL. The owned-routes record `<prefix>/aws/routes` is
 * written in a transaction that first compares the leader key with our value: a leader that lost
 * its lease without noticing cannot overwrite its successor's record.
 *
 * Its own etcd client (same endpoints, TLS and credentials as the block store): the store's client
 * is private to it, and this connection's lease is the leadership's, not the node's.
 */
import { randomBytes } from 'node:crypto';
import { Etcd3, type IOptions, type Lease } from 'etcd3';
import type { Logger } from '../../lib/log.js';
import { type Leadership, NotLeaderError, type OwnedRecord, parseRecord } from './leader.js';

export interface EtcdLeadershipOptions {
  hosts: string[];
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer } | undefined;
  auth?: { username: string; password: string } | undefined;
  /** The block store's key prefix; the leader and record keys go under `<prefix>/aws/`. */
  prefix: string;
  /** Seconds; a dead leader is replaced after at most this long. */
  ttl: number;
  dialTimeoutMs?: number;
  logger: Logger;
}

export class EtcdLeadership implements Leadership {
  readonly kind = 'etcd';
  private readonly client: Etcd3;
  private readonly leaderKey: string;
  private readonly recordKey: string;
  private readonly mine: string;
  private lease: Lease | undefined;
  private leading = false;

  constructor(
    private readonly opts: EtcdLeadershipOptions,
    node: string,
  ) {
    const o: IOptions = { hosts: opts.hosts, dialTimeout: opts.dialTimeoutMs ?? 3000 };
    if (opts.tls) {
      o.credentials = {
        rootCertificate: opts.tls.ca,
        ...(opts.tls.key ? { privateKey: opts.tls.key } : {}),
        ...(opts.tls.cert ? { certChain: opts.tls.cert } : {}),
      };
    }
    if (opts.auth) o.auth = opts.auth;
    this.client = new Etcd3(o);
    this.leaderKey = `${opts.prefix}/aws/leader`;
    this.recordKey = `${opts.prefix}/aws/routes`;
    this.mine = JSON.stringify({ node, nonce: randomBytes(8).toString('hex') });
  }

  async acquire(): Promise<boolean> {
    if (this.leading && (await this.client.get(this.leaderKey).string()) === this.mine) return true;
    this.leading = false;
    if (!this.lease) {
      const lease = this.client.lease(this.opts.ttl);
      lease.on('lost', (err) => {
        if (this.lease !== lease) return;
        this.opts.logger.warn({ err: err.message }, 'VPC route leadership lease lost');
        this.lease = undefined;
        this.leading = false;
      });
      this.lease = lease;
    }
    const id = await this.lease.grant();
    const r = await this.client
      .if(this.leaderKey, 'Create', '==', 0)
      .then(this.client.put(this.leaderKey).value(this.mine).lease(id))
      .commit();
    this.leading = r.succeeded;
    return this.leading;
  }

  async holder(): Promise<string | undefined> {
    const v = await this.client.get(this.leaderKey).string();
    if (v === null) return undefined;
    try {
      return (JSON.parse(v) as { node?: string }).node;
    } catch {
      return undefined;
    }
  }

  async readRecord(): Promise<OwnedRecord> {
    return parseRecord((await this.client.get(this.recordKey).string()) ?? undefined);
  }

  async writeRecord(record: OwnedRecord): Promise<void> {
    const r = await this.client
      .if(this.leaderKey, 'Value', '==', this.mine)
      .then(this.client.put(this.recordKey).value(JSON.stringify(record)))
      .commit();
    if (!r.succeeded) {
      this.leading = false;
      throw new NotLeaderError('record write');
    }
  }

  async resign(): Promise<void> {
    const lease = this.lease;
    this.lease = undefined;
    this.leading = false;
    // Revoking the lease deletes the leader key at once: a successor need not wait for the TTL.
    await lease?.revoke().catch(() => {});
  }

  /** Stops keeping the lease alive without revoking it, as a crashed holder would (tests). */
  abandon(): void {
    const lease = this.lease;
    this.lease = undefined;
    this.leading = false;
    lease?.release();
  }

  async close(): Promise<void> {
    await this.resign();
    this.client.close();
  }
}
