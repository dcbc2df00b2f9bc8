/**
 * etcd v3 block store. Layout under the configured prefix:
 *   <prefix>/blocks/<block, "/" as "_">  -> BlockClaim JSON, no lease (a claim outlives restarts)
 *   <prefix>/nodes/<node>                -> {host, since} on the node's lease (alive marker)
 *   <prefix>/nodeinfo/<node>             -> NodeInfo JSON ({addresses}), no lease (node record)
 *
 * The node record is not on the lease for the same reason as the claims: other nodes' layer 2
 * routes to this node's pods must survive a daemon restart or an etcd outage; only releaseNode
 * ends it.
 *
 * Claims are transactions on one key: create only if the key's create_revision is 0, delete only
 * if its mod_revision is unchanged since we read our claim. Claims are deliberately not attached
 * to the lease: a node that loses etcd for a while must not lose its blocks while its pods still
 * use the addresses. The lease only says "alive"; `releaseNode` frees a node's blocks once that
 * marker is gone (or when forced), as an explicit operator step.
 *
 * Every operation here is idempotent (a retried claim recognises its claimId), so transient
 * errors — etcd restarting, leader change — are retried until `retryMs` runs out.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Etcd3, type IOptions, type Lease, type Watcher } from 'etcd3';
import type { IpamEtcdConfig } from '../../config/ipam.js';
import type { Logger } from '../../lib/log.js';
import {
  type BlockClaim,
  type BlockStore,
  type ClaimResult,
  isClaim,
  isNodeInfo,
  NodeAliveError,
  type NodeInfo,
  type NodeRecord,
  normalizeAddresses,
  type ReleaseNodeOptions,
  StoreCorruptError,
  StoreError,
  sameClaimant,
} from './types.js';

export interface EtcdStoreOptions {
  hosts: string[];
  /** etcds://: TLS; a CA file is required, a client certificate optional. */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  auth?: { username: string; password: string };
  prefix: string;
  leaseTtl: number;
  dialTimeoutMs: number;
  /** How long an operation keeps retrying transient errors. */
  retryMs?: number;
  logger: Logger;
}

