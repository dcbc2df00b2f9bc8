/**
 * The BGP finite state machine of RFC 4271 8, as a pure function: (state, event) → (state, actions).
 *
 * One instance runs per TCP connection (RFC 4271 8: "one FSM per connection"); the session owns
 * sockets and timers, feeds RFC events in and executes the returned actions in order. Nothing here
 * touches a socket, a timer or the clock, so the whole transition table is testable in microseconds.
 *
 * Deliberate deviations (each also noted at the line):
 * - No DelayOpen, no DampPeerOscillations: the optional attributes of RFC 4271 8.1.1 are off.
 * - A passive start (events 4/5) does not arm the ConnectRetryTimer: RFC 4271 8.2.2 Active state
 *   would otherwise make a passive peer dial out when it fires.
 * - No NOTIFICATION in reply to a NOTIFICATION (NotifMsg in OpenSent): the peer has already closed.
 * - BGPHeaderErr / BGPOpenMsgErr in Established send their own error code (RFC 4271 6.1, 6.2) rather
 *   than FSM Error, as every implementation does.
 * - The automatic restart after a failure (RFC 4271 8.1.1 IdleHoldTimer) is the session's back-off.
 */
import { CeaseSubcode, ErrorCode, FsmSubcode } from './message/types.js';

/** RFC 4271 8.2.2 state names, also the `state` of each peer in the status output. */
export type BgpState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** A NOTIFICATION to send: code, subcode, data, and for Cease 2/4 an RFC 9003 text. */
export interface NotificationSpec {
  readonly code: number;
  readonly subcode: number;
  readonly data?: Buffer;
  readonly shutdownMessage?: string;
}

/** RFC 4271 8.1 events; the number in each comment is the RFC's event number. */
export type FsmEvent =
  /** Event 1 ManualStart / Event 3 AutomaticStart: dial out. */
  | { readonly type: 'ManualStart' }
  | { readonly type: 'AutomaticStart' }
  /** Event 4 ManualStart_with_PassiveTcpEstablishment / Event 5 AutomaticStart_with_...: wait. */
  | { readonly type: 'ManualStartPassive' }
  | { readonly type: 'AutomaticStartPassive' }
  /**
   * Event 2 ManualStop. `notification` is the Cease to send when a session exists; null closes
   * the TCP connection without one (podroute's "restart" exit: the peer keeps or drops our routes).
   */
  | { readonly type: 'ManualStop'; readonly notification: NotificationSpec | null }
  /** Event 8 AutomaticStop: an implementation decision to stop, e.g. maximum prefixes (RFC 4486). */
  | { readonly type: 'AutomaticStop'; readonly notification: NotificationSpec }
  /** Event 9 ConnectRetryTimer_Expires, 10 HoldTimer_Expires, 11 KeepaliveTimer_Expires. */
  | { readonly type: 'ConnectRetryTimerExpires' }
  | { readonly type: 'HoldTimerExpires' }
  | { readonly type: 'KeepaliveTimerExpires' }
  /** Event 16 Tcp_CR_Acked (our connect succeeded) / 17 TcpConnectionConfirmed (we accepted). */
  | { readonly type: 'TcpCrAcked' }
  | { readonly type: 'TcpConnectionConfirmed' }
  /** Event 18 TcpConnectionFails. */
  | { readonly type: 'TcpConnectionFails' }
  /** Event 19 BGPOpen: a valid OPEN (the session validated it, RFC 4271 6.2). */
  | { readonly type: 'BGPOpen' }
  /** Event 21 BGPHeaderErr, 22 BGPOpenMsgErr, 28 UpdateMsgErr: carry the NOTIFICATION to send. */
  | { readonly type: 'BGPHeaderErr'; readonly notification: NotificationSpec }
  | { readonly type: 'BGPOpenMsgErr'; readonly notification: NotificationSpec }
  | { readonly type: 'UpdateMsgErr'; readonly notification: NotificationSpec }
  /** Event 23 OpenCollisionDump: this connection lost collision resolution (RFC 4271 6.8). */
  | { readonly type: 'OpenCollisionDump' }
  /** Event 24 NotifMsgVerErr, 25 NotifMsg, 26 KeepAliveMsg, 27 UpdateMsg. */
  | { readonly type: 'NotifMsgVerErr' }
  | { readonly type: 'NotifMsg' }
  | { readonly type: 'KeepAliveMsg' }
  | { readonly type: 'UpdateMsg' }
  /** RFC 2918 ROUTE-REFRESH received (not an RFC 4271 event; valid only in Established). */
  | { readonly type: 'RouteRefreshMsg' };

