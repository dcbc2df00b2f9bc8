/**
 * The state of one BGP session and what an FSM step does with it: the attempts (main and collision
 * candidate), the RFC 4271 8.2.2 actions the pure FSM (`fsm.ts`) returns (connect, send OPEN,
 * KEEPALIVE or NOTIFICATION, start/stop the three timers of RFC 4271 8, release resources, close),
 * and the consequences of a state change: Established and down reported to the speaker, a
 * surviving collision candidate taking over (RFC 4271 6.8), the restart after a back-off (RFC 4271
 * 8.1.1 IdleHoldTimer in spirit, `backoff.ts`).
 *
 * Only the event processing (`session-process.ts`) calls `step`, one event at a time; what a step
 * must defer (the dump of the losing connection) is posted as an event of its own.
 */
import type { BgpPeerConfig } from '../config/bgp.js';
import { Backoff } from '../lib/backoff.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { Attempt } from './attempt.js';
import {
  type BgpState,
  type FsmAction,
  type FsmEvent,
  fsmStep,
  type NotificationSpec,
  type TimerName,
} from './fsm.js';
import { type SessionEnd, withHardReset } from './graceful-restart.js';
import {
  describeNotification,
  encodeMessage,
  KEEPALIVE,
  type Message,
  type UpdateMessage,
} from './message/index.js';
import { CeaseSubcode, ErrorCode } from './message/types.js';
import { buildOpen, type LocalOpenParams } from './negotiate.js';
import { SendHoldWatch, sendHoldMs } from './send-hold.js';
import { MESSAGE_KIND, type SessionCounters, zeroCounters } from './session-counters.js';
import type { Posted } from './session-events.js';
import { Timer } from './timers.js';
import type { TransportFactory } from './transport.js';
import type { UpdateSink } from './update-pump.js';

/** RFC 4271 8.2.2: "sets the HoldTimer to a large value ... 4 minutes" while waiting for an OPEN. */
export const LARGE_HOLD_MS = 240_000;

/** The speaker's side of the session (SessionHooks with the session bound). */
export interface CoreHooks {
  established(): void;
  down(end: SessionEnd): void;
  update(u: UpdateMessage): void;
  routeRefresh(afi: number, safi: number): void;
  stateChange(from: BgpState, to: BgpState): void;
}

export interface CoreOptions {
  readonly peer: BgpPeerConfig;
  readonly local: LocalOpenParams;
  readonly clock: Clock;
  readonly log: Logger;
  readonly transport: TransportFactory;
  readonly hooks: CoreHooks;
  /** The session's event queue. */
  readonly post: (p: Posted) => void;
  readonly backoffInitialMs?: number;
  readonly random?: (() => number) | null;
}

/** What an FSM step needs besides the event. */
export interface StepOptions {
  /** Why a NOTIFICATION this step sends is sent, appended to lastError ("peer AS 65002, expected 65000"). */
  readonly detail?: string;
  /** Hands the event's message to the speaker when the FSM says to process it (Established). */
  readonly deliver?: () => void;
}

export class SessionCore {
  readonly peer: BgpPeerConfig;
  readonly local: LocalOpenParams;
  readonly clock: Clock;
  readonly log: Logger;
  readonly hooks: CoreHooks;
  readonly counters: SessionCounters = zeroCounters();
  /** The last failure in words, e.g. "peer sent NOTIFICATION OPEN Message Error / Bad Peer AS". */
  lastError: string | null = null;
  main: Attempt;
  /** An inbound connection running its own FSM until an OPEN resolves the collision (RFC 4271 6.8). */
  second: Attempt | undefined;
  /** Between start and stop: the session reconnects after a failure. */
  running = false;
  establishedAt: number | undefined;
  /** How the Established session is ending: the first NOTIFICATION either way, or our stop. */
  end: SessionEnd = { kind: 'connection' };
  readonly backoff: Backoff;
  readonly idleHold: Timer;
  /** Sockets closing (flushing a NOTIFICATION); stop waits for them. */
  readonly closing = new Set<Promise<void>>();
  /** Called when the UPDATE queue is written out or cannot be any more (a drain waits for it). */
  flushWaiters: (() => void)[] = [];
  private nextId = 1;
  private readonly sendHolds = new WeakMap<Attempt, SendHoldWatch>();

