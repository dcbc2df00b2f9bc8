/**
 * The UDP sockets of one local address for single-hop BFD (RFC 5881): a receive socket on port
 * 3784 (RFC 5881 4) and a send socket on a port from 49152-65535 (RFC 5881 4: "The source port
 * MUST be in the range 49152 through 65535", the same for every packet of a session — here the same
 * for every session of the address). Both are bound to the local address (and with an interface
 * name, to the device), so nothing listens on the wildcard address. Packets leave with TTL / Hop
 * Limit 255 and TOS / Traffic Class 0xC0 (network control); received packets with another TTL are
 * reported with `ttlOk: false` (RFC 5881 5, enforced by the kernel filter of `ttl-filter.ts`).
 *
 * Sockets are made through libc (options must be set before bind) and handed to Node's dgram,
 * which polls, reads, sends and closes them.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import { BFD_CONTROL_PORT, BFD_SOURCE_PORT_MAX, BFD_SOURCE_PORT_MIN, BFD_TTL } from './constants.js';
import {
  IP_TOS,
  IP_TTL,
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPV6_TCLASS,
  IPV6_UNICAST_HOPS,
  IPV6_V6ONLY,
  type Libc,
  LibcError,
  loadLibc,
  SO_ATTACH_FILTER,
  SO_BINDTODEVICE,
  SOL_SOCKET,
} from './libc.js';
import { sockFprog, ttlFilterProgram } from './ttl-filter.js';

/** One received datagram; `ttlOk` false means the RFC 5881 5 check failed (payload then empty). */
export interface BfdDatagram {
  data: Buffer;
  /** Source address without a zone (`fe80::1`, not `fe80::1%eth1`). */
  from: string;
  port: number;
  ttlOk: boolean;
}

export interface BfdSocketOptions {
  localAddress: string;
  /** Binds both sockets to this device; needed for IPv6 link-local addresses. */
  interface?: string;
  onPacket(d: BfdDatagram): void;
  onError?(e: Error): void;
  /** Picks source ports; default Math.random. */
  random?: () => number;
}

export interface BfdSocket {
  readonly localAddress: string;
  readonly interface: string | undefined;
  /** The source port packets leave from. */
  readonly txPort: number;
  send(packet: Buffer, peer: string): void;
  close(): Promise<void>;
}

export class BfdSocketError extends Error {
  override name = 'BfdSocketError';
}

const TOS_NETWORK_CONTROL = 0xc0;
const PORT_ATTEMPTS = 64;

