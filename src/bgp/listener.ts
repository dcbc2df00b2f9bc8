/**
 * The TCP listener for incoming BGP connections (RFC 4271 8: passive TCP establishment). It hands
 * each accepted connection to the session of the peer with that source address; a connection from
 * an unknown address is closed at once (never reaches BGP).
 */
import type { Logger } from '../lib/log.js';
import { type BgpListener, type BgpSocket, normalizeAddress, type TransportFactory } from './transport.js';

export interface ListenerOptions {
  readonly port: number;
  /** Default: all addresses ('::', falling back to '0.0.0.0' without IPv6). */
  readonly host?: string;
  readonly transport: TransportFactory;
  readonly logger: Logger;
  /** The session for a source address, or undefined. */
  readonly route: (remoteAddress: string) => ((s: BgpSocket) => void) | undefined;
}

export class ListenError extends Error {}

function hint(code: string | undefined): string {
  switch (code) {
    case 'EADDRINUSE':
      return ' (another BGP daemon already listens there? set bgp.listenPort or stop it)';
    case 'EACCES':
      return ' (ports below 1024 need root or CAP_NET_BIND_SERVICE)';
    case 'EADDRNOTAVAIL':
      return ' (the address is not configured on this host)';
    default:
      return '';
  }
}

export class PeerListener {
  private listener: BgpListener | undefined;
  /** Connections closed because no peer has their source address. */
  unknownConnections = 0;

  constructor(private readonly opts: ListenerOptions) {}

  get port(): number | undefined {
    return this.listener?.port;
  }

  /** Binds; rejects with a ListenError that says what went wrong and what to do. */
  async start(): Promise<void> {
    const hosts = this.opts.host ? [this.opts.host] : ['::', '0.0.0.0'];
    let last: unknown;
    for (const host of hosts) {
      try {
        this.listener = await this.opts.transport.listen({ port: this.opts.port, host }, (s) =>
          this.accept(s),
        );
        this.opts.logger.info({ host, port: this.listener.port }, 'BGP listening');
        return;
      } catch (err) {
        last = err;
        const code = (err as NodeJS.ErrnoException).code;
        // Only a host without IPv6 gets the IPv4 fallback; other errors are final.
        if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') break;
      }
    }
    const code = (last as NodeJS.ErrnoException).code;
    const where = `${this.opts.host ?? '[::]'}:${this.opts.port}`;
    throw new ListenError(`BGP cannot listen on ${where}: ${code ?? String(last)}${hint(code)}`);
  }

  private accept(s: BgpSocket): void {
    const addr = normalizeAddress(s.remoteAddress);
    const to = this.opts.route(addr);
    if (!to) {
      this.unknownConnections++;
      this.opts.logger.warn(
        { remote: addr },
        'closing BGP connection from an address that is not a configured peer',
      );
      s.destroy();
      return;
    }
    to(s);
  }

  async close(): Promise<void> {
    const l = this.listener;
    this.listener = undefined;
    await l?.close();
  }
}
