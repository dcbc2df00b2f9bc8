/**
 * The few libc socket calls node:net does not offer, through the koffi FFI: creating a TCP socket
 * ourselves lets options that must be in place before the SYN (TCP_MD5SIG, RFC 2385; IP_TTL and
 * IP_MINTTL, RFC 5082) be set before `connect`; the connected fd is then handed to node:net.
 * (Setting them on a socket from `net.connect()` is too late: node creates the fd and sends the
 * SYN in one step.)
 *
 * Every failing call throws a SyscallError shaped like node's own errors (`code` "ECONNREFUSED",
 * `errno`, `syscall`), so callers describe it the same way. koffi is loaded on first use: a node
 * without these options never loads it.
 */
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { encodeInt, encodePollfd, POLLERR, POLLHUP, POLLOUT, readHost16, readHost32 } from './sockaddr.js';

export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_ERROR = 4;
export const IPPROTO_IP = 0;
export const IPPROTO_TCP = 6;
export const IPPROTO_IPV6 = 41;
export const SHUT_RDWR = 2;

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));
const EINPROGRESS = constants.errno.EINPROGRESS;
const EINTR = constants.errno.EINTR;

export class SyscallError extends Error {
  readonly code: string;
  constructor(
    readonly syscall: string,
    readonly errno: number,
  ) {
    const code = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
    super(`${syscall}: ${code}`);
    this.name = 'SyscallError';
    this.code = code;
  }
}

type Koffi = typeof import('koffi');

interface Libc {
  koffi: Koffi;
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Buffer, len: Buffer): number;
  bind(fd: number, addr: Buffer, len: number): number;
  connect(fd: number, addr: Buffer, len: number): number;
  shutdown(fd: number, how: number): number;
  close(fd: number): number;
  poll: { async(fds: Buffer, n: number, timeoutMs: number, cb: (err: unknown, r: number) => void): void };
}

let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  const koffi = createRequire(import.meta.url)('koffi') as Koffi;
  const lib = koffi.load('libc.so.6');
  libc = {
    koffi,
    socket: lib.func('int socket(int, int, int)'),
    setsockopt: lib.func('int setsockopt(int, int, int, void *, uint32_t)'),
    getsockopt: lib.func('int getsockopt(int, int, int, _Out_ void *, _Inout_ void *)'),
    bind: lib.func('int bind(int, void *, uint32_t)'),
    connect: lib.func('int connect(int, void *, uint32_t)'),
    shutdown: lib.func('int shutdown(int, int)'),
    close: lib.func('int close(int)'),
    poll: lib.func('int poll(_Inout_ void *, uint64_t, int)'),
  } as Libc;
  return libc;
}

function check(call: string, r: number): number {
  if (r < 0) throw new SyscallError(call, load().koffi.errno());
  return r;
}

/** A new non-blocking, close-on-exec TCP socket of `family` (AF_INET / AF_INET6). */
export function tcpSocket(family: number): number {
  const c = load();
  return check('socket', c.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

export function setsockopt(fd: number, level: number, name: number, value: Buffer): void {
  check('setsockopt', load().setsockopt(fd, level, name, value, value.length));
}

export function setsockoptInt(fd: number, level: number, name: number, value: number): void {
  setsockopt(fd, level, name, encodeInt(value));
}

export function getsockoptInt(fd: number, level: number, name: number): number {
  const b = Buffer.alloc(4);
  const len = encodeInt(4);
  check('getsockopt', load().getsockopt(fd, level, name, b, len));
  return readHost32(b, 0);
}

export function bind(fd: number, addr: Buffer): void {
  check('bind', load().bind(fd, addr, addr.length));
}

/** Starts a non-blocking connect; true when it completed at once (loopback may). */
export function startConnect(fd: number, addr: Buffer): boolean {
  const c = load();
  if (c.connect(fd, addr, addr.length) === 0) return true;
  const errno = c.koffi.errno();
  if (errno === EINPROGRESS || errno === EINTR) return false;
  throw new SyscallError('connect', errno);
}

/**
 * Waits on a worker thread until `fd` is writable (a non-blocking connect finished, either way)
 * or `timeoutMs` passed; `cb(true)` when it is ready, `cb(false)` on timeout. `shutdown(fd)` from
 * the main thread ends the wait early.
 */
export function waitWritable(fd: number, timeoutMs: number, cb: (ready: boolean) => void): void {
  const pfd = encodePollfd(fd, POLLOUT);
  load().poll.async(pfd, 1, Math.max(0, Math.floor(timeoutMs)), (err, r) => {
    const revents = readHost16(pfd, 6);
    cb(!err && r > 0 && (revents & (POLLOUT | POLLERR | POLLHUP)) !== 0);
  });
}

/** The pending error of a socket (SO_ERROR, cleared by reading), 0 for none. */
export function socketError(fd: number): number {
  return getsockoptInt(fd, SOL_SOCKET, SO_ERROR);
}

export function shutdown(fd: number): void {
  load().shutdown(fd, SHUT_RDWR);
}

export function close(fd: number): void {
  load().close(fd);
}
