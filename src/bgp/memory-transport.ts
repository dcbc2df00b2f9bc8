/**
 * An in-memory TransportFactory: connected socket pairs without the kernel, for tests and
 * simulations. Delivery is asynchronous (microtasks), as with real sockets, so a session never
 * re-enters itself from inside `write`.
 */
import type {
  BgpListener,
  BgpSocket,
  ConnectOptions,
  ListenOptions,
  SocketHandlers,
  TransportFactory,
} from './transport.js';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

class MemorySocket implements BgpSocket {
  peer: MemorySocket | undefined;
  private handlers: SocketHandlers | undefined;
  private held: Buffer[] = [];
  private closed = false;
  private closeError: Error | undefined;
  private closeDelivered = false;
  /** Everything ever written, for assertions. */
  readonly written: Buffer[] = [];
  /** This end does not read (stopReading): what the far end writes waits here, unread. */
  private stalled = false;
  private unread: Buffer[] = [];

  constructor(
    readonly localAddress: string,
    readonly localPort: number,
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {}

  setHandlers(h: SocketHandlers): void {
    this.handlers = h;
    const held = this.held;
    this.held = [];
    queueMicrotask(() => {
      for (const c of held) h.data(c);
      if (this.closed) this.deliverClose();
    });
  }

  get bufferedBytes(): number {
    return 0;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  write(data: Buffer): boolean {
    if (this.closed) return false;
    const copy = Buffer.from(data);
    this.written.push(copy);
    const peer = this.peer;
    if (peer?.stalled) {
      // A peer that does not read: the buffer is full, as a zero TCP window leaves it.
      peer.unread.push(copy);
      return false;
    }
    queueMicrotask(() => peer?.receive(copy));
    return true;
  }

  /** This end stops reading: the far end's writes return false and nothing drains. */
  stopReading(): void {
    this.stalled = true;
  }

  /** Reads again: what waited arrives, then the far end sees its buffer drain. */
  resumeReading(): void {
    this.stalled = false;
    const unread = this.unread;
    this.unread = [];
    const peer = this.peer;
    queueMicrotask(() => {
      for (const c of unread) this.receive(c);
      peer?.notifyDrain();
    });
  }

  private notifyDrain(): void {
    if (!this.closed) this.handlers?.drain();
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    if (this.handlers) this.handlers.data(chunk);
    else this.held.push(chunk);
  }

  end(): void {
    this.shutdown(undefined);
  }

  destroy(): void {
    this.shutdown(undefined);
  }

  /** Simulates a reset by the network (the far end sees `error`). */
  fail(error: Error): void {
    if (this.closed) return;
    this.markClosed(error);
    const peer = this.peer;
    queueMicrotask(() => peer?.markClosed(error));
  }

  private shutdown(error: Error | undefined): void {
    if (this.closed) return;
    this.markClosed(error);
    const peer = this.peer;
    // Written data is delivered before the close, as TCP does after a FIN.
    queueMicrotask(() => queueMicrotask(() => peer?.markClosed(undefined)));
  }

  private markClosed(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = error;
    queueMicrotask(() => this.deliverClose());
  }

  private deliverClose(): void {
    if (!this.handlers || this.closeDelivered) return;
    this.closeDelivered = true;
    this.handlers.close(this.closeError);
  }
}

export type MemorySocketHandle = BgpSocket & {
  readonly written: Buffer[];
  readonly isClosed: boolean;
  fail(error: Error): void;
  stopReading(): void;
  resumeReading(): void;
};

/** What a scripted far end answers to a connect: accept (returns its socket end), refuse, or hang. */
export type ConnectAnswer = 'refuse' | 'hang' | ((far: MemorySocketHandle) => void);

function errno(code: string): Error {
  const e = new Error(code) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

export class MemoryNetwork implements TransportFactory {
  private readonly answers = new Map<string, ConnectAnswer>();
  private readonly listeners = new Map<number, (s: BgpSocket) => void>();
  private nextPort = 40000;
  /** Connect attempts seen, in order. */
  readonly attempts: ConnectOptions[] = [];

  constructor(private readonly defaultLocalAddress = '198.18.0.2') {}

  /** Decides what a connect to host:port gets (default: refused). */
  answer(host: string, port: number, answer: ConnectAnswer): void {
    this.answers.set(`${host}|${port}`, answer);
  }

  static pair(a: Endpoint, b: Endpoint): [MemorySocketHandle, MemorySocketHandle] {
    const x = new MemorySocket(a.address, a.port, b.address, b.port);
    const y = new MemorySocket(b.address, b.port, a.address, a.port);
    x.peer = y;
    y.peer = x;
    return [x, y];
  }

  connect(opts: ConnectOptions, done: (err: Error | null, socket?: BgpSocket) => void): { cancel(): void } {
    this.attempts.push(opts);
    let cancelled = false;
    const answer = this.answers.get(`${opts.host}|${opts.port}`) ?? 'refuse';
    queueMicrotask(() => {
      if (cancelled || answer === 'hang') return;
      if (answer === 'refuse') {
        done(errno('ECONNREFUSED'));
        return;
      }
      const local = { address: opts.localAddress ?? this.defaultLocalAddress, port: this.nextPort++ };
      const [near, far] = MemoryNetwork.pair(local, { address: opts.host, port: opts.port });
      answer(far);
      done(null, near);
    });
    return {
      cancel: () => {
        cancelled = true;
      },
    };
  }

  listen(opts: ListenOptions, onSocket: (s: BgpSocket) => void): Promise<BgpListener> {
    if (this.listeners.has(opts.port)) return Promise.reject(errno('EADDRINUSE'));
    this.listeners.set(opts.port, onSocket);
    return Promise.resolve({
      port: opts.port,
      close: async () => {
        this.listeners.delete(opts.port);
      },
    });
  }

  /** A connection from `from` to our listener on `port`; returns the far (test) end, or undefined if nobody listens. */
  dial(
    from: Endpoint,
    port: number,
    localAddress = this.defaultLocalAddress,
  ): MemorySocketHandle | undefined {
    const onSocket = this.listeners.get(port);
    if (!onSocket) return undefined;
    const [near, far] = MemoryNetwork.pair({ address: localAddress, port }, from);
    onSocket(near);
    return far;
  }

  get listening(): number[] {
    return [...this.listeners.keys()];
  }
}