export type FsmEventType = FsmEvent['type'];

export type TimerName = 'connectRetry' | 'hold' | 'keepalive';

export type FsmAction =
  /** Initiate a TCP connection to the peer. */
  | { readonly kind: 'connect' }
  /** Drop the TCP connection (after flushing anything queued, e.g. a NOTIFICATION). */
  | { readonly kind: 'close' }
  | { readonly kind: 'sendOpen' }
  | { readonly kind: 'sendKeepalive' }
  | { readonly kind: 'sendNotification'; readonly notification: NotificationSpec }
  /**
   * Start (or restart) a timer. `hold` with `large` is the 4 minutes of RFC 4271 8.2.2 while
   * waiting for the OPEN; otherwise the negotiated value (0 = not started, RFC 4271 4.4).
   */
  | { readonly kind: 'startTimer'; readonly timer: TimerName; readonly large?: boolean }
  | { readonly kind: 'stopTimer'; readonly timer: TimerName }
  /** "Releases all BGP resources": the session forgets the peer's routes (Adj-RIB-In). */
  | { readonly kind: 'releaseResources' }
  /** Hand the UPDATE / ROUTE-REFRESH that caused the event to the RIB. */
  | { readonly kind: 'processUpdate' }
  | { readonly kind: 'processRouteRefresh' };

export interface FsmSnapshot {
  readonly state: BgpState;
  /** RFC 4271 8: ConnectRetryCounter, kept for status; damping is off. */
  readonly connectRetryCounter: number;
}

export interface FsmResult {
  readonly next: FsmSnapshot;
  readonly actions: readonly FsmAction[];
}

export const initialFsm: FsmSnapshot = { state: 'Idle', connectRetryCounter: 0 };

const HOLD_EXPIRED: NotificationSpec = { code: ErrorCode.HoldTimerExpired, subcode: 0 };
const COLLISION: NotificationSpec = {
  code: ErrorCode.Cease,
  subcode: CeaseSubcode.ConnectionCollisionResolution,
};

const send = (notification: NotificationSpec): FsmAction => ({ kind: 'sendNotification', notification });
const start = (timer: TimerName): FsmAction => ({ kind: 'startTimer', timer });
const stop = (timer: TimerName): FsmAction => ({ kind: 'stopTimer', timer });
const CLOSE: FsmAction = { kind: 'close' };
const RELEASE: FsmAction = { kind: 'releaseResources' };

/** RFC 6608 3: the FSM Error subcode that names the state the unexpected message arrived in. */
function fsmError(state: BgpState): NotificationSpec {
  const subcode =
    state === 'OpenSent'
      ? FsmSubcode.UnexpectedInOpenSent
      : state === 'OpenConfirm'
        ? FsmSubcode.UnexpectedInOpenConfirm
        : state === 'Established'
          ? FsmSubcode.UnexpectedInEstablished
          : FsmSubcode.Unspecified;
  return { code: ErrorCode.FiniteStateMachine, subcode };
}

/**
 * The common "go to Idle" tail of RFC 4271 8.2.2: optionally send a NOTIFICATION, set the
 * ConnectRetryTimer to zero, release resources, drop the TCP connection, count the failure.
 */
function toIdle(
  s: FsmSnapshot,
  notification: NotificationSpec | null,
  counter: 'increment' | 'reset' | 'keep',
): FsmResult {
  const actions: FsmAction[] = [];
  if (notification) actions.push(send(notification));
  actions.push(stop('connectRetry'), stop('hold'), stop('keepalive'), RELEASE, CLOSE);
  const connectRetryCounter =
    counter === 'increment' ? s.connectRetryCounter + 1 : counter === 'reset' ? 0 : s.connectRetryCounter;
  return { next: { state: 'Idle', connectRetryCounter }, actions };
}

const stay = (s: FsmSnapshot, actions: FsmAction[] = []): FsmResult => ({ next: s, actions });
const go = (s: FsmSnapshot, state: BgpState, actions: FsmAction[]): FsmResult => ({
  next: { ...s, state },
  actions,
});

/** One RFC 4271 8.2.2 transition. Never throws; unknown combinations follow the RFC's "any other event". */
export function fsmStep(s: FsmSnapshot, e: FsmEvent): FsmResult {
  switch (s.state) {
    case 'Idle':
      return idle(s, e);
    case 'Connect':
      return connect(s, e);
    case 'Active':
      return active(s, e);
    case 'OpenSent':
      return openSent(s, e);
    case 'OpenConfirm':
      return openConfirm(s, e);
    case 'Established':
      return established(s, e);
  }
}