  constructor(private readonly opts: CoreOptions) {
    this.peer = opts.peer;
    this.local = opts.local;
    this.clock = opts.clock;
    this.log = opts.log;
    this.hooks = opts.hooks;
    this.backoff = new Backoff({
      initialMs: opts.backoffInitialMs ?? 100,
      maxMs: opts.peer.connectRetryTime * 1000,
      random: opts.random,
    });
    this.idleHold = new Timer(opts.clock, () =>
      opts.post({ attempt: this.main.id, event: { type: 'idleHoldExpired' } }),
    );
    this.main = this.newAttempt(false);
  }

  post(p: Posted): void {
    this.opts.post(p);
  }

  /** The live attempt with this id, or undefined when it was replaced (its events are stale). */
  attempt(id: number): Attempt | undefined {
    return id === this.main.id ? this.main : id === this.second?.id ? this.second : undefined;
  }

  newAttempt(inbound: boolean): Attempt {
    const id = this.nextId++;
    return new Attempt(
      id,
      inbound,
      this.main?.fsm.connectRetryCounter ?? 0,
      this.clock,
      (event) => this.opts.post({ attempt: id, event }),
      () => this.releaseFlushWaiters(),
    );
  }

  /** One RFC 4271 8.2.2 transition of `a`'s FSM, its actions in order, then the state change. */
  step(a: Attempt, e: FsmEvent, o: StepOptions = {}): void {
    const from = a.state;
    const r = fsmStep(a.fsm, e);
    a.fsm = r.next;
    for (const act of r.actions) this.run(a, act, o);
    if (r.next.state !== from) this.stateChanged(a, from, r.next.state);
  }

  /** Detaches `a`'s socket and closes it after the flush; `stop` waits for the close. */
  closeSocket(a: Attempt): void {
    this.sendHolds.get(a)?.progressed();
    const done = a.close();
    if (!done) return;
    this.closing.add(done);
    void done.then(() => this.closing.delete(done));
  }

