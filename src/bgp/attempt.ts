/**
 * One TCP connection to a BGP peer and the FSM instance that runs on it (RFC 4271 8: "one FSM per
 * connection"), called an attempt. A session has its main attempt and, during a connection
 * collision (RFC 4271 6.8), at most one inbound candidate.
 *
 * The attempt owns what belongs to its connection: the socket, the framing reader and codec
 * context (RFC 6793 4-octet AS once the OPENs agreed), the negotiated parameters, the three RFC
 * 4271 8 timers (ConnectRetryTimer, HoldTimer, KeepaliveTimer) and the UPDATE pump. It does not
 * act on any of it: socket input and timer expiry are posted as events of this attempt
 * (`session-events.ts`) for the session to process.
 */
import type { Clock } from '../lib/clock.js';
import type { BgpState, FsmSnapshot, TimerName } from './fsm.js';
import { initialFsm } from './fsm.js';
import {
  type CodecContext,
  decodeMessage,
  type Message,
  MessageReader,
  type OpenMessage,
} from './message/index.js';
import type { Negotiated } from './negotiate.js';
import type { AttemptEvent } from './session-events.js';
import { Timer } from './timers.js';
import type { BgpSocket } from './transport.js';
import { UpdatePump } from './update-pump.js';

export class Attempt {
  fsm: FsmSnapshot;
  socket: BgpSocket | undefined;
  pendingConnect: { cancel(): void } | undefined;
  /** Set by the OPEN exchange (RFC 4271 4.2, 6.2). */
  ctx: CodecContext = { fourOctetAs: false };
  negotiated: Negotiated | undefined;
  peerOpen: OpenMessage | undefined;
  readonly pump: UpdatePump;
  private readonly reader = new MessageReader();
  private readonly timers: Record<TimerName, Timer>;

  constructor(
    readonly id: number,
    /** The peer opened this connection (to our listener). */
    public inbound: boolean,
    connectRetryCounter: number,
    clock: Clock,
    private readonly post: (e: AttemptEvent) => void,
    onFlushed: () => void,
  ) {
    this.fsm = { ...initialFsm, connectRetryCounter };
    const timer = (name: TimerName) => new Timer(clock, () => post({ type: 'timer', timer: name }));
    this.timers = { connectRetry: timer('connectRetry'), hold: timer('hold'), keepalive: timer('keepalive') };
    // setImmediate, not a microtask: timers and other sockets get their turn between slices.
    this.pump = new UpdatePump(() => setImmediate(() => post({ type: 'pump' })), onFlushed);
  }

  get state(): BgpState {
    return this.fsm.state;
  }

  timer(name: TimerName): Timer {
    return this.timers[name];
  }

  /**
   * Takes `sock` as this attempt's connection. Its input is decoded here and posted message by
   * message. Each post is processed before the next message is decoded (socket callbacks never
   * run inside event processing), so the codec context an OPEN sets applies to what follows it.
   */
  attach(sock: BgpSocket): void {
    this.socket = sock;
    sock.setHandlers({
      data: (chunk) => this.receive(sock, chunk),
      close: (error) => this.post({ type: 'closed', from: sock, error }),
      drain: () => this.post({ type: 'writable', from: sock }),
    });
  }

  /**
   * Detaches the socket (its later input is ignored) and closes it after flushing what was written
   * (a NOTIFICATION). Resolves when the socket has closed; undefined when there was none.
   */
  close(): Promise<void> | undefined {
    const sock = this.socket;
    if (!sock) return undefined;
    this.socket = undefined;
    const done = new Promise<void>((resolve) => {
      sock.setHandlers({ data: () => {}, drain: () => {}, close: () => resolve() });
    });
    sock.end();
    return done;
  }

  private receive(sock: BgpSocket, chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch (error) {
      this.post({ type: 'malformed', from: sock, error });
      return;
    }
    for (const frame of frames) {
      let message: Message;
      try {
        message = decodeMessage(frame, this.ctx);
      } catch (error) {
        // The stream cannot be trusted after this one (RFC 4271 6: the session closes).
        this.post({ type: 'malformed', from: sock, error });
        return;
      }
      this.post({ type: 'message', from: sock, message });
    }
  }
}
