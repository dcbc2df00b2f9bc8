/**
 * The TCP connections a BGP session runs over, behind an interface so tests can use an in-memory
 * pair (memory-transport.ts) and the daemon uses node:net (NetTransport below).
 *
 * Contract: handlers are called asynchronously (never from inside `write`/`connect`), `close` is
 * called exactly once per socket, and nothing a handler throws escapes into node's event loop.
 *
 * NetTransport also carries each peer's TCP protections (RFC 2385 MD5 signatures, RFC 5082 GTSM;
 * socket-options.ts): outgoing connections to a protected peer are made by secure-connect.ts so
 * the options are on the socket before the SYN; listeners get the peers' MD5 keys and GTSM on the
 * listening socket, so unsigned or too-distant SYNs never complete a handshake.
 */
import * as net from 'node:net';
import { formatAddress, parseAddress } from '../net/prefix.js';
import { type ConnectFailure, secureConnect } from './secure-connect.js';
import { hasSecurity, type PeerSocketSecurity, securedListener } from './socket-options.js';

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
  /**
   * The TCP protections for connections with `address` (undefined or {} = none), for later
   * connects and for listeners, open or not. Transports without real sockets ignore them.
   */
  setPeerSecurity?(address: string, security: PeerSocketSecurity | undefined): void;
}

/** A transport error with its own words for status ("no answer from 198.18.0.1:179 within 5 s"). */
export type DescribedError = Error & { code?: string; description?: string };

/** "::ffff:198.18.0.1" (a v4 peer on a dual-stack listener) → "198.18.0.1". */
export function normalizeAddress(addr: string | undefined): string {
  if (!addr) return '';
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  return m ? m[1]! : addr.toLowerCase();
}

/** Words for a socket error: "connect: ECONNREFUSED", or the error's own description. */
export function describeSocketError(err: Error, phase: string): string {
  const described = (err as DescribedError).description;
  if (described) return `${phase}: ${described}`;
  const code = (err as NodeJS.ErrnoException).code;
  return `${phase}: ${code ?? err.message}`;
}

function canonical(address: string): string {
  try {
    return formatAddress(parseAddress(normalizeAddress(address)));
  } catch {
    return address.toLowerCase();
  }
}

/**
 * A connect that timed out, in plain words. With MD5 or GTSM the usual cause is one the kernel
 * hides: segments that fail the check are dropped without an answer (RFC 2385 2.0, RFC 5082 3).
 */
export function describeConnectTimeout(
  host: string,
  port: number,
  timeoutMs: number,
  security: PeerSocketSecurity | undefined,
): string {
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const base = `no answer from ${where} within ${Math.round(timeoutMs / 100) / 10} s`;
  if (security?.md5Password !== undefined) {
    return `${base} — with a TCP MD5 password configured, a password mismatch is the likely cause`;
  }
  if (security?.ttlSecurityHops !== undefined) {
    const hops = security.ttlSecurityHops;
    return `${base} — with ttlSecurity configured, the peer may be more than ${hops} hop${hops === 1 ? '' : 's'} away or not sending with TTL 255`;
  }
  return base;
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

/**
 * A passive peer with MD5 or GTSM that has not connected for `quietMs`: the kernel drops its SYNs
 * without a trace when the key or the TTL does not match, so say what to check. Undefined when
 * the peer has neither (plain silence has too many causes to guess).
 */
export function describeSilence(
  host: string,
  quietMs: number,
  security: PeerSocketSecurity | undefined,
): string | undefined {
  const base = `no connection from ${host} for ${Math.round(quietMs / 1000)} s`;
  if (security?.md5Password !== undefined) {
    return `${base} — with a TCP MD5 password configured, a password mismatch is the likely cause`;
  }
  if (security?.ttlSecurityHops !== undefined) {
    const hops = security.ttlSecurityHops;
    return `${base} — with ttlSecurity configured, the peer may be more than ${hops} hop${hops === 1 ? '' : 's'} away or not sending with TTL 255`;
  }
  return undefined;
}

/** The real transport over node:net. */
export class NetTransport implements TransportFactory {
  private readonly security = new Map<string, PeerSocketSecurity>();
  private readonly listeners = new Set<ReturnType<typeof securedListener>>();

  setPeerSecurity(address: string, security: PeerSocketSecurity | undefined): void {
    this.security.set(canonical(address), security ?? {});
    for (const l of this.listeners) l.update(this.security);
  }

  connect(opts: ConnectOptions, done: (err: Error | null, socket?: BgpSocket) => void): { cancel(): void } {
    const security = this.security.get(canonical(opts.host));
    if (hasSecurity(security)) return this.connectSecured(opts, security, done);
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
      const err: DescribedError = new Error(`no answer within ${opts.timeoutMs} ms`);
      err.code = 'ETIMEDOUT';
      err.description = describeConnectTimeout(opts.host, opts.port, opts.timeoutMs, undefined);
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

  private connectSecured(
    opts: ConnectOptions,
    security: PeerSocketSecurity,
    done: (err: Error | null, socket?: BgpSocket) => void,
  ): { cancel(): void } {
    return secureConnect({ ...opts, security }, (err: ConnectFailure | null, sock) => {
      if (err || !sock) {
        const e: DescribedError = err ?? new Error('no socket');
        if (e.code === 'ETIMEDOUT') {
          e.description = describeConnectTimeout(opts.host, opts.port, opts.timeoutMs, security);
        }
        done(e);
        return;
      }
      sock.on('error', () => {}); // until NetSocket attaches its own listener
      done(null, new NetSocket(sock));
    });
  }

  listen(opts: ListenOptions, onSocket: (s: BgpSocket) => void): Promise<BgpListener> {
    return new Promise((resolve, reject) => {
      let secured: ReturnType<typeof securedListener> | undefined;
      const server = net.createServer((sock) => {
        sock.on('error', () => {}); // until NetSocket attaches its own listener
        if (!sock.remoteAddress) {
          sock.destroy();
          return;
        }
        try {
          secured?.accepted(sock, this.security.get(canonical(sock.remoteAddress)));
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
        try {
          secured = securedListener(server);
          secured.update(this.security);
        } catch (err) {
          server.close();
          reject(err);
          return;
        }
        const l = secured;
        this.listeners.add(l);
        resolve({
          port: typeof addr === 'object' && addr ? addr.port : opts.port,
          close: () =>
            new Promise<void>((r) => {
              this.listeners.delete(l);
              server.close(() => r());
            }),
        });
      });
    });
  }
}