export function etcdOptionsFromConfig(
  url: string,
  cfg: IpamEtcdConfig | undefined,
  logger: Logger,
): EtcdStoreOptions {
  const secure = url.startsWith('etcds://');
  const rest = url.replace(/^etcds?:\/\//, '').replace(/\/$/, '');
  const scheme = secure ? 'https' : 'http';
  const hosts = rest.split(',').map((h) => `${scheme}://${h}`);
  const prefix = cfg?.prefix ?? '/podroute/ipam';
  let tls: EtcdStoreOptions['tls'];
  if (secure) {
    if (!cfg?.caFile) throw new StoreError(`ipam.etcd.caFile: is required for ${url}`);
    const read = (key: string, file: string): Buffer => {
      try {
        return readFileSync(file);
      } catch (e) {
        throw new StoreError(
          `ipam.etcd.${key}: ${JSON.stringify(file)} cannot be read (${(e as Error).message})`,
        );
      }
    };
    if ((cfg.certFile === undefined) !== (cfg.keyFile === undefined)) {
      throw new StoreError('ipam.etcd.certFile: give both certFile and keyFile, or neither');
    }
    tls = {
      ca: read('caFile', cfg.caFile),
      ...(cfg.certFile ? { cert: read('certFile', cfg.certFile) } : {}),
      ...(cfg.keyFile ? { key: read('keyFile', cfg.keyFile) } : {}),
    };
  }
  return {
    hosts,
    ...(tls ? { tls } : {}),
    ...(cfg?.username !== undefined
      ? { auth: { username: cfg.username, password: cfg.password ?? '' } }
      : {}),
    prefix,
    leaseTtl: cfg?.leaseTtl ?? 30,
    dialTimeoutMs: cfg?.dialTimeout ?? 3000,
    logger,
  };
}

const keySafe = (block: string): string => block.replace('/', '_');

export class EtcdBlockStore implements BlockStore {
  readonly kind = 'etcd';
  private readonly client: Etcd3;
  private readonly leases = new Map<string, Lease>();
  private readonly watchers = new Set<Watcher>();
  private readonly retryMs: number;
  private closed = false;

  constructor(private readonly opts: EtcdStoreOptions) {
    const o: IOptions = { hosts: opts.hosts, dialTimeout: opts.dialTimeoutMs };
    if (opts.tls) {
      o.credentials = {
        rootCertificate: opts.tls.ca,
        ...(opts.tls.key ? { privateKey: opts.tls.key } : {}),
        ...(opts.tls.cert ? { certChain: opts.tls.cert } : {}),
      };
    }
    if (opts.auth) o.auth = opts.auth;
    this.client = new Etcd3(o);
    this.retryMs = opts.retryMs ?? 30_000;
  }

  private blockKey(block: string): string {
    return `${this.opts.prefix}/blocks/${keySafe(block)}`;
  }

  private nodeKey(node: string): string {
    return `${this.opts.prefix}/nodes/${node}`;
  }

  private infoKey(node: string): string {
    return `${this.opts.prefix}/nodeinfo/${node}`;
  }

  /** Retries an idempotent operation through transient failures. */
  private async retry<T>(what: string, op: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryMs;
    let wait = 50;
    for (;;) {
      try {
        return await op();
      } catch (e) {
        if (e instanceof StoreError || this.closed || Date.now() > deadline) {
          if (e instanceof StoreError) throw e;
          throw new StoreError(`etcd ${what}: ${(e as Error).message}`);
        }
        this.opts.logger.debug({ err: (e as Error).message, what }, 'etcd operation failed; retrying');
        await sleep(wait);
        wait = Math.min(wait * 2, 1000);
      }
    }
  }

  async register(node: string, info?: NodeInfo): Promise<void> {
    const alive = JSON.stringify({ host: hostname(), since: new Date().toISOString() });
    const grant = async (): Promise<void> => {
      const lease = this.client.lease(this.opts.leaseTtl);
      lease.on('lost', (err) => {
        if (this.closed || this.leases.get(node) !== lease) return;
        this.opts.logger.warn({ node, err: err.message }, 'etcd lease lost; granting a new one');
        void this.retry('lease', grant).catch((e: Error) => {
          this.opts.logger.error({ node, err: e.message }, 'cannot renew the etcd lease');
        });
      });
      await lease.put(this.nodeKey(node)).value(alive);
      this.leases.set(node, lease);
    };
    const held = this.leases.get(node);
    // Registering again from this client (IPAM reopened on the same store) keeps the lease: a
    // second lease would leave the first one's key alive until its TTL ran out.
    if (held)
      await this.retry('register', async () => void (await held.put(this.nodeKey(node)).value(alive)));
    else await this.retry('register', grant);
    const key = this.infoKey(node);
    if (info) {
      const text = JSON.stringify({ addresses: normalizeAddresses(info.addresses) });
      await this.retry('register', () => this.client.put(key).value(text).exec());
    } else {
      // Create an empty record only if none exists: a restart without addresses keeps the old ones.
      await this.retry('register', () =>
        this.client
          .if(key, 'Create', '==', 0)
          .then(this.client.put(key).value(JSON.stringify({ addresses: [] })))
          .commit(),
      );
    }
  }

  async nodes(): Promise<NodeRecord[]> {
    const [infos, alive] = await this.retry('nodes', () =>
      Promise.all([
        this.client.getAll().prefix(`${this.opts.prefix}/nodeinfo/`).strings(),
        this.client.getAll().prefix(`${this.opts.prefix}/nodes/`).keys(),
      ]),
    );
    const aliveSet = new Set(alive.map((k) => k.slice(`${this.opts.prefix}/nodes/`.length)));
    // The record is the nodeinfo key; the alive key alone (a forced release of a live node) is not one.
    const names = new Set<string>();
    const addresses = new Map<string, string[]>();
    for (const [key, v] of Object.entries(infos)) {
      const node = key.slice(`${this.opts.prefix}/nodeinfo/`.length);
      let parsed: unknown;
      try {
        parsed = JSON.parse(v);
      } catch {
        parsed = undefined;
      }
      if (!isNodeInfo(parsed)) {
        throw new StoreCorruptError(`etcd key ${key} does not hold a node record: ${v.slice(0, 200)}`);
      }
      names.add(node);
      addresses.set(node, normalizeAddresses(parsed.addresses));
    }
    return [...names]
      .sort()
      .map((node) => ({ node, addresses: addresses.get(node) ?? [], alive: aliveSet.has(node) }));
  }

  async isAlive(node: string): Promise<boolean> {
    return this.retry('isAlive', () => this.client.get(this.nodeKey(node)).exists());
  }

  async list(): Promise<BlockClaim[]> {
    const all = await this.retry('list', () =>
      this.client.getAll().prefix(`${this.opts.prefix}/blocks/`).strings(),
    );
    return Object.entries(all)
      .map(([key, v]) => this.parse(key, v))
      .sort((a, b) => (a.block < b.block ? -1 : a.block > b.block ? 1 : 0));
  }

  private parse(key: string, v: string): BlockClaim {
    let c: unknown;
    try {
      c = JSON.parse(v);
    } catch {
      c = undefined;
    }
    if (!isClaim(c) || this.blockKey(c.block) !== key) {
      throw new StoreCorruptError(`etcd key ${key} does not hold a block claim: ${v.slice(0, 200)}`);
    }
    return c;
  }

  claim(claim: BlockClaim): Promise<ClaimResult> {
    const key = this.blockKey(claim.block);
    return this.retry('claim', async (): Promise<ClaimResult> => {
      const res = await this.client
        .if(key, 'Create', '==', 0)
        .then(this.client.put(key).value(JSON.stringify(claim)))
        .else(this.client.get(key))
        .commit();
      if (res.succeeded) return { ok: true };
      const kv = res.responses[0]?.response_range?.kvs[0];
      // Deleted between the compare and the get of the else branch: try again.
      if (!kv) throw new Error('claim vanished during the transaction');
      const holder = this.parse(key, kv.value.toString());
      return sameClaimant(holder, claim) ? { ok: true } : { ok: false, holder };
    });
  }

  release(block: string, node: string): Promise<boolean> {
    const key = this.blockKey(block);
    return this.retry('release', async () => {
      for (;;) {
        const res = await this.client.get(key).exec();
        const kv = res.kvs[0];
        if (!kv) return false;
        if (this.parse(key, kv.value.toString()).node !== node) return false;
        const del = await this.client
          .if(key, 'Mod', '==', Number(kv.mod_revision))
          .then(this.client.delete().key(key))
          .commit();
        if (del.succeeded) return true;
      }
    });
  }

  async releaseNode(node: string, opts: ReleaseNodeOptions = {}): Promise<number> {
    if (!opts.force && (await this.isAlive(node))) throw new NodeAliveError(node, 'its etcd lease is alive');
    let n = 0;
    for (const c of await this.list()) {
      if (c.node === node && (await this.release(c.block, node))) n++;
    }
    await this.retry('releaseNode', () => this.client.delete().key(this.infoKey(node)).exec());
    return n;
  }

  watch(cb: () => void): () => void {
    let watcher: Watcher | undefined;
    let cancelled = false;
    void this.client
      .watch()
      // Claims, node records and alive markers: layer 2 routes follow all three.
      .prefix(`${this.opts.prefix}/`)
      .create()
      .then((w) => {
        if (cancelled) {
          void w.cancel();
          return;
        }
        watcher = w;
        this.watchers.add(w);
        w.on('put', () => cb());
        w.on('delete', () => cb());
        // After a reconnect we may have missed nothing (the watch resumes by revision), but a
        // full re-read is cheap and makes the caller converge whatever happened.
        w.on('connected', () => cb());
        w.on('error', (e) => this.opts.logger.warn({ err: e.message }, 'etcd watch error'));
      })
      .catch((e: Error) => this.opts.logger.error({ err: e.message }, 'cannot watch etcd'));
    return () => {
      cancelled = true;
      if (watcher) {
        this.watchers.delete(watcher);
        void watcher.cancel();
      }
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.watchers) await w.cancel().catch(() => {});
    this.watchers.clear();
    for (const l of this.leases.values()) await l.revoke().catch(() => {});
    this.leases.clear();
    this.client.close();
  }
}
