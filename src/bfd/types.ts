/**
 * The public shapes of BFD sessions, shared by the session, the manager and their clients (BGP,
 * later OSPF, RFC 5882): configured timers, the session key, state-change events and the status
 * view (RFC 5880 6.8.1 variables, negotiated intervals, counters).
 */
import type { BfdAuthTypeName } from './auth.js';
import type { BfdDiag, BfdStateName } from './constants.js';

/** The configured timers, in milliseconds (the config's unit). */
export interface BfdTimerConfig {
  /** bfd.DesiredMinTxInterval once Up. */
  desiredMinTxMs: number;
  /** bfd.RequiredMinRxInterval. */
  requiredMinRxMs: number;
  /** bfd.DetectMult. */
  detectMult: number;
}

/** What identifies a single-hop session (RFC 5881 3: the peer's address on an interface). */
export interface BfdSessionKey {
  peer: string;
  localAddress: string;
  interface?: string;
}

/** Emitted on every change of bfd.SessionState. */
export interface BfdStateChange {
  key: BfdSessionKey;
  from: BfdStateName;
  to: BfdStateName;
  /** bfd.LocalDiag after the change, and its RFC 5880 4.1 name. */
  diag: BfdDiag;
  diagName: string;
  /**
   * The peer signalled AdminDown. RFC 5882 3.2: a client should not take its own session down
   * for that; it is the peer's way of saying BFD (not the path) went away.
   */
  remoteAdminDown: boolean;
  /** Clock time of the change (ms). */
  at: number;
}

export interface BfdCounters {
  packetsIn: number;
  packetsOut: number;
  upTransitions: number;
  downTransitions: number;
  /**
   * Discarded packets by reason: codec reasons, `ttl`, demux reasons, and authentication (RFC 5880
   * 6.7, 6.8.6): `auth-unsupported` (A bit without authentication configured), `auth-missing` (no
   * A bit with it), `auth-type`, `auth-key-id`, `auth-sequence` (outside the window), `auth-failed`
   * (wrong password or digest).
   */
  drops: Record<string, number>;
}

export interface BfdSessionStatus extends BfdSessionKey {
  state: BfdStateName;
  remoteState: BfdStateName;
  localDiscriminator: number;
  remoteDiscriminator: number;
  /** bfd.LocalDiag (RFC name) and the last non-zero one, which outlives the return to Up. */
  diagnostic: string;
  lastDiagnostic: string | null;
  remoteDiagnostic: string;
  detectMult: number;
  remoteDetectMult: number;
  /** What we advertise now (the one-second floor applies while not Up, RFC 5880 6.8.3). */
  desiredMinTxMs: number;
  requiredMinRxMs: number;
  remoteDesiredMinTxMs: number;
  remoteRequiredMinRxMs: number;
  /** Negotiated: our transmit interval before jitter, the peer's, and our Detection Time. */
  txIntervalMs: number;
  rxIntervalMs: number;
  detectTimeMs: number;
  pollActive: boolean;
  /** ms since the last state change. */
  sinceMs: number;
  counters: BfdCounters;
  /** When configured: the Auth Type (config name) and Key ID; never the key. */
  authentication?: { type: BfdAuthTypeName; keyId: number };
}
