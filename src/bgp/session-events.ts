/**
 * The inputs of one BGP session, as events, and the queue they go through (RFC 4271 8.1: every
 * input becomes an event for the FSM of one connection).
 *
 *   speaker ───── start / stop / abort / automaticStop / accepted ──┐  (attempt: null)
 *   back-off ──── idleHoldExpired ─────────────────────────────────┤
 *   connect ───── connected / connectFailed ───────────────────────┤
 *   socket ────── message (decoded) / malformed / closed / writable ┼──► EventQueue ──► process
 *   timers ────── timer (connectRetry, hold, keepalive), sendHoldExpired ┤ (one at a time)
 *   the session ─ collisionDump / reset ───────────────────────────┤
 *   UPDATE pump ─ pump ────────────────────────────────────────────┘
 *
 * Nothing but `process` acts on the session. Each event is processed to the end of its FSM action
 * list before the next one starts; an event posted meanwhile (a hook stopping the session for too
 * many prefixes, the dump of a losing connection, RFC 4271 6.8) waits its turn. So no action runs
 * on a connection that another action of the same event already took Idle.
 *
 * An attempt event names its connection (attempt id, and for socket events the socket that
 * produced it): when that connection is gone or replaced by the time the event is processed, the
 * event is stale and dropped (counted, logged at debug).
 */
import type { NotificationSpec, TimerName } from './fsm.js';
import type { Message } from './message/index.js';
import type { BgpSocket } from './transport.js';

/** Events for the session as a whole; they act on whatever connection is current when processed. */
export type SessionWideEvent =
  /** RFC 4271 8.1.2 Event 1 ManualStart (Event 4 for a passive peer). */
  | { readonly type: 'start' }
  /**
   * Event 2 ManualStop. `flushed`: queued UPDATEs were written (or there was no session to write
   * them on). `done` is called once the connections are closing.
   */
  | {
      readonly type: 'stop';
      readonly notification: NotificationSpec | null;
      readonly flushed: boolean;
      readonly done: () => void;
    }
  /** Closes every connection at once without a NOTIFICATION. */
  | { readonly type: 'abort' }
  /** Event 8 AutomaticStop (e.g. RFC 4486 maximum prefixes); `penalty` waits a full connectRetryTime. */
  | {
      readonly type: 'automaticStop';
      readonly notification: NotificationSpec;
      readonly reason: string;
      readonly penalty: boolean;
    }
  /** Our listener accepted a connection from this peer (becomes Event 17 for some attempt). */
  | { readonly type: 'accepted'; readonly socket: BgpSocket };

/** Events of one connection attempt (one FSM instance). */
export type AttemptEvent =
  /** The back-off after a failure ran out: Event 3 AutomaticStart (RFC 4271 8.1.1 IdleHoldTimer). */
  | { readonly type: 'idleHoldExpired' }
  /** Event 16 Tcp_CR_Acked. */
  | { readonly type: 'connected'; readonly socket: BgpSocket }
  /** Event 18 TcpConnectionFails, for our connect. */
  | { readonly type: 'connectFailed'; readonly error: Error }
  /** A decoded message: Events 19 (OPEN), 25/24 (NOTIFICATION), 26 (KEEPALIVE), 27 (UPDATE), RFC 2918. */
  | { readonly type: 'message'; readonly from: BgpSocket; readonly message: Message }
  /** RFC 9687 SendHoldTimer_Expires: the peer read nothing we sent for the send hold time. */
  | { readonly type: 'sendHoldExpired'; readonly from: BgpSocket }
  /** A message that failed to decode: Events 21, 22, 28 (the BgpDecodeError names the NOTIFICATION). */
  | { readonly type: 'malformed'; readonly from: BgpSocket; readonly error: unknown }
  /** Event 18 TcpConnectionFails: the socket closed. */
  | { readonly type: 'closed'; readonly from: BgpSocket; readonly error: Error | undefined }
  /** The socket's write buffer drained: the UPDATE pump may go on. */
  | { readonly type: 'writable'; readonly from: BgpSocket }
  /** The next slice of the UPDATE pump. */
  | { readonly type: 'pump' }
  /** Events 9, 10, 11: ConnectRetryTimer, HoldTimer, KeepaliveTimer expired. */
  | { readonly type: 'timer'; readonly timer: TimerName }
  /** Event 23 OpenCollisionDump: the other connection won (RFC 4271 6.8). */
  | { readonly type: 'collisionDump' }
  /** After an internal error: Event 8 AutomaticStop with Cease; `reason` says which error. */
  | { readonly type: 'reset'; readonly reason: string };

export type Posted =
  | { readonly attempt: null; readonly event: SessionWideEvent }
  | { readonly attempt: number; readonly event: AttemptEvent };

/**
 * A FIFO drained by whoever posts first: posting from outside runs the queue at once (so a test
 * sees the effect synchronously), posting from inside `process` only appends.
 */
export class EventQueue {
  private items: Posted[] = [];
  private head = 0;
  private draining = false;

  constructor(
    private readonly process: (p: Posted) => void,
    /** An exception from `process` (a bug): it must not stop the queue or escape into a socket. */
    private readonly onError: (err: unknown, p: Posted) => void,
  ) {}

  post(p: Posted): void {
    this.items.push(p);
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.head < this.items.length) {
        const next = this.items[this.head++]!;
        try {
          this.process(next);
        } catch (err) {
          this.onError(err, next);
        }
      }
    } finally {
      this.items = [];
      this.head = 0;
      this.draining = false;
    }
  }
}
