/**
 * One BGP peer: its TCP connection(s), timers and FSM instances (RFC 4271 8), OPEN negotiation,
 * collision resolution (RFC 4271 6.8), reconnect back-off, and the two ways to stop.
 *
 * Inputs (all end up as an RFC event for one connection's FSM, `fsm.ts`):
 *   socket data ──► MessageReader ──► decodeMessage ──► BGPOpen/KeepAliveMsg/UpdateMsg/…/…Err
 *   socket close/connect result ──► TcpConnectionFails / Tcp_CR_Acked / TcpConnectionConfirmed
 *   Clock timers (timers.ts) ──► ConnectRetryTimer/HoldTimer/KeepaliveTimer_Expires
 *   speaker ──► start / stop / automaticStop / sendUpdates
 * The FSM returns actions; `run` executes them. The speaker learns about Established, down and
 * received UPDATEs through SessionHooks. Nothing a socket or timer callback runs may throw: every
 * entry point goes through `guard`.
 *
 * Each TCP connection has its own FSM instance ("attempt"): the main one, and while the main one
 * is in OpenSent/OpenConfirm/Established at most one inbound candidate, so the RFC 4271 6.8
 * collision can be resolved by comparing BGP identifiers once an OPEN is known.
 *
 * KEEPALIVEs and NOTIFICATIONs are written straight to the socket; UPDATEs go through a queue
 * pumped in slices with yields to the event loop and socket back-pressure, so timers keep firing
 * during a large table dump (notes/bgp.md "Keepalives starved").
 */
import type { BgpPeerConfig } from '../config/bgp.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { Backoff } from './backoff.js';
import {
  type BgpState,
  type FsmAction,
  type FsmEvent,
  type FsmSnapshot,
  fsmStep,
  initialFsm,
  type NotificationSpec,
} from './fsm.js';
import {
  BgpDecodeError,
  type CodecContext,
  decodeMessage,
  describeNotification,
  encodeMessage,
  type Message,
  MessageReader,
  type OpenMessage,
  type UpdateMessage,
} from './message/index.js';
import { CeaseSubcode, ErrorCode } from './message/types.js';
import { buildOpen, checkOpen, compareBgpIds, type LocalOpenParams, type Negotiated } from './negotiate.js';
import { Timer } from './timers.js';
import { type BgpSocket, describeSocketError, type TransportFactory } from './transport.js';

/** RFC 4271 8.2.2: "sets the HoldTimer to a large value ... 4 minutes" while waiting for an OPEN. */
export const LARGE_HOLD_MS = 240_000;
/** UPDATEs written per slice before yielding to the event loop. */
const PUMP_SLICE = 64;

export type MessageKind = 'open' | 'update' | 'notification' | 'keepalive' | 'routeRefresh';
const KIND: Record<number, MessageKind> = {
  1: 'open',
  2: 'update',
  3: 'notification',
  4: 'keepalive',
  5: 'routeRefresh',
};

export interface SessionCounters {
  messagesIn: Record<MessageKind, number>;
  messagesOut: Record<MessageKind, number>;
  /** Messages that failed to decode (each answered with the NOTIFICATION of its BgpDecodeError). */
  malformed: number;
  /** UPDATEs with RFC 7606 treat-as-withdraw errors. */
  treatAsWithdraw: number;
  notificationsIn: number;
  notificationsOut: number;
  updatesReceived: number;
  /** Times an Established session went down. */
  flaps: number;
}

const zeroKinds = (): Record<MessageKind, number> => ({
  open: 0,
  update: 0,
  notification: 0,
  keepalive: 0,
  routeRefresh: 0,
});

export interface SessionHooks {
  /** The session reached Established: replay Adj-RIB-Out, then End-of-RIB. */
  established(s: Session): void;
  /** An Established session went down: forget the peer's routes and what we sent. */
  down(s: Session): void;
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

/** One TCP connection and its FSM instance. */
class Attempt {
  fsm: FsmSnapshot;
  socket: BgpSocket | undefined;
  pendingConnect: { cancel(): void } | undefined;
  readonly reader = new MessageReader();
  ctx: CodecContext = { fourOctetAs: false };
  negotiated: Negotiated | undefined;
  peerOpen: OpenMessage | undefined;
  /** Queued UPDATEs (encoded lazily) and whether a pump is scheduled. */
  queue: UpdateMessage[] = [];
  queueHead = 0;
  pumping = false;
  waitingDrain = false;
  readonly hold: Timer;
  readonly keepalive: Timer;
  readonly connectRetry: Timer;

