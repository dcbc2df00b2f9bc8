/**
 * Byte layouts of the Linux socket structures podroute hands to libc (libc-socket.ts): pure
 * encoders, so their layout is unit-tested without a socket.
 *
 * - `struct sockaddr_in` (16 bytes) and `struct sockaddr_in6` (28 bytes): family in host byte
 *   order, port and address in network byte order.
 * - `struct tcp_md5sig` (216 bytes, linux/tcp.h), the TCP_MD5SIG option of RFC 2385: a
 *   `sockaddr_storage` (128 bytes) with the peer address, flags u8, prefix length u8, key length
 *   u16, ifindex i32, then the key (at most 80 bytes). Key length 0 deletes the peer's key.
 * - `struct pollfd` (8 bytes): fd i32, events i16, revents i16.
 */
import { isIPv6 } from 'node:net';
import { endianness } from 'node:os';
import { parseAddress } from '../net/prefix.js';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCKADDR_IN_SIZE = 16;
export const SOCKADDR_IN6_SIZE = 28;
export const SOCKADDR_STORAGE_SIZE = 128;
export const TCP_MD5SIG_SIZE = 216;
export const TCP_MD5SIG_MAXKEYLEN = 80;

const LE = endianness() === 'LE';

function writeHost16(b: Buffer, v: number, off: number): void {
  if (LE) b.writeUInt16LE(v, off);
  else b.writeUInt16BE(v, off);
}

export function writeHost32(b: Buffer, v: number, off: number): void {
  if (LE) b.writeInt32LE(v, off);
  else b.writeInt32BE(v, off);
}

export function readHost16(b: Buffer, off: number): number {
  return LE ? b.readUInt16LE(off) : b.readUInt16BE(off);
}

export function readHost32(b: Buffer, off: number): number {
  return LE ? b.readInt32LE(off) : b.readInt32BE(off);
}

/** A C `int` option value. */
export function encodeInt(v: number): Buffer {
  const b = Buffer.alloc(4);
  writeHost32(b, v, 0);
  return b;
}

/** The family a socket needs for this address. */
export function addressFamily(address: string): typeof AF_INET | typeof AF_INET6 {
  return isIPv6(address) ? AF_INET6 : AF_INET;
}

/**
 * A socket address for `address`:`port`. With `family` AF_INET6 and an IPv4 address, the
 * v4-mapped form ::ffff:a.b.c.d (how a dual-stack socket names an IPv4 peer).
 */
export function encodeSockaddr(
  address: string,
  port: number,
  family: number = addressFamily(address),
): Buffer {
  const bytes = parseAddress(address);
  if (family === AF_INET) {
    if (bytes.length !== 4) throw new RangeError(`${address} is not an IPv4 address`);
    const b = Buffer.alloc(SOCKADDR_IN_SIZE);
    writeHost16(b, AF_INET, 0);
    b.writeUInt16BE(port, 2);
    bytes.copy(b, 4);
    return b;
  }
  const b = Buffer.alloc(SOCKADDR_IN6_SIZE);
  writeHost16(b, AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  if (bytes.length === 4) {
    b.writeUInt16BE(0xffff, 18);
    bytes.copy(b, 20);
  } else {
    bytes.copy(b, 8);
  }
  return b;
}

/**
 * `struct tcp_md5sig` for one peer address on a socket of `family`; `key` empty = delete.
 * Whole-address match (no TCP_MD5SIG_FLAG_PREFIX), any interface.
 */
export function encodeTcpMd5sig(
  address: string,
  key: Buffer,
  family: number = addressFamily(address),
): Buffer {
  if (key.length > TCP_MD5SIG_MAXKEYLEN) {
    throw new RangeError(`a TCP MD5 key has at most ${TCP_MD5SIG_MAXKEYLEN} bytes`);
  }
  const b = Buffer.alloc(TCP_MD5SIG_SIZE);
  encodeSockaddr(address, 0, family).copy(b, 0);
  b.writeUInt8(0, 128); // tcpm_flags
  b.writeUInt8(0, 129); // tcpm_prefixlen (only read with TCP_MD5SIG_FLAG_PREFIX)
  writeHost16(b, key.length, 130);
  writeHost32(b, 0, 132); // tcpm_ifindex
  key.copy(b, 136);
  return b;
}

export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;

export function encodePollfd(fd: number, events: number): Buffer {
  const b = Buffer.alloc(8);
  writeHost32(b, fd, 0);
  writeHost16(b, events, 4);
  return b;
}
