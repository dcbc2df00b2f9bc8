/**
 * One BFD session in Asynchronous mode (RFC 5880 6.1, 6.8): the RFC 5880 6.8.1 state variables,
 * the reception procedure of 6.8.6 after demultiplexing, the transmit timer with jitter (6.8.7),
 * the Detection Time (6.8.4), timer negotiation (6.8.2, 6.8.3), the Poll Sequence (6.5) and
 * administrative control (6.8.16). The state table itself is `fsm.ts`.
 *
 * Inputs: packets (already decoded and matched to this session by the manager), the two timers on
 * the injected Clock, and admin/timer commands. Every input goes through one queue and is processed
 * to the end before the next, so a test drives a session with ManualClock and sees every effect at
 * once. Output: encoded packets through `transmit`, and state-change events to subscribers.
 * Authentication (RFC 5880 6.7) is `auth-state.ts`: with it every packet is signed and every one
 * received checked before it may change anything (6.8.6); failures are dropped and counted.
 * Longer than most files on purpose: the 6.8 procedures share the 6.8.1 variables and the one
 * queue, and splitting them would pass that state around.
 */
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { BfdAuthConfig } from './auth.js';
import { authFailure, BfdAuthState } from './auth-state.js';
import { BfdDiag, BfdState, type BfdStateName, diagName, SLOW_TX_US, STATE_NAMES } from './constants.js';
import { type FsmInput, fsmStep } from './fsm.js';
import { type BfdControlPacket, encodeControl } from './packet.js';
import { checkTimers, detectionTimeUs, jitteredUs, txIntervalUs } from './timers.js';
import type {
  BfdCounters,
  BfdSessionKey,
  BfdSessionStatus,
  BfdStateChange,
  BfdTimerConfig,
} from './types.js';

export type { BfdCounters, BfdSessionKey, BfdSessionStatus, BfdStateChange, BfdTimerConfig };

export interface BfdSessionOptions extends BfdSessionKey, BfdTimerConfig {
  localDiscriminator: number;
  clock: Clock;
  /** Uniform in [0, 1), for the transmit jitter; default Math.random. */
  random?: () => number;
  /** Sends one encoded Control packet to the peer. */
  transmit: (packet: Buffer) => void;
  /** bfd.AuthType and the key (RFC 5880 6.7); absent: no authentication (bfd.AuthType zero). */
  auth?: BfdAuthConfig;
}

type SessionEvent =
  | { kind: 'rx'; packet: BfdControlPacket; raw: Buffer | undefined }
  | { kind: 'tx-timer' }
  | { kind: 'detect-timer' }
  | { kind: 'admin-down'; diag: BfdDiag }
  | { kind: 'admin-up' }
  | { kind: 'set-timers'; timers: BfdTimerConfig };

const US = 1000;

export class BfdSession {
  readonly key: BfdSessionKey;
  readonly localDiscriminator: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly transmit: (packet: Buffer) => void;
  private readonly listeners = new Set<(e: BfdStateChange) => void>();
  private readonly queue: SessionEvent[] = [];
  private draining = false;
  private closed = false;
  private readonly auth: BfdAuthState | undefined;

  // RFC 5880 6.8.1 state variables.
  private state = BfdState.Down;
  private remoteState = BfdState.Down;
  private remoteDiscr = 0;
  private localDiag = BfdDiag.None;
  private desiredMinTxUs = SLOW_TX_US;
  private requiredMinRxUs: number;
  private remoteMinRxUs = 1;
  private remoteDemand = false;
  private detectMult: number;
  // Received values the Detection Time and the status need.
  private remoteDesiredMinTxUs = 0;
  private remoteDetectMult = 0;
  private remoteDiag = 0;
  private lastDiag: BfdDiag = BfdDiag.None;

  private config: BfdTimerConfig;
  private pollActive = false;
  /** The DesiredMinTx the transmit interval uses: an increase waits for the Final (RFC 5880 6.8.3). */
  private txBasisUs = SLOW_TX_US;
  /** The RequiredMinRx the Detection Time uses: a decrease waits for the Final (RFC 5880 6.8.3). */
  private detectBasisUs: number;
  private txTimer: TimerHandle | undefined;
  private detectTimer: TimerHandle | undefined;
  /** After an admin down, packets go out until this time (RFC 5880 6.8.16), then stop. */
  private adminTxUntil = Number.POSITIVE_INFINITY;
  private changedAt: number;
  private readonly counters: BfdCounters = {
    packetsIn: 0,
    packetsOut: 0,
    upTransitions: 0,
    downTransitions: 0,
    drops: {},
  };

