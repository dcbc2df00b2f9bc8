/**
 * BFD (RFC 5880 Asynchronous mode, RFC 5881 single-hop IPv4/IPv6) for podroute's routing
 * protocols. Files: `packet.ts` the Control packet codec, `auth.ts` its Authentication Section
 * (RFC 5880 6.7) and `auth-state.ts` the sequence numbers, `fsm.ts` the state table, `timers.ts`
 * the interval arithmetic, `session.ts` one session on the injected clock, `manager.ts` sessions,
 * sockets and demultiplexing, `socket.ts` (+ `libc.ts`, `ttl-filter.ts`) the UDP sockets with the
 * TTL 255 rule. Clients use `BfdManager` and its `onStateChange` events (RFC 5882).
 */
export {
  AUTH_TYPE_NAMES,
  authTypeFromName,
  type BfdAuthConfig,
  type BfdAuthFailure,
  type BfdAuthTypeName,
} from './auth.js';
export { BfdDiag, BfdState, type BfdStateName, diagName } from './constants.js';
export {
  BfdManager,
  type BfdManagerOptions,
  type BfdManagerStatus,
  type BfdSessionConfig,
  type BfdSocketFactory,
  sessionKeyString,
} from './manager.js';
export {
  type BfdControlPacket,
  BfdDecodeError,
  type BfdDecodeReason,
  decodeControl,
  encodeControl,
} from './packet.js';
export { BfdSession } from './session.js';
export {
  type BfdDatagram,
  type BfdSocket,
  BfdSocketError,
  type BfdSocketOptions,
  openBfdSocket,
} from './socket.js';
export type {
  BfdCounters,
  BfdSessionKey,
  BfdSessionStatus,
  BfdStateChange,
  BfdTimerConfig,
} from './types.js';
