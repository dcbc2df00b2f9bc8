/**
 * The BFD session state table (RFC 5880 6.2 diagram, 6.8.6 reception steps, 6.8.4 detection,
 * 6.8.16 administrative control) as one pure function: (state, input) → new state and the
 * diagnostic to record, or nothing when the state stays. Timers, packets and counters are the
 * session's job (`session.ts`).
 *
 *                             +--+
 *                             |  | UP, ADMIN DOWN, TIMER
 *                             |  V
 *                     DOWN  +------+  INIT
 *              +------------|      |------------+
 *              |            | DOWN |            |
 *              |  +-------->|      |<--------+  |
 *              |  |         +------+         |  |
 *              |  |                          |  |
 *              |  |               ADMIN DOWN,|  |
 *              |  |ADMIN DOWN,          DOWN,|  |
 *              |  |TIMER                TIMER|  |
 *              V  |                          |  V
 *            +------+                      +------+
 *       +----|      |                      |      |----+
 *   DOWN|    | INIT |--------------------->|  UP  |    |INIT, UP
 *       +--->|      | INIT, UP             |      |<---+
 *            +------+                      +------+
 */
import { BfdDiag, BfdState } from './constants.js';

export type FsmInput =
  /** A packet that passed every reception check, with the State it carries. */
  | { kind: 'rx'; remoteState: BfdState }
  /** RFC 5880 6.8.4: a Detection Time passed without a valid packet. */
  | { kind: 'detect-expired' }
  /** RFC 5880 6.8.16: disable, with AdministrativelyDown or PathDown. */
  | { kind: 'admin-down'; diag: BfdDiag }
  /** RFC 5880 6.8.16: enable. */
  | { kind: 'admin-up' };

export interface FsmChange {
  state: BfdState;
  /** The new bfd.LocalDiag. */
  diag: BfdDiag;
}

/** The state change `input` causes in `state`, or undefined when nothing changes. */
export function fsmStep(state: BfdState, input: FsmInput): FsmChange | undefined {
  switch (input.kind) {
    case 'admin-down':
      return state === BfdState.AdminDown ? undefined : { state: BfdState.AdminDown, diag: input.diag };
    case 'admin-up':
      // RFC 5880 6.8.16 "If enabling session: set bfd.SessionState to Down"; the admin diag is over.
      return state === BfdState.AdminDown ? { state: BfdState.Down, diag: BfdDiag.None } : undefined;
    case 'detect-expired':
      // RFC 5880 6.8.4: only Init and Up sessions go Down; a Down session has nothing to lose.
      return state === BfdState.Init || state === BfdState.Up
        ? { state: BfdState.Down, diag: BfdDiag.ControlDetectionTimeExpired }
        : undefined;
    case 'rx':
      return onReceive(state, input.remoteState);
  }
}

/** RFC 5880 6.8.6, the steps after the timer updates. */
function onReceive(state: BfdState, remote: BfdState): FsmChange | undefined {
  // "If bfd.SessionState is AdminDown: Discard the packet".
  if (state === BfdState.AdminDown) return undefined;
  if (remote === BfdState.AdminDown) {
    // "If received state is AdminDown: if bfd.SessionState is not Down, set bfd.LocalDiag to 3
    // (Neighbor signaled session down), set bfd.SessionState to Down".
    return state === BfdState.Down
      ? undefined
      : { state: BfdState.Down, diag: BfdDiag.NeighborSignaledSessionDown };
  }
  switch (state) {
    case BfdState.Down:
      if (remote === BfdState.Down) return { state: BfdState.Init, diag: BfdDiag.None };
      if (remote === BfdState.Init) return { state: BfdState.Up, diag: BfdDiag.None };
      return undefined;
    case BfdState.Init:
      return remote === BfdState.Init || remote === BfdState.Up
        ? { state: BfdState.Up, diag: BfdDiag.None }
        : undefined;
    case BfdState.Up:
      return remote === BfdState.Down
        ? { state: BfdState.Down, diag: BfdDiag.NeighborSignaledSessionDown }
        : undefined;
  }
}
