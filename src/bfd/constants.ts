/**
 * BFD numbers shared by the codec, the session and the socket: session states (RFC 5880 4.1, 6.8.1),
 * diagnostic codes with their RFC names (RFC 5880 4.1), ports (RFC 5881 4) and the timer rules that
 * are constants (RFC 5880 6.8.3: one second while not Up; RFC 5881 5: TTL 255).
 */

/** The State field (RFC 5880 4.1). */
export enum BfdState {
  AdminDown = 0,
  Down = 1,
  Init = 2,
  Up = 3,
}

export const STATE_NAMES: Record<BfdState, BfdStateName> = {
  [BfdState.AdminDown]: 'AdminDown',
  [BfdState.Down]: 'Down',
  [BfdState.Init]: 'Init',
  [BfdState.Up]: 'Up',
};

export type BfdStateName = 'AdminDown' | 'Down' | 'Init' | 'Up';

/** The Diagnostic field (RFC 5880 4.1): why the local system last changed state. */
export enum BfdDiag {
  None = 0,
  ControlDetectionTimeExpired = 1,
  EchoFunctionFailed = 2,
  NeighborSignaledSessionDown = 3,
  ForwardingPlaneReset = 4,
  PathDown = 5,
  ConcatenatedPathDown = 6,
  AdministrativelyDown = 7,
  ReverseConcatenatedPathDown = 8,
}

const DIAG_NAMES: readonly string[] = [
  'No Diagnostic',
  'Control Detection Time Expired',
  'Echo Function Failed',
  'Neighbor Signaled Session Down',
  'Forwarding Plane Reset',
  'Path Down',
  'Concatenated Path Down',
  'Administratively Down',
  'Reverse Concatenated Path Down',
];

/** The RFC 5880 4.1 name of a diagnostic code; codes 9-31 are reserved. */
export function diagName(code: number): string {
  return DIAG_NAMES[code] ?? `Reserved (${code})`;
}

/** RFC 5881 4: single-hop control packets go to this UDP port. */
export const BFD_CONTROL_PORT = 3784;
/** RFC 5881 4: the source port range. */
export const BFD_SOURCE_PORT_MIN = 49152;
export const BFD_SOURCE_PORT_MAX = 65535;
/** RFC 5881 5: sent with TTL / Hop Limit 255, and nothing else accepted. */
export const BFD_TTL = 255;
/** RFC 5880 4.1: the only version. */
export const BFD_VERSION = 1;
/** RFC 5880 6.8.3: while not Up, DesiredMinTxInterval is at least one second (in microseconds). */
export const SLOW_TX_US = 1_000_000;