  constructor(
    readonly id: number,
    public inbound: boolean,
    counter: number,
    clock: Clock,
    onTimer: (a: Attempt, e: FsmEvent) => void,
  ) {
    this.fsm = { ...initialFsm, connectRetryCounter: counter };
    this.hold = new Timer(clock, () => onTimer(this, { type: 'HoldTimerExpires' }));
    this.keepalive = new Timer(clock, () => onTimer(this, { type: 'KeepaliveTimerExpires' }));
    this.connectRetry = new Timer(clock, () => onTimer(this, { type: 'ConnectRetryTimerExpires' }));
  }

  get state(): BgpState {
    return this.fsm.state;
  }

  get queued(): number {
    return this.queue.length - this.queueHead;
  }
}

export class Session {
  readonly peer: BgpPeerConfig;
  readonly counters: SessionCounters = {
    messagesIn: zeroKinds(),
    messagesOut: zeroKinds(),
    malformed: 0,
    treatAsWithdraw: 0,
    notificationsIn: 0,
    notificationsOut: 0,
    updatesReceived: 0,
    flaps: 0,
  };
  /** The last failure in words, e.g. "peer sent NOTIFICATION OPEN Message Error / Bad Peer AS". */
  lastError: string | null = null;
  private main: Attempt;
  private second: Attempt | undefined;
  private readonly backoff: Backoff;
  private readonly idleHold: Timer;
  private readonly log: Logger;
  private running = false;
  private nextId = 1;
  private establishedAt: number | undefined;
  /** Why the next NOTIFICATION is sent, appended to lastError ("peer AS 65002, expected 65000"). */
  private errorDetail: string | undefined;
  private readonly closing = new Set<Promise<void>>();
  private readonly flushWaiters: (() => void)[] = [];

  constructor(private readonly opts: SessionOptions) {
    this.peer = opts.peer;
    this.log = opts.logger.child({ peer: opts.peer.address });
    this.backoff = new Backoff({
      initialMs: opts.backoffInitialMs ?? 100,
      maxMs: opts.peer.connectRetryTime * 1000,
      random: opts.random,
    });
    this.idleHold = new Timer(opts.clock, () => this.guard(() => this.autoStart()));
    this.main = this.newAttempt(false);
  }

  // ===== status =====

  get state(): BgpState {
    return this.main.state;
  }

  /** Negotiated parameters of the Established session. */
  get negotiated(): Negotiated | undefined {
    return this.main.state === 'Established' ? this.main.negotiated : undefined;
  }

  get localAddress(): string | undefined {
    return this.main.socket?.localAddress;
  }

  get remoteAddress(): string | undefined {
    return this.main.socket?.remoteAddress;
  }

  get codecContext(): CodecContext {
    return this.main.ctx;
  }

  uptimeSeconds(): number {
    if (this.main.state !== 'Established' || this.establishedAt === undefined) return 0;
    return Math.floor((this.opts.clock.now() - this.establishedAt) / 1000);
  }

  /** Reconnect attempts since the last Established, for status and tests. */
  get backoffFailures(): number {
    return this.backoff.failures;
  }

  /** UPDATEs waiting to be written. */
  get queuedUpdates(): number {
    return this.main.queued;
  }

  // ===== control =====

  /** Event 1 ManualStart (or 4 for a passive peer). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.guard(() =>
      this.feed(this.main, { type: this.peer.passive ? 'ManualStartPassive' : 'ManualStart' }),
    );
  }

  /**
   * Event 2 ManualStop. Waits for queued UPDATEs (e.g. drain withdrawals) to be written, then sends
   * `notification` (null: none, the "restart" exit) and closes. Resolves when the socket closed.
   */
  async stop(notification: NotificationSpec | null): Promise<void> {
    this.running = false;
    this.idleHold.stop();
    if (notification && this.main.state === 'Established' && this.main.queued > 0) {
      await new Promise<void>((r) => this.flushWaiters.push(r));
    }
    this.guard(() => {
      for (const a of [this.second, this.main]) if (a) this.feed(a, { type: 'ManualStop', notification });
    });
    await Promise.all([...this.closing]);
  }

