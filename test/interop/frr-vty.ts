/**
 * A long-lived connection to one FRR daemon's vty socket (the one vtysh uses), for tests that read
 * a table many times a second: spawning vtysh costs tens to hundreds of ms on a loaded machine, a
 * query here well under one. The protocol is vtysh's: the command line and a NUL; the daemon answers
 * with the output, then three NULs and a status byte (0: success). Unix sockets are reached by path,
 * so this works from the root namespace for a daemon in any lab namespace.
 */
import { connect, type Socket } from 'node:net';
import type { FrrRouter } from '../../lab/fixture/index.js';

export class FrrVty {
  private buf = Buffer.alloc(0);
  private readonly waiting: { resolve(out: string): void; reject(e: Error): void; cmd: string }[] = [];
  private closed: Error | undefined;

  private constructor(private readonly sock: Socket) {
    sock.on('data', (d) => this.receive(d));
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => this.fail(new Error('vty socket closed')));
  }

  /** Connects to `daemon` (default bgpd) of the router. */
  static open(router: FrrRouter, daemon = 'bgpd'): Promise<FrrVty> {
    const path = `${router.runDir}/${daemon}.vty`;
    return new Promise((resolve, reject) => {
      const sock = connect(path);
      sock.once('error', reject);
      sock.once('connect', () => {
        sock.off('error', reject);
        resolve(new FrrVty(sock));
      });
    });
  }

  /** One command's output; rejects when the daemon says it failed or the socket goes. */
  query(cmd: string): Promise<string> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject, cmd });
      this.sock.write(`${cmd}\0`);
    });
  }

  async json<T = unknown>(cmd: string): Promise<T> {
    const out = await this.query(cmd);
    try {
      return JSON.parse(out) as T;
    } catch {
      throw new Error(`vty "${cmd}" did not print JSON: ${out.slice(0, 300)}`);
    }
  }

  close(): void {
    this.closed ??= new Error('vty closed');
    this.sock.destroy();
  }

  private receive(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const end = this.buf.indexOf(Buffer.from([0, 0, 0]));
      if (end < 0 || this.buf.length < end + 4) return;
      const out = this.buf.subarray(0, end).toString('utf8');
      const status = this.buf[end + 3];
      this.buf = this.buf.subarray(end + 4);
      const w = this.waiting.shift();
      if (!w) continue;
      if (status === 0) w.resolve(out);
      else w.reject(new Error(`vty "${w.cmd}" failed (status ${status}): ${out.slice(0, 300)}`));
    }
  }

  private fail(e: Error): void {
    this.closed ??= e;
    for (const w of this.waiting.splice(0)) w.reject(e);
  }
}
