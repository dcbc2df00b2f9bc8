/**
 * An outgoing BGP connection whose socket options are set before the SYN (RFC 2385 2.0: the SYN
 * is signed too; RFC 5082 3: the SYN goes out with TTL 255 and the SYN-ACK is checked): the socket
 * is made through libc (libc-socket.ts), protected, bound, connected without blocking, and once
 * connected handed to node:net as a normal net.Socket.
 */
import * as net from 'node:net';
import * as libc from '../lib/libc-socket.js';
import { addressFamily, encodeSockaddr } from '../lib/sockaddr.js';
import { applyPeerSecurity, type PeerSocketSecurity } from './socket-options.js';

export interface SecureConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly timeoutMs: number;
  readonly security: PeerSocketSecurity;
}

/** Why a connect ended without a socket, as node would say it (`code`). */
export type ConnectFailure = Error & { code?: string };

function timeoutError(timeoutMs: number): ConnectFailure {
  const err: ConnectFailure = new Error(`no answer within ${timeoutMs} ms`);
  err.code = 'ETIMEDOUT';
  return err;
}

/**
 * Connects; `done` is called once (asynchronously) unless `cancel` came first. A failure before
 * the SYN (an option the kernel refuses, a local address that is not ours) is reported through
 * `done` as well.
 */
export function secureConnect(
  opts: SecureConnectOptions,
  done: (err: ConnectFailure | null, socket?: net.Socket) => void,
): { cancel(): void } {
  let state: 'connecting' | 'cancelled' | 'done' = 'connecting';
  let fd = -1;
  const fail = (err: ConnectFailure): void => {
    if (fd >= 0) libc.close(fd);
    fd = -1;
    if (state === 'connecting') {
      state = 'done';
      done(err);
    }
  };
  const family = addressFamily(opts.host);
  try {
    fd = libc.tcpSocket(family);
    applyPeerSecurity(fd, family, opts.host, opts.security);
    if (opts.localAddress) libc.bind(fd, encodeSockaddr(opts.localAddress, 0, family));
    libc.startConnect(fd, encodeSockaddr(opts.host, opts.port, family));
  } catch (err) {
    const e = err as ConnectFailure;
    setImmediate(() => fail(e));
    return {
      cancel: () => {
        if (state === 'connecting') state = 'cancelled';
      },
    };
  }
  libc.waitWritable(fd, opts.timeoutMs, (ready) => {
    if (state === 'cancelled') {
      libc.close(fd);
      return;
    }
    if (!ready) {
      fail(timeoutError(opts.timeoutMs));
      return;
    }
    const errno = libc.socketError(fd);
    if (errno !== 0) {
      fail(new libc.SyscallError('connect', errno));
      return;
    }
    let sock: net.Socket;
    try {
      sock = new net.Socket({ fd, readable: true, writable: true });
    } catch (err) {
      fail(err as ConnectFailure);
      return;
    }
    fd = -1; // node owns it now
    state = 'done';
    done(null, sock);
  });
  return {
    cancel: () => {
      if (state !== 'connecting') return;
      state = 'cancelled';
      // Ends the wait on the worker thread at once; its callback closes the fd.
      libc.shutdown(fd);
    },
  };
}
