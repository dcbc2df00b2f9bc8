/**
 * The states and events of the two OSPF state machines, as RFC 2328 names them: the interface
 * states (9.1) and events (9.2), the neighbor states (10.1) and events (10.2). Kept apart from the
 * machines so the instance context, the views and the tests can name a state without importing
 * the machine that holds it.
 */

/** RFC 2328 9.1. */
export type InterfaceState = 'Down' | 'Loopback' | 'Waiting' | 'PointToPoint' | 'DROther' | 'Backup' | 'DR';

/** RFC 2328 9.2 interface events. */
export type InterfaceEvent =
  | 'InterfaceUp'
  | 'WaitTimer'
  | 'BackupSeen'
  | 'NeighborChange'
  | 'LoopInd'
  | 'UnloopInd'
  | 'InterfaceDown';

/** RFC 2328 10.1. */
export type NeighborState =
  | 'Down'
  | 'Attempt'
  | 'Init'
  | '2-Way'
  | 'ExStart'
  | 'Exchange'
  | 'Loading'
  | 'Full';

/** RFC 2328 10.2 neighbor events (Start is NBMA only and not used). */
export type NeighborEvent =
  | 'HelloReceived'
  | '2-WayReceived'
  | 'NegotiationDone'
  | 'ExchangeDone'
  | 'BadLSReq'
  | 'LoadingDone'
  | 'AdjOK?'
  | 'SeqNumberMismatch'
  | '1-WayReceived'
  | 'KillNbr'
  | 'InactivityTimer'
  | 'LLDown';

const ORDER: Record<NeighborState, number> = {
  Down: 0,
  Attempt: 1,
  Init: 2,
  '2-Way': 3,
  ExStart: 4,
  Exchange: 5,
  Loading: 6,
  Full: 7,
};

/** RFC 2328 10.1 orders the neighbor states: "2-Way or higher" and the like. */
export function stateAtLeast(s: NeighborState, min: NeighborState): boolean {
  return ORDER[s] >= ORDER[min];
}
