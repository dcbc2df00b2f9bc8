/**
 * The per-peer TCP protections of a BGP session, applied to a socket's fd before it carries data:
 *
 * - TCP MD5 signatures (RFC 2385): TCP_MD5SIG installs the peer's key on the socket; the kernel
 *   then signs every segment to that address and drops unsigned or wrongly signed segments from it
 *   (RFC 2385 2.0), silently: a mismatch looks like a peer that never answers.
 * - GTSM (RFC 5082 3): we send with TTL / hop limit 255 and the kernel drops segments that arrive
 *   with less than 256 − hops (IP_MINTTL, IPV6_MINHOPCOUNT), so a sender further away than the
 *   configured hops cannot reach the session at all (RFC 5082 3: the check is done before TCP).
 *
 * A dual-stack (AF_INET6) socket carries IPv4 peers as v4-mapped addresses: it gets both the IPv4
 * and the IPv6 TTL options, and the key under the v4-mapped address (Linux stores it as IPv4).
 */
import type * as net from 'node:net';
import type { BgpPeerConfig } from '../config/bgp.js';
import {
  IPPROTO_IP,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  SyscallError,
  setsockopt,
  setsockoptInt,
} from '../lib/libc-socket.js';
import { AF_INET, AF_INET6, addressFamily, encodeTcpMd5sig } from '../lib/sockaddr.js';

/** What a peer asks of its TCP connections; both absent = a plain socket. */
export interface PeerSocketSecurity {
  /** RFC 2385 key. Never logged. */
  readonly md5Password?: string;
  /** RFC 5082 hop count, 1..254. */
  readonly ttlSecurityHops?: number;
}

/** A peer's configuration as socket protections. */
export function peerSecurity(cfg: Pick<BgpPeerConfig, 'password' | 'ttlSecurity'>): PeerSocketSecurity {
  return {
    ...(cfg.password !== undefined ? { md5Password: cfg.password } : {}),
    ...(cfg.ttlSecurity !== undefined ? { ttlSecurityHops: cfg.ttlSecurity } : {}),
  };
}

export const TCP_MD5SIG = 14;
export const IP_TTL = 2;
export const IP_MINTTL = 21;
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_MINHOPCOUNT = 73;

/** RFC 5082 3: the TTL we send with. */
export const GTSM_TTL = 255;

/** RFC 5082 3: the lowest TTL accepted from a peer `hops` away (1 hop = directly connected). */
export function minTtl(hops: number): number {
  return 256 - hops;
}

export function hasSecurity(s: PeerSocketSecurity | undefined): s is PeerSocketSecurity {
  return s !== undefined && (s.md5Password !== undefined || s.ttlSecurityHops !== undefined);
}

/** Installs (or with `password` undefined removes) the RFC 2385 key for `peer` on the socket. */
export function setMd5Key(
  fd: number,
  socketFamily: number,
  peer: string,
  password: string | undefined,
): void {
  const key = Buffer.from(password ?? '', 'utf8');
  try {
    setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, encodeTcpMd5sig(peer, key, socketFamily));
  } catch (err) {
    // Removing a key that is not there is fine.
    if (password === undefined && err instanceof SyscallError && err.code === 'ENOENT') return;
    throw err;
  }
}

/**
 * RFC 5082 3 on the socket: send with 255 and refuse below 256 − hops. `hops` undefined resets the
 * socket to the defaults (kernel default TTL, no minimum).
 */
export function setGtsm(fd: number, socketFamily: number, hops: number | undefined): void {
  const ttl = hops === undefined ? -1 : GTSM_TTL; // -1: the route's / sysctl default
  const min = hops === undefined ? 0 : minTtl(hops);
  setsockoptInt(fd, IPPROTO_IP, IP_TTL, ttl);
  setsockoptInt(fd, IPPROTO_IP, IP_MINTTL, min);
  if (socketFamily === AF_INET6) {
    setsockoptInt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl);
    setsockoptInt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, min);
  }
}

/** Both protections for one peer on one socket (an outgoing one, before `connect`). */
export function applyPeerSecurity(
  fd: number,
  socketFamily: number,
  peer: string,
  s: PeerSocketSecurity,
): void {
  if (s.md5Password !== undefined) setMd5Key(fd, socketFamily, peer, s.md5Password);
  if (s.ttlSecurityHops !== undefined) setGtsm(fd, socketFamily, s.ttlSecurityHops);
}

/** The protections of one listening socket, kept in step with the peers' settings. */
export interface SecuredListener {
  /** Installs and removes MD5 keys and sets the listener's GTSM for this set of peers. */
  update(peers: ReadonlyMap<string, PeerSocketSecurity>): void;
  /** An accepted connection: the peer's own GTSM setting (the listener's may be looser). */
  accepted(sock: net.Socket, security: PeerSocketSecurity | undefined): void;
}

/** node:net keeps the fd on an internal handle; libuv exposes it on Linux. */
function fdOf(handleOwner: net.Server | net.Socket): number {
  const fd = (handleOwner as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('the socket has no file descriptor to protect');
  return fd;
}

/**
 * Keys: one per peer on the listening socket; accepted sockets inherit them, so even the
 * peer's SYN is checked (RFC 2385 2.0). GTSM: the listener sends with 255 when any peer uses it,
 * and drops below the loosest minimum only when every peer uses it (otherwise a plain peer could
 * not connect); each accepted socket then gets its own peer's exact setting.
 */
export function securedListener(server: net.Server): SecuredListener {
  const addr = server.address();
  const family = typeof addr === 'object' && addr?.family === 'IPv6' ? AF_INET6 : AF_INET;
  const keyed = new Set<string>();
  let gtsmOnListener = false;
  return {
    update(peers) {
      const wantKeys = new Map<string, string>();
      for (const [address, s] of peers) {
        // An IPv4-only listener cannot serve an IPv6 peer; a dual-stack one serves both.
        if (s.md5Password !== undefined && (family === AF_INET6 || addressFamily(address) === AF_INET)) {
          wantKeys.set(address, s.md5Password);
        }
      }
      for (const address of keyed) {
        if (!wantKeys.has(address)) {
          setMd5Key(fdOf(server), family, address, undefined);
          keyed.delete(address);
        }
      }
      for (const [address, password] of wantKeys) {
        setMd5Key(fdOf(server), family, address, password);
        keyed.add(address);
      }
      const all = [...peers.values()];
      const any = all.some((s) => s.ttlSecurityHops !== undefined);
      if (!any && !gtsmOnListener) return;
      const every = all.length > 0 && all.every((s) => s.ttlSecurityHops !== undefined);
      const loosest = Math.max(...all.map((s) => s.ttlSecurityHops ?? 0));
      const fd = fdOf(server);
      setsockoptInt(fd, IPPROTO_IP, IP_TTL, any ? GTSM_TTL : -1);
      setsockoptInt(fd, IPPROTO_IP, IP_MINTTL, every ? minTtl(loosest) : 0);
      if (family === AF_INET6) {
        setsockoptInt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, any ? GTSM_TTL : -1);
        setsockoptInt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, every ? minTtl(loosest) : 0);
      }
      gtsmOnListener = any;
    },
    accepted(sock, security) {
      if (!gtsmOnListener && security?.ttlSecurityHops === undefined) return;
      setGtsm(fdOf(sock), family, security?.ttlSecurityHops);
    },
  };
}