// RFC 4271 8.2.2 "Idle state"
function idle(s: FsmSnapshot, e: FsmEvent): FsmResult {
  switch (e.type) {
    case 'ManualStart': // Event 1
    case 'AutomaticStart': // Event 3
      return {
        next: { state: 'Connect', connectRetryCounter: 0 },
        actions: [start('connectRetry'), { kind: 'connect' }],
      };
    case 'ManualStartPassive': // Event 4
    case 'AutomaticStartPassive': // Event 5
      // Deviation: no ConnectRetryTimer, so a passive peer never dials out from Active.
      return { next: { state: 'Active', connectRetryCounter: 0 }, actions: [] };
    default:
      // "Any other event ... received in the Idle state does not cause change in the state."
      // A connection reaching an Idle FSM is refused by the session.
      return stay(s);
  }
}

// RFC 4271 8.2.2 "Connect State"
function connect(s: FsmSnapshot, e: FsmEvent): FsmResult {
  switch (e.type) {
    case 'ManualStart':
    case 'AutomaticStart':
    case 'ManualStartPassive':
    case 'AutomaticStartPassive':
      return stay(s); // Events 1, 3-7 are ignored.
    case 'ManualStop': // Event 2: no session yet, nothing to notify.
      return toIdle(s, null, 'reset');
    case 'ConnectRetryTimerExpires': // Event 9: drop the attempt, try again.
      return stay(s, [CLOSE, start('connectRetry'), { kind: 'connect' }]);
    case 'TcpCrAcked': // Event 16
    case 'TcpConnectionConfirmed': // Event 17
      return go(s, 'OpenSent', [
        stop('connectRetry'),
        { kind: 'sendOpen' },
        { kind: 'startTimer', timer: 'hold', large: true },
      ]);
    case 'TcpConnectionFails': // Event 18 (DelayOpenTimer not running)
      return toIdle(s, null, 'keep');
    case 'BGPHeaderErr': // Events 21, 22: only reachable with DelayOpen; notify anyway.
    case 'BGPOpenMsgErr':
      return toIdle(s, e.notification, 'increment');
    case 'NotifMsgVerErr': // Event 24
      return toIdle(s, null, 'keep');
    default: // Events 8, 10-11, 13, 19, 23, 25-28
      return toIdle(s, null, 'increment');
  }
}

// RFC 4271 8.2.2 "Active State"
function active(s: FsmSnapshot, e: FsmEvent): FsmResult {
  switch (e.type) {
    case 'ManualStart':
    case 'AutomaticStart':
    case 'ManualStartPassive':
    case 'AutomaticStartPassive':
      return stay(s);
    case 'ManualStop': // Event 2
      return toIdle(s, null, 'reset');
    case 'ConnectRetryTimerExpires': // Event 9: dial out.
      return go(s, 'Connect', [start('connectRetry'), { kind: 'connect' }]);
    case 'TcpCrAcked': // Event 16
    case 'TcpConnectionConfirmed': // Event 17
      return go(s, 'OpenSent', [
        stop('connectRetry'),
        { kind: 'sendOpen' },
        { kind: 'startTimer', timer: 'hold', large: true },
      ]);
    case 'TcpConnectionFails': // Event 18
      return toIdle(s, null, 'increment');
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      return toIdle(s, e.notification, 'increment');
    case 'NotifMsgVerErr':
      return toIdle(s, null, 'keep');
    default: // Events 8, 10-11, 13, 19, 23, 25-28
      return toIdle(s, null, 'increment');
  }
}

