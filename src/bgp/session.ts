/**
 * One BGP peer as the speaker sees it (RFC 4271 8): start, the two ways to stop (drain: Cease with
 * an RFC 9003 text after the withdrawals; restart: close without NOTIFICATION), AutomaticStop,
 * UPDATEs to send, connections our listener accepted, and the status of the session.
 *
 * File map: every input is an event on the session's one queue (`session-events.ts`); these
 * methods, the sockets and timers (`attempt.ts`) only post. `session-process.ts` processes one event
 * at a time, one function per event kind; `session-core.ts` holds the attempts and runs the
 * actions of each FSM step (`fsm.ts`); `update-pump.ts` writes UPDATEs in slices; `collision.ts`
 * decides RFC 4271 6.8; `negotiate.ts` checks the OPEN; `backoff.ts` spaces reconnects.
 *
 * The speaker hears of Established, down, UPDATEs and ROUTE-REFRESHes through SessionHooks, called
 * while an event is processed: what a hook asks of the session (automaticStop for too many
 * prefixes, stop) is queued and runs after that event, never inside it.
 */
import type { BgpPeerConfig } from '../config/bgp.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import type { BgpState, NotificationSpec } from './fsm.js';
import type { SessionEnd } from './graceful-restart.js';
import { type CodecContext, encodeMessage, type UpdateMessage } from './message/index.js';
import { MessageType } from './message/types.js';
import type { LocalOpenParams, Negotiated } from './negotiate.js';
import { SessionCore } from './session-core.js';
import type { SessionCounters } from './session-counters.js';
import { EventQueue, type SessionWideEvent } from './session-events.js';
import { processEvent, processingFailed } from './session-process.js';
import type { BgpSocket, TransportFactory } from './transport.js';

export { LARGE_HOLD_MS } from './session-core.js';
export type { MessageKind, SessionCounters } from './session-counters.js';

export interface SessionHooks {
  /** The session reached Established: replay Adj-RIB-Out, then End-of-RIB. */
  established(s: Session): void;
  /**
   * An Established session went down: forget what we sent, and the peer's routes unless graceful
   * restart keeps them (`end` says how it ended, RFC 4724 4.2 / RFC 8538 3).
   */
  down(s: Session, end: SessionEnd): void;
  /** An UPDATE arrived in Established (RFC 7606 notes in `u.errors`). */
  update(s: Session, u: UpdateMessage): void;
  /** RFC 2918: the peer asks for our routes again. */
  routeRefresh(s: Session, afi: number, safi: number): void;
  stateChange?(s: Session, from: BgpState, to: BgpState): void;
}

export interface SessionOptions {
  readonly peer: BgpPeerConfig;
  readonly local: LocalOpenParams;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly transport: TransportFactory;
  readonly hooks: SessionHooks;
  /** Back-off first delay in ms (default 100); tests may pass a deterministic random. */
  readonly backoffInitialMs?: number;
  readonly random?: (() => number) | null;
}

export class Session {
  readonly peer: BgpPeerConfig;
  private readonly core: SessionCore;
  private readonly queue: EventQueue;

  constructor(private readonly opts: SessionOptions) {
    this.peer = opts.peer;
    const hooks = opts.hooks;
    this.queue = new EventQueue(
      (p) => processEvent(this.core, p),
      (err, p) => processingFailed(this.core, err, p),
    );
    this.core = new SessionCore({
      peer: opts.peer,
      local: opts.local,
      clock: opts.clock,
      log: opts.logger.child({ peer: opts.peer.address }),
      transport: opts.transport,
      post: (p) => this.queue.post(p),
      backoffInitialMs: opts.backoffInitialMs,
      random: opts.random,
      hooks: {
        established: () => hooks.established(this),
        down: (end) => hooks.down(this, end),
        update: (u) => hooks.update(this, u),
        routeRefresh: (afi, safi) => hooks.routeRefresh(this, afi, safi),
        stateChange: (from, to) => hooks.stateChange?.(this, from, to),
      },
    });
  }

  // ===== status =====

  get state(): BgpState {
    return this.core.main.state;
  }

  get counters(): SessionCounters {
    return this.core.counters;
  }

  /** The last failure in words, e.g. "peer sent NOTIFICATION OPEN Message Error / Bad Peer AS". */
  get lastError(): string | null {
    return this.core.lastError;
  }

  /** Negotiated parameters of the Established session. */
  get negotiated(): Negotiated | undefined {
    const m = this.core.main;
    return m.state === 'Established' ? m.negotiated : undefined;
  }

  get localAddress(): string | undefined {
    return this.core.main.socket?.localAddress;
  }

  get remoteAddress(): string | undefined {
    return this.core.main.socket?.remoteAddress;
  }

  get codecContext(): CodecContext {
    return this.core.main.ctx;
  }

  uptimeSeconds(): number {
    const { main, establishedAt } = this.core;
    if (main.state !== 'Established' || establishedAt === undefined) return 0;
    return Math.floor((this.opts.clock.now() - establishedAt) / 1000);
  }

  /** Reconnect attempts since the last Established, for status and tests. */
  get backoffFailures(): number {
    return this.core.backoff.failures;
  }

  /** UPDATEs waiting to be written. */
  get queuedUpdates(): number {
    return this.core.main.pump.queued;
  }

  // ===== control: each call posts one event =====

  /** Event 1 ManualStart (or 4 for a passive peer). */
  start(): void {
    this.post({ type: 'start' });
  }

  /**
   * Event 2 ManualStop. Waits for queued UPDATEs (e.g. drain withdrawals) to be written, then sends
   * `notification` (null: none, the "restart" exit) and closes. Resolves when the socket closed.
   */
  async stop(notification: NotificationSpec | null): Promise<void> {
    await new Promise<void>((done) => this.post({ type: 'stop', notification, flushed: false, done }));
    await Promise.all([...this.core.closing]);
  }

  /** Closes every connection at once without a NOTIFICATION (after a stop that timed out). */
  abort(): void {
    this.post({ type: 'abort' });
  }

  /**
   * Event 8 AutomaticStop, e.g. maximum prefixes (RFC 4486). With `penalty`, the next reconnect
   * waits the full connectRetryTime: back-off resets on Established, and a peer that always
   * exceeds the limit must not be reconnected every 100 ms.
   */
  automaticStop(notification: NotificationSpec, reason: string, penalty = false): void {
    this.post({ type: 'automaticStop', notification, reason, penalty });
  }

  /**
   * Queues UPDATEs on the Established session; dropped (returns false) otherwise. Not an FSM event:
   * it only fills the pump, whose slices are events.
   */
  sendUpdates(updates: readonly UpdateMessage[]): boolean {
    const a = this.core.main;
    if (a.state !== 'Established' || !a.socket) return false;
    a.pump.push(updates);
    return true;
  }

  /**
   * RFC 2918 3: asks the peer to send its routes of one family again. Only on an Established
   * session whose peer advertised the capability (RFC 2918 2); false otherwise. Not an FSM event.
   */
  requestRouteRefresh(afi: number, safi: number): boolean {
    const a = this.core.main;
    if (a.state !== 'Established' || !a.socket || !a.negotiated?.routeRefresh) return false;
    a.socket.write(encodeMessage({ type: MessageType.RouteRefresh, afi, safi, subtype: 0 }, a.ctx));
    this.core.counters.messagesOut.routeRefresh++;
    return true;
  }

  /** A connection our listener accepted from this peer's address. */
  acceptIncoming(socket: BgpSocket): void {
    this.post({ type: 'accepted', socket });
  }

  private post(event: SessionWideEvent): void {
    this.queue.post({ attempt: null, event });
  }
}
