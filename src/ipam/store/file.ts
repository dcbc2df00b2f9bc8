/**
 * File block store: one JSON file shared by the podroute processes of one machine.
 *
 * Each change runs under an exclusive lock file (O_CREAT|O_EXCL, holding "pid nonce"), reads the
 * file, applies one compare-and-swap on one block, writes a temp file, fsyncs it, keeps the
 * previous file as `<file>.bak` (a hard link: the last good copy), renames the temp file over the
 * original and fsyncs the directory. A reader therefore sees the old or the new file, never half
 * of one; a writer killed at any point leaves at most a stale temp file and a stale lock.
 *
 * A lock whose process is dead is broken under a second exclusive file (`<file>.lock.break`), and
 * only if the lock still holds what the breaker read, so two breakers cannot both take it. The
 * file carries a SHA-256 of its data: a torn or hand-edited file is refused (StoreCorruptError),
 * never overwritten, and the message names the backup.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type FSWatcher, promises as fs, watch as fsWatch } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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

const FORMAT = 'podroute-ipam/1';

interface NodeEntry {
  pid: number;
  host: string;
}

interface Data {
  claims: Record<string, BlockClaim>;
  /** Alive markers: removed when the process closes the store. */
  nodes: Record<string, NodeEntry>;
  /**
   * Node records (addresses), kept until releaseNode. Optional: files written before node records
   * existed lack it and stay valid (the checksum covers exactly what was written).
   */
  info?: Record<string, NodeInfo>;
}