  /** Closes every connection at once without a NOTIFICATION (after a stop that timed out). */
  abort(): void {
    this.running = false;
    this.idleHold.stop();
    this.flushWaiters.splice(0).forEach((r) => {
      r();
    });
    this.guard(() => {
      for (const a of [this.second, this.main]) {
        if (!a) continue;
        const sock = a.socket;
        this.feed(a, { type: 'ManualStop', notification: null });
        sock?.destroy();
      }
    });
  }

  /**
   * Event 8 AutomaticStop, e.g. maximum prefixes (RFC 4486). With `penalty`, the next reconnect
   * waits the full connectRetryTime: back-off resets on Established, and a peer that always
   * exceeds the limit must not be reconnected every 100 ms.
   */
  automaticStop(notification: NotificationSpec, reason: string, penalty = false): void {
    this.guard(() => {
      if (penalty) this.backoff.penalize();
      this.errorDetail = reason;
      this.feed(this.main, { type: 'AutomaticStop', notification });
    });
  }

  /** Queues UPDATEs on the Established session; dropped (returns false) otherwise. */
  sendUpdates(updates: readonly UpdateMessage[]): boolean {
    const a = this.main;
    if (a.state !== 'Established' || !a.socket) return false;
    for (const u of updates) a.queue.push(u);
    this.schedulePump(a);
    return true;
  }

  /** A connection our listener accepted from this peer's address. */
  acceptIncoming(sock: BgpSocket): void {
    this.guard(() => {
      const m = this.main;
      if (!this.running || m.state === 'Idle') {
        // RFC 4271 8.2.2 Idle: "refuses all incoming BGP connections".
        this.log.debug({ state: m.state }, 'refusing connection while idle');
        sock.destroy();
        return;
      }
      if (m.state === 'Connect' || m.state === 'Active') {
        // Our own attempt has not produced a session yet: use the peer's connection instead.
        m.pendingConnect?.cancel();
        m.pendingConnect = undefined;
        if (m.socket) this.closeSocket(m);
        m.inbound = true;
        this.attach(m, sock);
        this.feed(m, { type: 'TcpConnectionConfirmed' });
        return;
      }
      if (this.second) {
        sock.destroy();
        return;
      }
      // RFC 4271 6.8: a second connection runs its own FSM until an OPEN decides the collision.
      const a = this.newAttempt(true);
      a.fsm = { ...a.fsm, state: 'Active' };
      this.second = a;
      this.attach(a, sock);
      this.feed(a, { type: 'TcpConnectionConfirmed' });
    });
  }

  // ===== event plumbing =====

  private newAttempt(inbound: boolean): Attempt {
    return new Attempt(
      this.nextId++,
      inbound,
      this.main?.fsm.connectRetryCounter ?? 0,
      this.opts.clock,
      (a, e) => this.guard(() => this.feed(a, e)),
    );
  }