// RFC 4271 8.2.2 "OpenSent"
function openSent(s: FsmSnapshot, e: FsmEvent): FsmResult {
  switch (e.type) {
    case 'ManualStart':
    case 'AutomaticStart':
    case 'ManualStartPassive':
    case 'AutomaticStartPassive':
      return stay(s);
    case 'ManualStop': // Event 2: Cease, counter to zero.
      return toIdle(s, e.notification, 'reset');
    case 'AutomaticStop': // Event 8
      return toIdle(s, e.notification, 'increment');
    case 'HoldTimerExpires': // Event 10
      return toIdle(s, HOLD_EXPIRED, 'increment');
    case 'TcpCrAcked':
    case 'TcpConnectionConfirmed':
      // A second connection is a second FSM instance (RFC 4271 6.8); never fed here.
      return stay(s);
    case 'TcpConnectionFails': // Event 18: back to Active, keep listening.
      return go(s, 'Active', [CLOSE, stop('hold'), start('connectRetry')]);
    case 'BGPOpen': // Event 19: KEEPALIVE, negotiated hold and keepalive timers.
      return go(s, 'OpenConfirm', [
        stop('connectRetry'),
        { kind: 'sendKeepalive' },
        start('keepalive'),
        start('hold'),
      ]);
    case 'BGPHeaderErr': // Events 21, 22
    case 'BGPOpenMsgErr':
      return toIdle(s, e.notification, 'increment');
    case 'OpenCollisionDump': // Event 23
      return toIdle(s, COLLISION, 'increment');
    case 'NotifMsgVerErr': // Event 24
      return toIdle(s, null, 'keep');
    case 'NotifMsg': // Event 25 (deviation: no NOTIFICATION in reply to one)
      return toIdle(s, null, 'increment');
    default: // Events 9, 11-13, 20, 26-28: RFC 6608 FSM Error 1
      return toIdle(s, fsmError('OpenSent'), 'increment');
  }
}

// RFC 4271 8.2.2 "OpenConfirm State"
function openConfirm(s: FsmSnapshot, e: FsmEvent): FsmResult {
  switch (e.type) {
    case 'ManualStart':
    case 'AutomaticStart':
    case 'ManualStartPassive':
    case 'AutomaticStartPassive':
    case 'TcpCrAcked':
    case 'TcpConnectionConfirmed':
      return stay(s);
    case 'ManualStop':
      return toIdle(s, e.notification, 'reset');
    case 'AutomaticStop':
      return toIdle(s, e.notification, 'increment');
    case 'HoldTimerExpires': // Event 10
      return toIdle(s, HOLD_EXPIRED, 'increment');
    case 'KeepaliveTimerExpires': // Event 11
      return stay(s, [{ kind: 'sendKeepalive' }, start('keepalive')]);
    case 'TcpConnectionFails': // Event 18
    case 'NotifMsg': // Event 25
      return toIdle(s, null, 'increment');
    case 'NotifMsgVerErr': // Event 24
      return toIdle(s, null, 'keep');
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      return toIdle(s, e.notification, 'increment');
    case 'OpenCollisionDump': // Event 23
      return toIdle(s, COLLISION, 'increment');
    case 'KeepAliveMsg': // Event 26: the peer accepted our OPEN.
      return go(s, 'Established', [start('hold')]);
    default: // Events 9, 12-13, 19-20, 27-28: RFC 6608 FSM Error 2
      return toIdle(s, fsmError('OpenConfirm'), 'increment');
  }
}

// RFC 4271 8.2.2 "Established State"
function established(s: FsmSnapshot, e: FsmEvent): FsmResult {
  switch (e.type) {
    case 'ManualStart':
    case 'AutomaticStart':
    case 'ManualStartPassive':
    case 'AutomaticStartPassive':
    case 'TcpCrAcked':
    case 'TcpConnectionConfirmed':
      return stay(s);
    case 'ManualStop':
      return toIdle(s, e.notification, 'reset');
    case 'AutomaticStop':
      return toIdle(s, e.notification, 'increment');
    case 'HoldTimerExpires':
      return toIdle(s, HOLD_EXPIRED, 'increment');
    case 'KeepaliveTimerExpires':
      return stay(s, [{ kind: 'sendKeepalive' }, start('keepalive')]);
    case 'TcpConnectionFails':
    case 'NotifMsg':
      return toIdle(s, null, 'increment');
    case 'NotifMsgVerErr':
      return toIdle(s, null, 'keep');
    case 'KeepAliveMsg': // Event 26
      return stay(s, [start('hold')]);
    case 'UpdateMsg': // Event 27
      return stay(s, [{ kind: 'processUpdate' }, start('hold')]);
    case 'RouteRefreshMsg': // RFC 2918 4: re-advertise Adj-RIB-Out.
      return stay(s, [{ kind: 'processRouteRefresh' }, start('hold')]);
    case 'UpdateMsgErr': // Event 28
    case 'BGPHeaderErr': // deviation: the decode error's own code (RFC 4271 6.1)
    case 'BGPOpenMsgErr':
      return toIdle(s, e.notification, 'increment');
    default: // Events 9, 12-13, 19-20, 23: RFC 6608 FSM Error 3
      return toIdle(s, fsmError('Established'), 'increment');
  }
}
