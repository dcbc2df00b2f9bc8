/**
 * The few libc calls the BFD socket needs that Node's dgram lacks (socket options before bind:
 * SO_BINDTODEVICE, SO_ATTACH_FILTER, IP_TTL/IPV6_UNICAST_HOPS, IP_TOS/IPV6_TCLASS), through the
 * koffi FFI. koffi is loaded on first use, so importing the BFD code costs nothing until a socket
 * is opened. The socket is then handed to dgram (`bind({ fd })`), which owns and closes it.
 */
import { isIPv4 } from 'node:net';
import { parseAddress } from '../net/prefix.js';

export const AF_INET = 2;
export const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_BINDTODEVICE = 25;
export const SO_ATTACH_FILTER = 26;
export const IPPROTO_IP = 0;
export const IP_TOS = 1;
export const IP_TTL = 2;
export const IPPROTO_IPV6 = 41;
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_V6ONLY = 26;
export const IPV6_TCLASS = 67;

export class LibcError extends Error {
  constructor(
    readonly call: string,
    readonly code: string,
  ) {
    super(`${call}: ${code}`);
    this.name = 'LibcError';
  }
}

export interface Libc {
  /** A non-blocking, close-on-exec UDP socket. */
  udpSocket(family: 4 | 6): number;
  setInt(fd: number, level: number, name: number, value: number): void;
  setBuffer(fd: number, level: number, name: number, value: Buffer): void;
  bind(fd: number, address: string, port: number, scopeId?: number): void;
  close(fd: number): void;
  ifIndex(ifname: string): number;
  /** The address of a Buffer's memory, for structures that hold pointers (sock_fprog). */
  address(buf: Buffer): bigint;
}

let loading: Promise<Libc> | undefined;

export function loadLibc(): Promise<Libc> {
  loading ??= load();
  return loading;
}

async function load(): Promise<Libc> {
  const koffi = (await import('koffi')).default;
  const lib = koffi.load('libc.so.6');
  const socket = lib.func('int socket(int domain, int type, int protocol)');
  const setsockopt = lib.func('int setsockopt(int fd, int level, int name, void *value, uint32_t len)');
  const bind = lib.func('int bind(int fd, void *addr, uint32_t len)');
  const close = lib.func('int close(int fd)');
  const ifNameToIndex = lib.func('uint32_t if_nametoindex(const char *name)');
  const names = new Map<number, string>(Object.entries(koffi.os.errno).map(([k, v]) => [v, k]));
  const fail = (call: string): never => {
    const n = koffi.errno();
    throw new LibcError(call, names.get(n) ?? `errno ${n}`);
  };
  const check = (call: string, rc: unknown): number => {
    if (typeof rc !== 'number' || rc < 0) fail(call);
    return rc as number;
  };
  return {
    udpSocket: (family) =>
      check(
        'socket',
        socket(family === 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
      ),
    setInt(fd, level, name, value) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(value, 0);
      check(`setsockopt(${level}, ${name})`, setsockopt(fd, level, name, b, 4));
    },
    setBuffer(fd, level, name, value) {
      check(`setsockopt(${level}, ${name})`, setsockopt(fd, level, name, value, value.length));
    },
    bind(fd, address, port, scopeId = 0) {
      const sa = sockaddr(address, port, scopeId);
      check(`bind(${address}:${port})`, bind(fd, sa, sa.length));
    },
    close(fd) {
      close(fd);
    },
    ifIndex(ifname) {
      const i = ifNameToIndex(ifname) as number;
      if (!i) fail(`if_nametoindex(${ifname})`);
      return i;
    },
    address: (buf) => koffi.address(buf),
  };
}

/** struct sockaddr_in (16 bytes) or sockaddr_in6 (28 bytes); family and scope in host order. */
export function sockaddr(address: string, port: number, scopeId = 0): Buffer {
  const bytes = parseAddress(address);
  if (isIPv4(address)) {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(AF_INET, 0);
    b.writeUInt16BE(port, 2);
    bytes.copy(b, 4);
    return b;
  }
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  bytes.copy(b, 8);
  b.writeUInt32LE(scopeId, 24);
  return b;
}