  /** Runs `fn`; an exception (a bug) is logged and resets the session instead of escaping. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err }, 'internal error in BGP session');
      this.lastError = `internal error: ${err instanceof Error ? err.message : String(err)}`;
      try {
        for (const a of [this.second, this.main]) {
          if (a && a.state !== 'Idle') {
            this.feed(a, { type: 'AutomaticStop', notification: { code: ErrorCode.Cease, subcode: 0 } });
          }
        }
      } catch (err2) {
        this.log.error({ err: err2 }, 'BGP session could not reset after an internal error');
      }
    }
  }

  private feed(a: Attempt, e: FsmEvent, msg?: Message): void {
    if (a !== this.main && a !== this.second) return; // stale
    const from = a.fsm.state;
    const r = fsmStep(a.fsm, e);
    a.fsm = r.next;
    for (const act of r.actions) this.run(a, act, msg);
    this.errorDetail = undefined;
    if (r.next.state !== from) this.stateChanged(a, from, r.next.state);
  }

  private run(a: Attempt, act: FsmAction, msg: Message | undefined): void {
    switch (act.kind) {
      case 'connect':
        this.connect(a);
        return;
      case 'close':
        a.pendingConnect?.cancel();
        a.pendingConnect = undefined;
        this.closeSocket(a);
        return;
      case 'sendOpen': {
        this.write(a, buildOpen(this.opts.local));
        return;
      }
      case 'sendKeepalive':
        this.write(a, { type: 4 });
        return;
      case 'sendNotification':
        this.sendNotification(a, act.notification);
        return;
      case 'startTimer':
        this.startTimer(a, act.timer, act.large === true);
        return;
      case 'stopTimer':
        (act.timer === 'hold' ? a.hold : act.timer === 'keepalive' ? a.keepalive : a.connectRetry).stop();
        return;
      case 'releaseResources':
        a.queue = [];
        a.queueHead = 0;
        return;
      case 'processUpdate':
        if (msg?.type === 2) this.opts.hooks.update(this, msg);
        return;
      case 'processRouteRefresh':
        if (msg?.type === 5) this.opts.hooks.routeRefresh(this, msg.afi, msg.safi);
        return;
    }
  }

  private startTimer(a: Attempt, timer: 'connectRetry' | 'hold' | 'keepalive', large: boolean): void {
    if (timer === 'hold') a.hold.start(large ? LARGE_HOLD_MS : (a.negotiated?.holdTime ?? 0) * 1000);
    else if (timer === 'keepalive') a.keepalive.start(a.negotiated?.keepaliveMs ?? 0);
    else if (this.peer.passive || !this.running || a !== this.main) {
      // A passive peer never dials out; nor does a stopped session or a collision candidate.
      a.connectRetry.stop();
    } else if (a.state === 'Active') {
      // Back in Active after a lost connection (OpenSent + TcpConnectionFails): retry on back-off.
      a.connectRetry.start(this.backoff.next());
    } else {
      // In Connect the ConnectRetryTimer bounds one connection attempt.
      a.connectRetry.start(this.peer.connectRetryTime * 1000);
    }
  }

  private stateChanged(a: Attempt, from: BgpState, to: BgpState): void {
    this.log.debug({ attempt: a.id, from, to }, 'BGP state change');
    if (a === this.main) this.opts.hooks.stateChange?.(this, from, to);
    if (to === 'Established') {
      this.onEstablished(a);
      return;
    }
    if (from === 'Established' && a === this.main) {
      this.counters.flaps++;
      this.establishedAt = undefined;
      this.log.info({ lastError: this.lastError }, 'BGP session down');
      this.opts.hooks.down(this);
    }
    if (to !== 'Idle') return;
    if (a === this.second) {
      this.second = undefined;
      return;
    }
    // The main connection is gone. A surviving collision candidate takes over (RFC 4271 6.8).
    if (this.second && this.second.state !== 'Idle') {
      this.main = this.second;
      this.second = undefined;
      if (this.main.state === 'Established') this.onEstablished(this.main);
      return;
    }
    this.flushWaiters.splice(0).forEach((r) => {
      r();
    });
    if (this.running) {
      // RFC 4271 8.1.1 IdleHoldTimer (DampPeerOscillations) in spirit: restart after a back-off.
      const delay = this.backoff.next();
      this.log.debug({ delayMs: delay }, 'BGP reconnect scheduled');
      this.idleHold.start(delay);
    }
  }

  private onEstablished(a: Attempt): void {
    if (a === this.second) {
      // The candidate won while the main connection still waits for an OPEN: dump the main one;
      // its going Idle promotes the candidate.
      this.feed(this.main, { type: 'OpenCollisionDump' });
      return;
    }
    this.backoff.reset();
    this.establishedAt = this.opts.clock.now();
    this.log.info(
      { holdTime: a.negotiated?.holdTime, local: a.socket?.localAddress, inbound: a.inbound },
      'BGP session established',
    );
    this.opts.hooks.established(this);
  }

  private autoStart(): void {
    if (!this.running || this.main.state !== 'Idle') return;
    this.main = this.newAttempt(false);
    this.feed(this.main, { type: this.peer.passive ? 'AutomaticStartPassive' : 'AutomaticStart' });
  }

  // ===== TCP =====

  private connect(a: Attempt): void {
    a.pendingConnect?.cancel();
    a.inbound = false;
    a.pendingConnect = this.opts.transport.connect(
      {
        host: this.peer.address,
        port: this.peer.port,
        localAddress: this.peer.localAddress,
        timeoutMs: this.peer.connectRetryTime * 1000,
      },
      (err, sock) =>
        this.guard(() => {
          a.pendingConnect = undefined;
          if (a !== this.main || a.state !== 'Connect' || (!err && a.socket)) {
            sock?.destroy(); // superseded (stop, inbound connection, retry)
            return;
          }
          if (err || !sock) {
            this.lastError = describeSocketError(err ?? new Error('no socket'), 'connect');
            this.feed(a, { type: 'TcpConnectionFails' });
            return;
          }
          this.attach(a, sock);
          this.feed(a, { type: 'TcpCrAcked' });
        }),
    );
  }

  private attach(a: Attempt, sock: BgpSocket): void {
    a.socket = sock;
    sock.setHandlers({
      data: (chunk) => this.guard(() => this.onData(a, sock, chunk)),
      close: (err) =>
        this.guard(() => {
          if (a.socket !== sock) return;
          a.socket = undefined;
          if (a.state === 'Idle') return;
          if (a === this.main || a.state === 'Established') {
            this.lastError = err ? describeSocketError(err, 'connection') : 'peer closed the connection';
          }
          this.feed(a, { type: 'TcpConnectionFails' });
        }),
      drain: () =>
        this.guard(() => {
          if (a.socket !== sock || !a.waitingDrain) return;
          a.waitingDrain = false;
          this.schedulePump(a);
        }),
    });
  }

  /** Detaches the socket (later events are ignored) and closes it after flushing. */
  private closeSocket(a: Attempt): void {
    const sock = a.socket;
    if (!sock) return;
    a.socket = undefined;
    const done = new Promise<void>((resolve) => {
      sock.setHandlers({ data: () => {}, drain: () => {}, close: () => resolve() });
    });
    this.closing.add(done);
    void done.then(() => this.closing.delete(done));
    sock.end();
  }