export interface FileStoreOptions {
  /** Give up waiting for the lock after this many ms. */
  lockTimeoutMs?: number;
  /** A lock file left empty this long (holder died between create and write) is stale. */
  emptyLockStaleMs?: number;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class FileBlockStore implements BlockStore {
  readonly kind = 'file';
  private readonly lockPath: string;
  private readonly breakPath: string;
  private readonly bakPath: string;
  private readonly host = hostname();
  private chain: Promise<unknown> = Promise.resolve();
  private readonly registered = new Set<string>();
  private readonly watchers = new Set<FSWatcher>();
  private readonly lockTimeoutMs: number;
  private readonly emptyLockStaleMs: number;

  constructor(
    readonly path: string,
    opts: FileStoreOptions = {},
  ) {
    this.lockPath = `${path}.lock`;
    this.breakPath = `${path}.lock.break`;
    this.bakPath = `${path}.bak`;
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 15_000;
    this.emptyLockStaleMs = opts.emptyLockStaleMs ?? 2_000;
  }

  async register(node: string, info?: NodeInfo): Promise<void> {
    await this.update((d) => {
      d.nodes[node] = { pid: process.pid, host: this.host };
      d.info ??= {};
      if (info) d.info[node] = { addresses: normalizeAddresses(info.addresses) };
      else d.info[node] ??= { addresses: [] };
      return true;
    });
    this.registered.add(node);
  }

  async nodes(): Promise<NodeRecord[]> {
    const d = await this.read();
    const names = new Set([...Object.keys(d.nodes), ...Object.keys(d.info ?? {})]);
    return [...names].sort().map((node) => {
      const e = d.nodes[node];
      return {
        node,
        addresses: [...(d.info?.[node]?.addresses ?? [])],
        alive: e !== undefined && this.entryAlive(e),
      };
    });
  }

  async isAlive(node: string): Promise<boolean> {
    const e = (await this.read()).nodes[node];
    return e !== undefined && this.entryAlive(e);
  }

  private entryAlive(e: NodeEntry): boolean {
    // Another machine's pid means nothing here; a shared file across machines is unsupported.
    return e.host !== this.host || pidAlive(e.pid);
  }

  async list(): Promise<BlockClaim[]> {
    const d = await this.read();
    return Object.keys(d.claims)
      .sort()
      .map((k) => d.claims[k]!);
  }

  claim(claim: BlockClaim): Promise<ClaimResult> {
    return this.update((d): [boolean, ClaimResult] => {
      const held = d.claims[claim.block];
      if (held) return [false, sameClaimant(held, claim) ? { ok: true } : { ok: false, holder: held }];
      d.claims[claim.block] = { ...claim };
      return [true, { ok: true }];
    });
  }

  release(block: string, node: string): Promise<boolean> {
    return this.update((d): [boolean, boolean] => {
      if (d.claims[block]?.node !== node) return [false, false];
      delete d.claims[block];
      return [true, true];
    });
  }

  releaseNode(node: string, opts: ReleaseNodeOptions = {}): Promise<number> {
    return this.update((d): [boolean, number] => {
      const e = d.nodes[node];
      if (!opts.force && e && this.entryAlive(e))
        throw new NodeAliveError(node, `process ${e.pid} on ${e.host}`);
      let n = 0;
      for (const [k, c] of Object.entries(d.claims)) {
        if (c.node === node) {
          delete d.claims[k];
          n++;
        }
      }
      delete d.nodes[node];
      if (d.info) delete d.info[node];
      return [true, n];
    });
  }

  watch(cb: () => void): () => void {
    const name = basename(this.path);
    let w: FSWatcher;
    try {
      w = fsWatch(dirname(this.path), { persistent: false }, (_ev, file) => {
        if (file === null || file === name) cb();
      });
    } catch (e) {
      throw new StoreError(`${this.path}: cannot watch its directory (${(e as Error).message})`);
    }
    w.on('error', () => {});
    this.watchers.add(w);
    return () => {
      w.close();
      this.watchers.delete(w);
    };
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.close();
    this.watchers.clear();
    const nodes = [...this.registered];
    this.registered.clear();
    if (nodes.length > 0) {
      await this.update((d) => {
        for (const n of nodes) if (d.nodes[n]?.pid === process.pid) delete d.nodes[n];
        return true;
      });
    }
    await this.chain.catch(() => {});
  }

  // ===== file format =====

  /** Reads the current file; a missing file is an empty store. */
  async read(): Promise<Data> {
    let text: string;
    try {
      text = await fs.readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { claims: {}, nodes: {} };
      throw new StoreError(`${this.path}: cannot read (${(e as Error).message})`);
    }
    return this.decode(text);
  }

  private decode(text: string): Data {
    const bad = (why: string): never => {
      throw new StoreCorruptError(
        `${this.path} is corrupt (${why}); podroute will not use or overwrite it. ` +
          `The last good copy is ${this.bakPath}: check it, then move it into place.`,
      );
    };
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      return bad(`not JSON: ${(e as Error).message}`);
    }
    if (doc === null || typeof doc !== 'object') return bad('not an object');
    const o = doc as Record<string, unknown>;
    if (o.format !== FORMAT) return bad(`format ${JSON.stringify(o.format)}, expected ${FORMAT}`);
    const data = o.data as Data | undefined;
    if (data === null || typeof data !== 'object' || typeof o.sha256 !== 'string')
      return bad('no data or checksum');
    if (digest(data) !== o.sha256) return bad('checksum mismatch');
    if (typeof data.claims !== 'object' || typeof data.nodes !== 'object')
      return bad('missing claims or nodes');
    for (const [k, c] of Object.entries(data.claims)) {
      if (!isClaim(c) || c.block !== k) return bad(`claim ${k} is malformed`);
    }
    if (data.info !== undefined) {
      if (data.info === null || typeof data.info !== 'object') return bad('node records are not an object');
      for (const [k, v] of Object.entries(data.info)) {
        if (!isNodeInfo(v)) return bad(`node record ${k} is malformed`);
      }
    }
    return data;
  }

