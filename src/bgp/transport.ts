/**
 * The TCP connections a BGP session runs over, behind an interface so tests can use an in-memory
 * pair (memory-transport.ts) and the daemon uses node:net (NetTransport below).
 *
 * Contract: handlers are called asynchronously (never from inside `write`/`connect`), `close` is
 * called exactly once per socket, and nothing a handler throws escapes into node's event loop.
 */
import * as net from 'node:net';

export interface SocketHandlers {
  data(chunk: Buffer): void;
  /** The connection ended or failed; `error` is absent for an orderly close. */
  close(error?: Error): void;
  /** The write buffer drained after `write` returned false. */
  drain(): void;
}

export interface BgpSocket {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Data is held until handlers are set. */
  setHandlers(h: SocketHandlers): void;
  /** Queues bytes; false when the buffer is above its high-water mark (wait for `drain`). */
  write(data: Buffer): boolean;
  /** Bytes queued but not yet handed to the kernel. */
  readonly bufferedBytes: number;
  /** Flushes what was written, then closes (FIN). */
  end(): void;
  /** Closes at once, dropping anything queued. */
  destroy(): void;
}

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly timeoutMs: number;
}

export interface ListenOptions {
  readonly port: number;
  /** Default: all addresses. */
  readonly host?: string;
}

export interface BgpListener {
  readonly port: number;
  close(): Promise<void>;
}

export interface TransportFactory {
  /** Starts a TCP connect; `done` is called once unless `cancel` was called first. */
  connect(opts: ConnectOptions, done: (err: Error | null, socket?: BgpSocket) => void): { cancel(): void };
  listen(opts: ListenOptions, onSocket: (s: BgpSocket) => void): Promise<BgpListener>;
}

/** "::ffff:198.18.0.1" (a v4 peer on a dual-stack listener) → "198.18.0.1". */
export function normalizeAddress(addr: string | undefined): string {
  if (!addr) return '';
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  return m ? m[1]! : addr.toLowerCase();
}

/** Words for a socket error: "connect: ECONNREFUSED". */
export function describeSocketError(err: Error, phase: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  return `${phase}: ${code ?? err.message}`;
}

class NetSocket implements BgpSocket {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  private handlers: SocketHandlers | undefined;
  private held: Buffer[] = [];
  private closed = false;
  private closeError: Error | undefined;
  private closeDelivered = false;

  constructor(private readonly sock: net.Socket) {
    this.localAddress = normalizeAddress(sock.localAddress);
    this.localPort = sock.localPort ?? 0;
    this.remoteAddress = normalizeAddress(sock.remoteAddress);
    this.remotePort = sock.remotePort ?? 0;
    // RFC 4271 does not require it, but KEEPALIVEs and small UPDATEs must not wait for Nagle.
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => {
      if (this.handlers) this.safe(() => this.handlers!.data(chunk));
      else this.held.push(chunk);
    });
    sock.on('error', (err) => {
      this.closeError ??= err;
    });
    sock.on('close', () => {
      this.closed = true;
      this.deliverClose();
    });
    sock.on('drain', () => this.safe(() => this.handlers?.drain()));
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // A handler bug must not become an uncaught exception that kills the daemon.
      this.closeError ??= err instanceof Error ? err : new Error(String(err));
      this.sock.destroy();
    }
  }

  private deliverClose(): void {
    if (!this.handlers || this.closeDelivered) return;
    this.closeDelivered = true;
    const err = this.closeError;
    this.safe(() => this.handlers!.close(err));
  }

  setHandlers(h: SocketHandlers): void {
    this.handlers = h;
    const held = this.held;
    this.held = [];
    setImmediate(() => {
      for (const c of held) this.safe(() => h.data(c));
      if (this.closed) this.deliverClose();
    });
  }

  write(data: Buffer): boolean {
    if (this.closed || this.sock.destroyed) return false;
    return this.sock.write(data);
  }

  get bufferedBytes(): number {
    return this.sock.writableLength;
  }

  end(): void {
    this.sock.end();
    // A peer that never reads would keep the socket half-open forever.
    setTimeout(() => this.sock.destroy(), 2000).unref();
  }

  destroy(): void {
    this.sock.destroy();
  }
}

/** The real transport over node:net. */
export class NetTransport implements TransportFactory {
  connect(opts: ConnectOptions, done: (err: Error | null, socket?: BgpSocket) => void): { cancel(): void } {
    let finished = false;
    const sock = net.connect({
      host: opts.host,
      port: opts.port,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
    const finish = (err: Error | null): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.removeListener('error', onError);
      if (err) {
        sock.destroy();
        done(err);
      } else {
        done(null, new NetSocket(sock));
      }
    };
    const onError = (err: Error): void => finish(err);
    const timer = setTimeout(() => {
      const err = new Error(`no answer within ${opts.timeoutMs} ms`) as NodeJS.ErrnoException;
      err.code = 'ETIMEDOUT';
      finish(err);
    }, opts.timeoutMs);
    timer.unref();
    sock.once('error', onError);
    sock.once('connect', () => finish(null));
    return {
      cancel: () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        sock.removeListener('error', onError);
        sock.on('error', () => {});
        sock.destroy();
      },
    };
  }

  listen(opts: ListenOptions, onSocket: (s: BgpSocket) => void): Promise<BgpListener> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((sock) => {
        sock.on('error', () => {}); // until NetSocket attaches its own listener
        if (!sock.remoteAddress) {
          sock.destroy();
          return;
        }
        try {
          onSocket(new NetSocket(sock));
        } catch {
          sock.destroy();
        }
      });
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen({ port: opts.port, host: opts.host }, () => {
        server.removeListener('error', onError);
        server.on('error', () => {}); // accept errors (EMFILE) must not crash the daemon
        const addr = server.address();
        resolve({
          port: typeof addr === 'object' && addr ? addr.port : opts.port,
          close: () => new Promise<void>((r) => server.close(() => r())),
        });
      });
    });
  }
}