  // ===== receive =====

  private onData(a: Attempt, sock: BgpSocket, chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = a.reader.push(chunk);
    } catch (err) {
      this.decodeFailed(a, err);
      return;
    }
    for (const frame of frames) {
      // A previous message may have closed the connection (NOTIFICATION, error).
      if (a.socket !== sock) return;
      let msg: Message;
      try {
        msg = decodeMessage(frame, a.ctx);
      } catch (err) {
        this.decodeFailed(a, err);
        return;
      }
      this.onMessage(a, msg);
    }
  }

  private decodeFailed(a: Attempt, err: unknown): void {
    if (!(err instanceof BgpDecodeError)) throw err;
    this.counters.malformed++;
    this.errorDetail = err.message;
    const notification: NotificationSpec = { code: err.code, subcode: err.subcode, data: err.data };
    const type =
      err.code === ErrorCode.MessageHeader
        ? 'BGPHeaderErr'
        : err.code === ErrorCode.OpenMessage
          ? 'BGPOpenMsgErr'
          : 'UpdateMsgErr';
    this.log.warn({ code: err.code, subcode: err.subcode, reason: err.message }, 'malformed BGP message');
    this.feed(a, { type, notification });
  }

  private onMessage(a: Attempt, msg: Message): void {
    this.counters.messagesIn[KIND[msg.type]!]++;
    switch (msg.type) {
      case 1:
        this.onOpen(a, msg);
        return;
      case 2:
        this.counters.updatesReceived++;
        if (msg.errors?.some((e) => e.action === 'treat-as-withdraw')) this.counters.treatAsWithdraw++;
        this.feed(a, { type: 'UpdateMsg' }, msg);
        return;
      case 3: {
        this.counters.notificationsIn++;
        const text = msg.shutdownMessage ? `: "${msg.shutdownMessage}"` : '';
        this.lastError = `peer sent NOTIFICATION ${describeNotification(msg.code, msg.subcode)}${text}`;
        this.log.warn({ code: msg.code, subcode: msg.subcode, text: msg.shutdownMessage }, this.lastError);
        const verErr = msg.code === ErrorCode.OpenMessage && msg.subcode === 1;
        this.feed(a, { type: verErr ? 'NotifMsgVerErr' : 'NotifMsg' });
        return;
      }
      case 4:
        this.feed(a, { type: 'KeepAliveMsg' });
        return;
      case 5:
        this.feed(a, { type: 'RouteRefreshMsg' }, msg);
        return;
    }
  }

