/**
 * Leadership for a cluster on the file store (one machine): a lock file created exclusively
 * (O_CREAT|O_EXCL) holding the holder's node, pid and a nonce. A lock whose process is dead is
 * broken — under a second exclusive file, and only if it still holds what the breaker read, so two
 * breakers cannot both win. The owned-routes record is a JSON file written to a temporary name and
 * renamed, only after checking that the lock is still ours.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { type Leadership, NotLeaderError, type OwnedRecord, parseRecord } from './leader.js';

interface LockContent {
  node: string;
  pid: number;
  host: string;
  nonce: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A break file older than this was left by a breaker that died. */
const BREAK_STALE_MS = 10_000;

export class FileLeadership implements Leadership {
  readonly kind = 'file';
  private readonly lockPath: string;
  private readonly breakPath: string;
  private readonly recordPath: string;
  private readonly mine: string;

  /** `base`: the file store's path; the lock and record live beside it. */
  constructor(base: string, node: string) {
    this.lockPath = `${base}.aws-leader`;
    this.breakPath = `${base}.aws-leader.break`;
    this.recordPath = `${base}.aws-routes.json`;
    const content: LockContent = {
      node,
      pid: process.pid,
      host: hostname(),
      nonce: randomBytes(8).toString('hex'),
    };
    this.mine = JSON.stringify(content);
  }

  private async readLock(): Promise<string | undefined> {
    try {
      return await fs.readFile(this.lockPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async acquire(): Promise<boolean> {
    for (let tries = 0; tries < 3; tries++) {
      const held = await this.readLock();
      if (held === this.mine) return true;
      if (held === undefined) {
        try {
          await fs.writeFile(this.lockPath, this.mine, { flag: 'wx', mode: 0o600 });
          return true;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
          throw e;
        }
      }
      if (!this.stale(held) || !(await this.breakLock(held))) return false;
    }
    return false;
  }

  private stale(held: string): boolean {
    let c: Partial<LockContent>;
    try {
      c = JSON.parse(held) as Partial<LockContent>;
    } catch {
      // Empty or torn: a holder that died between create and write.
      return true;
    }
    // Another machine's process cannot be checked from here: treat it as alive.
    return c.host === hostname() && typeof c.pid === 'number' && !pidAlive(c.pid);
  }

  private async breakLock(held: string): Promise<boolean> {
    try {
      await fs.writeFile(this.breakPath, this.mine, { flag: 'wx', mode: 0o600 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const st = await fs.stat(this.breakPath).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > BREAK_STALE_MS) await fs.rm(this.breakPath, { force: true });
      return false;
    }
    try {
      if ((await this.readLock()) === held) await fs.rm(this.lockPath, { force: true });
      return true;
    } finally {
      await fs.rm(this.breakPath, { force: true });
    }
  }

  async holder(): Promise<string | undefined> {
    const held = await this.readLock();
    if (held === undefined || this.stale(held)) return undefined;
    try {
      return (JSON.parse(held) as LockContent).node;
    } catch {
      return undefined;
    }
  }

  async readRecord(): Promise<OwnedRecord> {
    try {
      return parseRecord(await fs.readFile(this.recordPath, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return parseRecord(undefined);
      throw e;
    }
  }

  async writeRecord(record: OwnedRecord): Promise<void> {
    if ((await this.readLock()) !== this.mine) throw new NotLeaderError('record write');
    const tmp = `${this.recordPath}.${process.pid}.${randomBytes(4).toString('hex')}`;
    const fh = await fs.open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(record));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, this.recordPath);
  }

  async resign(): Promise<void> {
    if ((await this.readLock()) === this.mine) await fs.rm(this.lockPath, { force: true });
  }
}