  /**
   * Runs `fn` on the current data under the lock; writes when it returns changed = true.
   * `fn` returns either a boolean (changed; the result is void) or [changed, result].
   */
  private update<T>(fn: (d: Data) => [boolean, T] | boolean): Promise<T> {
    const run = async (): Promise<T> => {
      const nonce = await this.lock();
      try {
        const d = await this.read();
        const r = fn(d);
        const [changed, result] = typeof r === 'boolean' ? [r, undefined as T] : r;
        if (changed) await this.write(d, nonce);
        return result;
      } finally {
        await this.unlock(nonce);
      }
    };
    // One writer at a time inside this process; the lock file orders processes.
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => {});
    return p;
  }

  private async write(d: Data, nonce: string): Promise<void> {
    const doc = JSON.stringify({ format: FORMAT, sha256: digest(d), data: d });
    const tmp = `${this.path}.tmp.${process.pid}.${nonce}`;
    const fh = await fs.open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(doc);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      // Keep the file we are replacing as the last good copy.
      const bakTmp = `${this.bakPath}.${process.pid}.${nonce}`;
      try {
        await fs.link(this.path, bakTmp);
        await fs.rename(bakTmp, this.bakPath);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      if ((await this.readLock()) !== `${process.pid} ${nonce}`) {
        throw new StoreError(`${this.lockPath}: lost the lock before committing; nothing written`);
      }
      await fs.rename(tmp, this.path);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    }
    const dir = await fs.open(dirname(this.path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  // ===== lock file =====

  private async readLock(): Promise<string | undefined> {
    try {
      return await fs.readFile(this.lockPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  private async lock(): Promise<string> {
    const nonce = randomBytes(6).toString('hex');
    const content = `${process.pid} ${nonce}`;
    const deadline = Date.now() + this.lockTimeoutMs;
    let wait = 1;
    for (;;) {
      try {
        const fh = await fs.open(this.lockPath, 'wx', 0o600);
        try {
          await fh.writeFile(content);
        } finally {
          await fh.close();
        }
        return nonce;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') await fs.mkdir(dirname(this.path), { recursive: true });
        else if (code !== 'EEXIST')
          throw new StoreError(`${this.lockPath}: cannot create (${(e as Error).message})`);
      }
      const held = await this.readLock();
      if (held !== undefined && (await this.isStale(held))) {
        await this.breakLock(held);
        continue;
      }
      if (Date.now() > deadline) {
        throw new StoreError(`${this.lockPath}: held by ${held ?? '?'} for over ${this.lockTimeoutMs} ms`);
      }
      await sleep(wait + Math.random() * wait);
      wait = Math.min(wait * 2, 20);
    }
  }

  private async isStale(held: string): Promise<boolean> {
    const pid = Number(held.split(' ')[0]);
    if (held === '' || !Number.isInteger(pid) || pid <= 0) {
      try {
        const st = await fs.stat(this.lockPath);
        return Date.now() - st.mtimeMs > this.emptyLockStaleMs;
      } catch {
        return false;
      }
    }
    return !pidAlive(pid);
  }

  /** Removes a stale lock, but only the one we judged stale, and one breaker at a time. */
  private async breakLock(held: string): Promise<void> {
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(this.breakPath, 'wx', 0o600);
    } catch {
      // Another breaker is at work; a breaker that died leaves a file older than a few seconds.
      try {
        const st = await fs.stat(this.breakPath);
        if (Date.now() - st.mtimeMs > 5_000) await fs.rm(this.breakPath, { force: true });
      } catch {}
      await sleep(1);
      return;
    }
    try {
      await fh.close();
      if ((await this.readLock()) === held) await fs.rm(this.lockPath, { force: true });
    } finally {
      await fs.rm(this.breakPath, { force: true });
    }
  }

  private async unlock(nonce: string): Promise<void> {
    if ((await this.readLock()) === `${process.pid} ${nonce}`) await fs.rm(this.lockPath, { force: true });
  }
}

function digest(d: Data): string {
  return createHash('sha256').update(JSON.stringify(d)).digest('hex');
}