  releaseFlushWaiters(): void {
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * RFC 9687 send hold timer of `a`'s connection: started by a write the socket could not take,
   * stopped when it drains (`writable`); on expiry the connection's own event goes down the queue.
   */
  sendHold(a: Attempt): SendHoldWatch {
    let w = this.sendHolds.get(a);
    if (!w) {
      const ms = () => sendHoldMs(this.peer.sendHoldTime, a.negotiated?.holdTime ?? LARGE_HOLD_MS / 1000);
      w = new SendHoldWatch(this.opts.clock, ms, () => {
        const from = a.socket;
        if (from) this.opts.post({ attempt: a.id, event: { type: 'sendHoldExpired', from } });
      });
      this.sendHolds.set(a, w);
    }
    return w;
  }

  /** Where the pump writes: the socket while Established, else nowhere (the queue waits). */
  sink(a: Attempt): UpdateSink | undefined {
    const sock = a.socket;
    if (!sock || a.state !== 'Established') return undefined;
    return {
      write: (u) => {
        this.counters.messagesOut.update++;
        const ok = sock.write(encodeMessage(u, a.ctx));
        if (!ok) this.sendHold(a).blocked();
        return ok;
      },
    };
  }

  // ===== actions =====

  private run(a: Attempt, act: FsmAction, o: StepOptions): void {
    switch (act.kind) {
      case 'connect':
        this.connect(a);
        return;
      case 'close':
        a.pendingConnect?.cancel();
        a.pendingConnect = undefined;
        this.closeSocket(a);
        return;
      case 'sendOpen':
        this.send(a, buildOpen(this.local));
        return;
      case 'sendKeepalive':
        this.send(a, KEEPALIVE);
        return;
      case 'sendNotification':
        this.sendNotification(a, act.notification, o.detail);
        return;
      case 'startTimer':
        this.startTimer(a, act.timer, act.large === true);
        return;
      case 'stopTimer':
        a.timer(act.timer).stop();
        return;
      case 'releaseResources':
        a.pump.clear();
        return;
      case 'processUpdate':
      case 'processRouteRefresh':
        o.deliver?.();
        return;
    }
  }

  private startTimer(a: Attempt, timer: TimerName, large: boolean): void {
    if (timer === 'hold') a.timer('hold').start(large ? LARGE_HOLD_MS : (a.negotiated?.holdTime ?? 0) * 1000);
    else if (timer === 'keepalive') a.timer('keepalive').start(a.negotiated?.keepaliveMs ?? 0);
    else if (this.peer.passive || !this.running || a !== this.main) {
      // A passive peer never dials out; nor does a stopped session or a collision candidate.
      a.timer('connectRetry').stop();
    } else if (a.state === 'Active') {
      // Back in Active after a lost connection (OpenSent + TcpConnectionFails): retry on back-off.
      a.timer('connectRetry').start(this.backoff.next());
    } else {
      // In Connect the ConnectRetryTimer bounds one connection attempt.
      a.timer('connectRetry').start(this.peer.connectRetryTime * 1000);
    }
  }

  private connect(a: Attempt): void {
    a.pendingConnect?.cancel();
    a.inbound = false;
    const target = {
      host: this.peer.address,
      port: this.peer.port,
      localAddress: this.peer.localAddress,
      timeoutMs: this.peer.connectRetryTime * 1000,
    };
    a.pendingConnect = this.opts.transport.connect(target, (err, sock) => {
      if (!err && sock) {
        this.opts.post({ attempt: a.id, event: { type: 'connected', socket: sock } });
        return;
      }
      sock?.destroy();
      this.opts.post({
        attempt: a.id,
        event: { type: 'connectFailed', error: err ?? new Error('no socket') },
      });
    });
  }

  private send(a: Attempt, msg: Message): void {
    const sock = a.socket;
    if (!sock) return;
    if (!sock.write(encodeMessage(msg, a.ctx))) this.sendHold(a).blocked();
    this.counters.messagesOut[MESSAGE_KIND[msg.type]]++;
  }

  private sendNotification(a: Attempt, spec: NotificationSpec, detail: string | undefined): void {
    this.counters.notificationsOut++;
    // RFC 8538 5.1: with the N bit, a Cease that must end graceful restart goes as Hard Reset.
    const n = withHardReset(spec, a.negotiated?.gracefulRestart);
    this.noteEnd(a, { kind: 'notification', direction: 'sent', code: n.code, subcode: n.subcode });
    const words = describeNotification(n.code, n.subcode);
    const collision = n.code === ErrorCode.Cease && n.subcode === CeaseSubcode.ConnectionCollisionResolution;
    const admin = n.code === ErrorCode.Cease && n.subcode === CeaseSubcode.AdministrativeShutdown;
    if (!collision && !admin && (a === this.main || a.state === 'Established')) {
      this.lastError = `we sent NOTIFICATION ${words}${detail ? ` (${detail})` : ''}`;
      this.log.warn({ code: n.code, subcode: n.subcode }, this.lastError);
    } else {
      this.log.info(
        { code: n.code, subcode: n.subcode, text: n.shutdownMessage },
        `sending NOTIFICATION ${words}`,
      );
    }
    this.send(a, {
      type: 3,
      code: n.code,
      subcode: n.subcode,
      data: n.data ?? Buffer.alloc(0),
      ...(n.shutdownMessage !== undefined ? { shutdownMessage: n.shutdownMessage } : {}),
    });
  }

  /**
   * Remembers the first way the Established session `a` is ending (graceful-restart.ts decides).
   * `establishedAt`, not `a.state`: a NOTIFICATION the FSM sends leaving Established runs after
   * `step` has moved the state on, and must still count.
   */
  noteEnd(a: Attempt, end: SessionEnd): void {
    if (a === this.main && this.establishedAt !== undefined && this.end.kind === 'connection') this.end = end;
  }

  // ===== state changes =====

  private stateChanged(a: Attempt, from: BgpState, to: BgpState): void {
    this.log.debug({ attempt: a.id, from, to }, 'BGP state change');
    if (a === this.main) this.hooks.stateChange(from, to);
    if (to === 'Established') {
      this.onEstablished(a);
      return;
    }
    if (from === 'Established' && a === this.main) {
      this.counters.flaps++;
      this.establishedAt = undefined;
      this.log.info({ lastError: this.lastError }, 'BGP session down');
      this.hooks.down(this.end);
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
    this.releaseFlushWaiters();
    if (this.running) {
      // RFC 4271 8.1.1 IdleHoldTimer (DampPeerOscillations) in spirit: restart after a back-off.
      const delay = this.backoff.next();
      this.log.debug({ delayMs: delay }, 'BGP reconnect scheduled');
      this.idleHold.start(delay);
    }
  }

  private onEstablished(a: Attempt): void {
    if (a === this.second) {
      // The candidate won while the main connection still waits for an OPEN: dump the main one
      // (the next event); its going Idle promotes the candidate.
      this.opts.post({ attempt: this.main.id, event: { type: 'collisionDump' } });
      return;
    }
    this.backoff.reset();
    this.establishedAt = this.clock.now();
    this.end = { kind: 'connection' };
    this.log.info(
      { holdTime: a.negotiated?.holdTime, local: a.socket?.localAddress, inbound: a.inbound },
      'BGP session established',
    );
    this.hooks.established();
  }
}