  private onOpen(a: Attempt, open: OpenMessage): void {
    if (a.state !== 'OpenSent') {
      this.feed(a, { type: 'BGPOpen' }); // unexpected: the FSM answers with an FSM Error
      return;
    }
    const check = checkOpen(this.opts.local, this.peer.asn, open);
    if (!check.ok) {
      this.errorDetail = check.reason;
      this.feed(a, { type: 'BGPOpenMsgErr', notification: check.notification });
      return;
    }
    a.peerOpen = open;
    a.negotiated = check.negotiated;
    a.ctx = { fourOctetAs: check.negotiated.fourOctetAs };
    // RFC 4271 6.8 collision detection against the other connection to this peer.
    const other = a === this.main ? this.second : this.main;
    if (other && (other.state === 'OpenConfirm' || other.state === 'Established')) {
      const loser = this.collisionLoser(a, other, check.negotiated.peerId);
      this.log.info(
        { kept: loser === a ? other.id : a.id, closed: loser.id, peerId: check.negotiated.peerId },
        'BGP connection collision',
      );
      this.feed(loser, { type: 'OpenCollisionDump' });
      if (loser === a) return;
    }
    this.feed(a, { type: 'BGPOpen' });
  }

  /**
   * RFC 4271 6.8: an Established session always wins; otherwise the connection opened by the
   * side with the higher BGP Identifier survives.
   */
  private collisionLoser(fresh: Attempt, other: Attempt, peerId: string): Attempt {
    if (other.state === 'Established') return fresh;
    if (fresh.inbound === other.inbound) return other; // the peer dialled twice: keep the newer
    const keepInbound = compareBgpIds(this.opts.local.routerId, peerId) < 0;
    return fresh.inbound === keepInbound ? other : fresh;
  }

  // ===== send =====

  private write(a: Attempt, msg: Message): void {
    const sock = a.socket;
    if (!sock) return;
    sock.write(encodeMessage(msg, a.ctx));
    this.counters.messagesOut[KIND[msg.type]!]++;
  }

  private sendNotification(a: Attempt, n: NotificationSpec): void {
    this.counters.notificationsOut++;
    const words = describeNotification(n.code, n.subcode);
    const collision = n.code === ErrorCode.Cease && n.subcode === CeaseSubcode.ConnectionCollisionResolution;
    const admin = n.code === ErrorCode.Cease && n.subcode === CeaseSubcode.AdministrativeShutdown;
    if (!collision && !admin && (a === this.main || a.state === 'Established')) {
      this.lastError = `we sent NOTIFICATION ${words}${this.errorDetail ? ` (${this.errorDetail})` : ''}`;
      this.log.warn({ code: n.code, subcode: n.subcode }, this.lastError);
    } else {
      this.log.info(
        { code: n.code, subcode: n.subcode, text: n.shutdownMessage },
        `sending NOTIFICATION ${words}`,
      );
    }
    this.write(a, {
      type: 3,
      code: n.code,
      subcode: n.subcode,
      data: n.data ?? Buffer.alloc(0),
      ...(n.shutdownMessage !== undefined ? { shutdownMessage: n.shutdownMessage } : {}),
    });
  }

  private schedulePump(a: Attempt): void {
    if (a.pumping || a.waitingDrain) return;
    a.pumping = true;
    setImmediate(() => this.guard(() => this.pump(a)));
  }

  /** Writes up to PUMP_SLICE queued UPDATEs, then yields; stops on back-pressure until `drain`. */
  private pump(a: Attempt): void {
    a.pumping = false;
    const sock = a.socket;
    if (!sock || a.state !== 'Established') return;
    for (let n = 0; n < PUMP_SLICE && a.queueHead < a.queue.length; n++) {
      const u = a.queue[a.queueHead++]!;
      const ok = sock.write(encodeMessage(u, a.ctx));
      this.counters.messagesOut.update++;
      if (!ok) {
        a.waitingDrain = true;
        break;
      }
    }
    if (a.queueHead >= a.queue.length) {
      a.queue = [];
      a.queueHead = 0;
      this.flushWaiters.splice(0).forEach((r) => {
        r();
      });
      return;
    }
    if (!a.waitingDrain) this.schedulePump(a);
  }
}