/** Opens the receive and send sockets of one local address (and optional device). */
export async function openBfdSocket(opts: BfdSocketOptions): Promise<BfdSocket> {
  const family = isIPv4(opts.localAddress) ? 4 : isIPv6(opts.localAddress) ? 6 : undefined;
  if (!family)
    throw new BfdSocketError(`bfd: local address ${JSON.stringify(opts.localAddress)} is not an IP address`);
  const linkLocal = family === 6 && /^fe[89ab]/i.test(opts.localAddress);
  if (linkLocal && !opts.interface) {
    throw new BfdSocketError(`bfd: link-local address ${opts.localAddress} needs an interface`);
  }
  const libc = await loadLibc();
  const where = `${opts.localAddress}${opts.interface ? `%${opts.interface}` : ''}`;
  let scopeId = 0;
  let rxFd: number;
  try {
    if (linkLocal && opts.interface) scopeId = libc.ifIndex(opts.interface);
    rxFd = openFd(libc, family, opts, scopeId, BFD_CONTROL_PORT, true);
  } catch (e) {
    throw describe(e, where);
  }
  const rx = await adopt(family, rxFd, where);
  let tx: { socket: Socket; port: number };
  try {
    tx = await openTx(libc, family, opts, scopeId, where);
  } catch (e) {
    rx.close();
    throw e;
  }
  rx.on('message', (data, rinfo) => {
    opts.onPacket({
      data,
      from: rinfo.address.replace(/%.*$/, ''),
      port: rinfo.port,
      ttlOk: data.length > 0,
    });
  });
  const onError = (e: Error) => opts.onError?.(e);
  rx.on('error', onError);
  tx.socket.on('error', onError);
  // Nothing is expected on the send socket; reading it keeps its queue empty.
  tx.socket.on('message', () => {});
  let closed = false;
  return {
    localAddress: opts.localAddress,
    interface: opts.interface,
    txPort: tx.port,
    send(packet, peer) {
      if (closed) return;
      const to = linkLocal || /^fe[89ab]/i.test(peer) ? `${peer}%${opts.interface ?? ''}` : peer;
      tx.socket.send(packet, BFD_CONTROL_PORT, to, (err) => {
        if (err) onError(err);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([rx, tx.socket].map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

/** A bound socket fd with the options RFC 5881 needs; the receive socket gets the TTL filter. */
function openFd(
  libc: Libc,
  family: 4 | 6,
  opts: BfdSocketOptions,
  scopeId: number,
  port: number,
  receive: boolean,
): number {
  const fd = libc.udpSocket(family);
  try {
    if (opts.interface) libc.setBuffer(fd, SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${opts.interface}\0`));
    if (family === 6) libc.setInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    if (receive) {
      const { program, length } = ttlFilterProgram(family, BFD_TTL);
      libc.setBuffer(fd, SOL_SOCKET, SO_ATTACH_FILTER, sockFprog(length, libc.address(program)));
    } else if (family === 4) {
      libc.setInt(fd, IPPROTO_IP, IP_TTL, BFD_TTL);
      libc.setInt(fd, IPPROTO_IP, IP_TOS, TOS_NETWORK_CONTROL);
    } else {
      libc.setInt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, BFD_TTL);
      libc.setInt(fd, IPPROTO_IPV6, IPV6_TCLASS, TOS_NETWORK_CONTROL);
    }
    libc.bind(fd, opts.localAddress, port, scopeId);
    return fd;
  } catch (e) {
    libc.close(fd);
    throw e;
  }
}

async function openTx(
  libc: Libc,
  family: 4 | 6,
  opts: BfdSocketOptions,
  scopeId: number,
  where: string,
): Promise<{ socket: Socket; port: number }> {
  const random = opts.random ?? Math.random;
  const span = BFD_SOURCE_PORT_MAX - BFD_SOURCE_PORT_MIN + 1;
  for (let i = 0; i < PORT_ATTEMPTS; i++) {
    const port = BFD_SOURCE_PORT_MIN + Math.floor(random() * span);
    let fd: number;
    try {
      fd = openFd(libc, family, opts, scopeId, port, false);
    } catch (e) {
      if (e instanceof LibcError && e.code === 'EADDRINUSE') continue;
      throw describe(e, where);
    }
    return { socket: await adopt(family, fd, where), port };
  }
  throw new BfdSocketError(
    `bfd: no free source port in ${BFD_SOURCE_PORT_MIN}-${BFD_SOURCE_PORT_MAX} on ${where}`,
  );
}

/** Hands a bound fd to dgram. */
async function adopt(family: 4 | 6, fd: number, where: string): Promise<Socket> {
  const s = createSocket({ type: family === 4 ? 'udp4' : 'udp6' });
  await new Promise<void>((resolve, reject) => {
    s.once('error', (e) => reject(describe(e, where)));
    s.bind({ fd }, () => resolve());
  });
  s.removeAllListeners('error');
  return s;
}

/** One clear line for the usual failures. */
function describe(e: unknown, where: string): Error {
  if (!(e instanceof LibcError)) return e instanceof Error ? e : new Error(String(e));
  const why: Record<string, string> = {
    EADDRNOTAVAIL: 'the address is not assigned to an interface in this network namespace',
    EADDRINUSE: `UDP port ${BFD_CONTROL_PORT} is already bound on it (another BFD daemon?)`,
    EPERM: 'binding to a device needs CAP_NET_RAW',
    EACCES: 'permission denied',
    ENODEV: 'no such interface',
  };
  return new BfdSocketError(
    `bfd: cannot open the socket on ${where}: ${e.message}${why[e.code] ? ` (${why[e.code]})` : ''}`,
  );
}
