/**
 * This node's address allocations, kept across restarts so an address is never handed out twice.
 * The block store knows which blocks a node holds; which pod has which address inside them is the
 * node's own business and lives here: one small JSON file per node, rewritten atomically (temp
 * file, fsync, rename, fsync directory). Concurrent saves share one write (group commit).
 */
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import type { AddressPool } from './allocator.js';
import { StoreCorruptError, StoreError } from './store/types.js';

export interface NodeStateData {
  version: 1;
  node: string;
  group?: string;
  allocations: { owner: string; address: string; block: string }[];
  /** Time left in quarantine when saved: the quiet period restarts from there after a restart. */
  quarantine: { address: string; block: string; remainingMs: number }[];
}

/** What the node saves: its group, every allocation, and the time left of each quarantined address. */
export function snapshotState(node: string, group: string, pool: AddressPool, now: number): NodeStateData {
  return {
    version: 1,
    node,
    group,
    allocations: [...pool.allocations()].map((a) => ({
      owner: a.owner,
      address: a.address,
      block: a.block.text,
    })),
    quarantine: pool.quarantine().map((q) => ({
      address: q.block.address(q.offset),
      block: q.block.text,
      remainingMs: Math.max(0, q.until - now),
    })),
  };
}

export interface NodeStateStore {
  load(): Promise<NodeStateData | undefined>;
  /** Persists the state the thunk returns when the write starts; resolves once durable. */
  save(snapshot: () => NodeStateData): Promise<void>;
}

/** For tests and benchmarks: nothing survives the process. */
export class MemoryNodeState implements NodeStateStore {
  private snapshot: (() => NodeStateData) | undefined;
  private saved: NodeStateData | undefined;

  constructor(initial?: NodeStateData) {
    this.saved = initial;
  }

  async load(): Promise<NodeStateData | undefined> {
    return this.snapshot ? this.snapshot() : this.saved;
  }

  save(snapshot: () => NodeStateData): Promise<void> {
    this.snapshot = snapshot;
    return Promise.resolve();
  }

  /** Freezes the current state (what a file would hold if the process died now). */
  freeze(): NodeStateData | undefined {
    if (this.snapshot) this.saved = structuredClone(this.snapshot());
    this.snapshot = undefined;
    return this.saved;
  }
}

export class FileNodeState implements NodeStateStore {
  private writing: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private latest: (() => NodeStateData) | undefined;
  private dirMade = false;

  constructor(readonly path: string) {}

  async load(): Promise<NodeStateData | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StoreError(`${this.path}: cannot read (${(e as Error).message})`);
    }
    let d: unknown;
    try {
      d = JSON.parse(text);
    } catch (e) {
      throw new StoreCorruptError(
        `${this.path} is corrupt (${(e as Error).message}); refusing to start, as its addresses may be in use. ` +
          'Fix or remove it by hand once no pod of this node uses an address.',
      );
    }
    const o = d as Partial<NodeStateData> | null;
    if (o?.version !== 1 || !Array.isArray(o.allocations) || !Array.isArray(o.quarantine)) {
      throw new StoreCorruptError(`${this.path} is not a podroute node state file (version 1)`);
    }
    return o as NodeStateData;
  }

  save(snapshot: () => NodeStateData): Promise<void> {
    this.latest = snapshot;
    if (this.next) return this.next;
    const run = async (): Promise<void> => {
      await (this.writing ?? Promise.resolve()).catch(() => {});
      // From here on, a new save needs a new write: it may carry changes this snapshot lacks.
      this.next = undefined;
      const data = this.latest!();
      const w = this.write(data);
      this.writing = w;
      try {
        await w;
      } finally {
        if (this.writing === w) this.writing = undefined;
      }
    };
    this.next = run();
    return this.next;
  }

  /**
   * Opens the temp file, making the directory first on the first write and whenever it has gone
   * (removed while the daemon runs): not before every write, which costs a syscall per CNI call.
   */
  private async openTemp(tmp: string): Promise<fs.FileHandle> {
    if (!this.dirMade) {
      await fs.mkdir(dirname(this.path), { recursive: true });
      this.dirMade = true;
    }
    try {
      return await fs.open(tmp, 'w', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await fs.mkdir(dirname(this.path), { recursive: true });
      return fs.open(tmp, 'w', 0o600);
    }
  }

  private async write(data: NodeStateData): Promise<void> {
    const tmp = `${this.path}.tmp.${process.pid}`;
    const fh = await this.openTemp(tmp);
    try {
      await fh.writeFile(JSON.stringify(data));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, this.path);
    const dir = await fs.open(dirname(this.path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