  constructor(opts: BfdSessionOptions) {
    this.key = { peer: opts.peer, localAddress: opts.localAddress, interface: opts.interface };
    if (opts.localDiscriminator <= 0 || opts.localDiscriminator > 0xffffffff) {
      throw new RangeError(`local discriminator ${opts.localDiscriminator} must be 1..2^32-1`);
    }
    this.localDiscriminator = opts.localDiscriminator;
    this.clock = opts.clock;
    this.random = opts.random ?? Math.random;
    this.transmit = opts.transmit;
    this.auth = opts.auth ? new BfdAuthState(opts.auth) : undefined;
    this.config = checkTimers(opts);
    this.detectMult = this.config.detectMult;
    this.requiredMinRxUs = this.config.requiredMinRxMs * US;
    this.detectBasisUs = this.requiredMinRxUs;
    this.desiredMinTxUs = Math.max(this.config.desiredMinTxMs * US, SLOW_TX_US);
    this.txBasisUs = this.desiredMinTxUs;
    this.changedAt = this.clock.now();
  }

  /** Begins transmitting (state Down). */
  start(): void {
    if (this.closed || this.txTimer) return;
    this.sendNow();
  }

  /** Subscribes to state changes; returns the unsubscribe function. */
  onStateChange(cb: (e: BfdStateChange) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /**
   * A packet the manager matched to this session (RFC 5880 6.8.6 after demultiplexing); `raw`, the
   * datagram, is what a digest is checked over (without it, the packet is encoded again).
   */
  receive(packet: BfdControlPacket, raw?: Buffer): void {
    this.post({ kind: 'rx', packet, raw });
  }

  /** RFC 5880 6.8.16: disable (AdminDown; packets continue for a Detection Time, then stop). */
  adminDown(diag: BfdDiag.AdministrativelyDown | BfdDiag.PathDown = BfdDiag.AdministrativelyDown): void {
    this.post({ kind: 'admin-down', diag });
  }

  /** RFC 5880 6.8.16: enable again (Down, transmitting). */
  adminUp(): void {
    this.post({ kind: 'admin-up' });
  }

  /** New timers; while a session exists this starts a Poll Sequence (RFC 5880 6.8.3). */
  setTimers(timers: BfdTimerConfig): void {
    this.post({ kind: 'set-timers', timers: checkTimers(timers) });
  }

  /** Counts a packet the manager discarded on this session's behalf. */
  countDrop(reason: string): void {
    this.counters.drops[reason] = (this.counters.drops[reason] ?? 0) + 1;
  }

  /** Stops both timers and every further output; no event is emitted. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.txTimer?.cancel();
    this.detectTimer?.cancel();
    this.txTimer = undefined;
    this.detectTimer = undefined;
    this.listeners.clear();
  }

  get sessionState(): BfdStateName {
    return STATE_NAMES[this.state];
  }

  /** After `adminDown`: the clock time at which AdminDown transmissions end (else +Infinity). */
  get adminTransmitUntil(): number {
    return this.adminTxUntil;
  }

  get remoteDiscriminator(): number {
    return this.remoteDiscr;
  }

  status(): BfdSessionStatus {
    return {
      ...this.key,
      state: STATE_NAMES[this.state],
      remoteState: STATE_NAMES[this.remoteState],
      localDiscriminator: this.localDiscriminator,
      remoteDiscriminator: this.remoteDiscr,
      diagnostic: diagName(this.localDiag),
      lastDiagnostic: this.lastDiag === BfdDiag.None ? null : diagName(this.lastDiag),
      remoteDiagnostic: diagName(this.remoteDiag),
      detectMult: this.detectMult,
      remoteDetectMult: this.remoteDetectMult,
      desiredMinTxMs: this.desiredMinTxUs / US,
      requiredMinRxMs: this.requiredMinRxUs / US,
      remoteDesiredMinTxMs: this.remoteDesiredMinTxUs / US,
      remoteRequiredMinRxMs: this.remoteMinRxUs / US,
      txIntervalMs: this.txIntervalUs() / US,
      rxIntervalMs: Math.max(this.detectBasisUs, this.remoteDesiredMinTxUs) / US,
      detectTimeMs: this.detectionTimeUs() / US,
      pollActive: this.pollActive,
      sinceMs: this.clock.now() - this.changedAt,
      counters: { ...this.counters, drops: { ...this.counters.drops } },
      ...(this.auth ? { authentication: this.auth.summary() } : {}),
    };
  }

  // ===== event queue =====

  private post(e: SessionEvent): void {
    if (this.closed) return;
    this.queue.push(e);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) this.process(next);
    } finally {
      this.draining = false;
    }
  }

  private process(e: SessionEvent): void {
    switch (e.kind) {
      case 'rx':
        this.processPacket(e.packet, e.raw);
        return;
      case 'tx-timer':
        this.processTxTimer();
        return;
      case 'detect-timer':
        this.processDetectTimer();
        return;
      case 'admin-down':
        if (!this.changeState({ kind: 'admin-down', diag: e.diag }, false)) return;
        // After the change: the one-second floor (RFC 5880 6.8.3) now sets the peer's Detection Time.
        this.adminTxUntil = this.clock.now() + this.remoteDetectionTimeUs() / US;
        this.sendNow();
        this.detectTimer?.cancel();
        this.detectTimer = undefined;
        return;
      case 'admin-up':
        this.adminTxUntil = Number.POSITIVE_INFINITY;
        if (this.changeState({ kind: 'admin-up' }, false)) this.sendNow();
        return;
      case 'set-timers': {
        const multChanged = e.timers.detectMult !== this.detectMult;
        this.config = e.timers;
        this.detectMult = e.timers.detectMult;
        if ((this.updateAdvertised() || multChanged) && this.state !== BfdState.AdminDown) this.sendNow();
        return;
      }
    }
  }

  // ===== reception, RFC 5880 6.8.6 =====

  private processPacket(p: BfdControlPacket, raw: Buffer | undefined): void {
    // The A bit against bfd.AuthType, and 6.7's checks, before the packet may touch any state.
    const failure = authFailure(this.auth, raw, p, this.clock.now(), this.detectionTimeUs() / US);
    if (failure) {
      this.countDrop(failure);
      return;
    }
    this.counters.packetsIn++;
    this.remoteDiscr = p.myDiscriminator;
    const remoteAdminDown = p.state === BfdState.AdminDown;
    this.remoteState = p.state;
    this.remoteDemand = p.demand;
    this.remoteDiag = p.diag;
    this.remoteDetectMult = p.detectMult;
    const oldTx = this.txIntervalUs();
    this.remoteMinRxUs = p.requiredMinRxUs;
    this.remoteDesiredMinTxUs = p.desiredMinTxUs;
    // "If the Final (F) bit is set and the local system has sent a Poll: terminate the Poll
    // Sequence" — the values held back by RFC 5880 6.8.3 take effect now.
    if (p.final && this.pollActive) {
      this.pollActive = false;
      this.txBasisUs = this.desiredMinTxUs;
      this.detectBasisUs = this.requiredMinRxUs;
    }
    // "If bfd.SessionState is AdminDown: discard the packet" (the remote variables above stay).
    if (this.state === BfdState.AdminDown) return;
    const changed = this.changeState({ kind: 'rx', remoteState: p.state }, remoteAdminDown);
    // RFC 5880 6.8.4: the packet counts for the Detection Time.
    this.armDetect();
    if (p.poll) {
      // "...MUST transmit a BFD Control packet with the Poll (P) bit clear and the Final (F) bit
      // set as soon as practicable, without respect to the transmission timer".
      this.send({ final: true });
      this.scheduleTx();
    } else if (changed || this.txIntervalUs() !== oldTx) {
      // The new state or rate goes out at once instead of after up to a second (as FRR and BIRD do).
      this.sendNow();
    }
  }

  private processDetectTimer(): void {
    this.detectTimer = undefined;
    // RFC 5880 6.8.1 bfd.RemoteDiscr: "If a period of a Detection Time passes without the receipt
    // of a valid, authenticated BFD packet from the remote system, this variable MUST be set to zero."
    this.remoteDiscr = 0;
    this.remoteState = BfdState.Down;
    if (this.changeState({ kind: 'detect-expired' }, false)) this.sendNow();
  }

  // ===== transmission, RFC 5880 6.8.7 =====

  private processTxTimer(): void {
    this.txTimer = undefined;
    if (this.state === BfdState.AdminDown && this.clock.now() >= this.adminTxUntil) return;
    // "MUST NOT periodically transmit ... if bfd.RemoteMinRxInterval is zero", nor while the
    // remote is in Demand mode and no Poll Sequence is running.
    const remoteDemandActive =
      this.remoteDemand && this.state === BfdState.Up && this.remoteState === BfdState.Up;
    if (this.remoteMinRxUs !== 0 && (!remoteDemandActive || this.pollActive)) this.send({ final: false });
    this.scheduleTx();
  }

  private sendNow(): void {
    this.send({ final: false });
    this.scheduleTx();
  }

  private scheduleTx(): void {
    this.txTimer?.cancel();
    const ms = jitteredUs(this.txIntervalUs(), this.detectMult, this.random) / US;
    this.txTimer = this.clock.setTimer(ms, () => this.post({ kind: 'tx-timer' }));
  }

  private send(opts: { final: boolean }): void {
    if (this.closed) return;
    const fields: BfdControlPacket = {
      diag: this.localDiag,
      state: this.state,
      // RFC 5880 6.5: P and F are never set together; a Final goes out without the Poll bit.
      poll: this.pollActive && !opts.final,
      final: opts.final,
      cpi: false,
      demand: false,
      detectMult: this.detectMult,
      myDiscriminator: this.localDiscriminator,
      yourDiscriminator: this.remoteDiscr,
      desiredMinTxUs: this.desiredMinTxUs,
      requiredMinRxUs: this.requiredMinRxUs,
      requiredMinEchoRxUs: 0,
    };
    this.counters.packetsOut++;
    this.transmit(this.auth ? this.auth.encode(fields) : encodeControl(fields));
  }

  // ===== timers and state =====

  private txIntervalUs(): number {
    return txIntervalUs(this.txBasisUs, this.remoteMinRxUs);
  }

  private detectionTimeUs(): number {
    return detectionTimeUs(this.remoteDetectMult, this.detectBasisUs, this.remoteDesiredMinTxUs);
  }

  /** The peer's Detection Time for us: how long our AdminDown must be repeated (RFC 5880 6.8.16). */
  private remoteDetectionTimeUs(): number {
    return this.detectMult * Math.max(this.remoteMinRxUs, this.desiredMinTxUs);
  }

  private armDetect(): void {
    this.detectTimer?.cancel();
    this.detectTimer = this.clock.setTimer(this.detectionTimeUs() / US, () =>
      this.post({ kind: 'detect-timer' }),
    );
  }

  /**
   * RFC 5880 6.8.3: the advertised DesiredMinTx is at least one second while not Up; any change of
   * it or of RequiredMinRx starts a Poll Sequence. While Up, a larger DesiredMinTx and a smaller
   * RequiredMinRx wait for the Final before they are used locally. Returns whether anything changed;
   * the caller sends.
   */
  private updateAdvertised(): boolean {
    const cfgTx = this.config.desiredMinTxMs * US;
    const desired = this.state === BfdState.Up ? cfgTx : Math.max(cfgTx, SLOW_TX_US);
    const required = this.config.requiredMinRxMs * US;
    if (desired === this.desiredMinTxUs && required === this.requiredMinRxUs) return false;
    const up = this.state === BfdState.Up;
    this.txBasisUs = up ? Math.min(this.txBasisUs, desired) : desired;
    this.detectBasisUs = up ? Math.max(this.detectBasisUs, required) : required;
    this.desiredMinTxUs = desired;
    this.requiredMinRxUs = required;
    this.pollActive = true;
    return true;
  }

  /** Applies one FSM input; emits the change. Returns whether the state changed. */
  private changeState(input: FsmInput, remoteAdminDown: boolean): boolean {
    const change = fsmStep(this.state, input);
    if (!change) return false;
    const from = this.state;
    this.state = change.state;
    this.localDiag = change.diag;
    if (change.diag !== BfdDiag.None) this.lastDiag = change.diag;
    this.changedAt = this.clock.now();
    if (change.state === BfdState.Up) this.counters.upTransitions++;
    if (from === BfdState.Up) this.counters.downTransitions++;
    this.updateAdvertised();
    const event: BfdStateChange = {
      key: this.key,
      from: STATE_NAMES[from],
      to: STATE_NAMES[change.state],
      diag: change.diag,
      diagName: diagName(change.diag),
      remoteAdminDown,
      at: this.changedAt,
    };
    for (const cb of [...this.listeners]) {
      try {
        cb(event);
      } catch {
        // A subscriber's failure must not stop the protocol; it is theirs to report.
      }
    }
    return true;
  }
}
