/**
 * The BFD sessions of one process: sessions keyed by (peer, local address, interface), the shared
 * sockets of each local address, and demultiplexing of received packets (RFC 5880 6.3, 6.8.6;
 * RFC 5881 3): a nonzero Your Discriminator selects the session, a zero one selects it by source
 * address, local address and interface. Packets that match no session are dropped and counted
 * here; packets a session's own checks discard are counted on that session.
 *
 * Clients (BGP now, OSPF later, RFC 5882) call `add` for each neighbor they want watched and
 * subscribe with `onStateChange`; `remove` takes a session AdminDown and lets it tell the peer for
 * a Detection Time before it is closed. Two clients may share one session: it lives until both
 * have removed it.
 */
import { randomInt } from 'node:crypto';
import type { Clock } from '../lib/clock.js';
import { type Logger, silentLogger } from '../lib/log.js';
import type { BfdAuthConfig } from './auth.js';
import { type BfdControlPacket, BfdDecodeError, decodeControl } from './packet.js';
import {
  BfdSession,
  type BfdSessionKey,
  type BfdSessionStatus,
  type BfdStateChange,
  type BfdTimerConfig,
} from './session.js';
import { type BfdDatagram, type BfdSocket, type BfdSocketOptions, openBfdSocket } from './socket.js';

export interface BfdSessionConfig extends BfdSessionKey, BfdTimerConfig {
  /** RFC 5880 6.7: authentication of this session; set when it is created (joining keeps it). */
  auth?: BfdAuthConfig;
}

export type BfdSocketFactory = (opts: BfdSocketOptions) => Promise<BfdSocket>;

export interface BfdManagerOptions {
  clock: Clock;
  logger?: Logger;
  /** Opens the sockets of one local address; default the real UDP sockets (`socket.ts`). */
  openSocket?: BfdSocketFactory;
  /** Transmit jitter source, [0, 1). */
  random?: () => number;
  /** Local discriminators (RFC 5880 6.8.1: nonzero, unique, random); default crypto random. */
  discriminator?: () => number;
}

export interface BfdManagerStatus {
  sessions: BfdSessionStatus[];
  /** Packets that matched no session, by reason. */
  unmatchedDrops: Record<string, number>;
  sendErrors: number;
}

interface SocketEntry {
  socket: Promise<BfdSocket>;
  users: number;
}

interface Entry {
  session: BfdSession;
  clients: number;
  socketKey: string;
  /** Set while the AdminDown period of a removed session runs. */
  removing?: Promise<void>;
}

export function sessionKeyString(k: BfdSessionKey): string {
  return `${k.peer}|${k.localAddress}|${k.interface ?? ''}`;
}

function socketKeyString(localAddress: string, iface: string | undefined): string {
  return `${localAddress}%${iface ?? ''}`;
}

export class BfdManager {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly openSocket: BfdSocketFactory;
  private readonly random: () => number;
  private readonly discriminator: () => number;
  private readonly entries = new Map<string, Entry>();
  private readonly byDiscriminator = new Map<number, Entry>();
  private readonly sockets = new Map<string, SocketEntry>();
  private readonly listeners = new Set<(e: BfdStateChange) => void>();
  private readonly unmatched: Record<string, number> = {};
  private sendErrors = 0;
  private closed = false;

  constructor(opts: BfdManagerOptions) {
    this.clock = opts.clock;
    this.logger = opts.logger ?? silentLogger;
    this.openSocket = opts.openSocket ?? openBfdSocket;
    this.random = opts.random ?? Math.random;
    this.discriminator = opts.discriminator ?? (() => randomInt(1, 0xffffffff));
  }

  /**
   * Starts a session (or joins the one with the same key, taking the new timers). Resolves once
   * its socket is open; rejects with a BfdSocketError when the local address cannot be bound.
   */
  async add(cfg: BfdSessionConfig): Promise<BfdSession> {
    if (this.closed) throw new Error('bfd: manager is closed');
    const key: BfdSessionKey = { peer: cfg.peer, localAddress: cfg.localAddress, interface: cfg.interface };
    const ks = sessionKeyString(key);
    const existing = this.entries.get(ks);
    if (existing && !existing.removing) {
      existing.clients++;
      existing.session.setTimers(cfg);
      return existing.session;
    }
    if (existing?.removing) await existing.removing;
    const socketKey = socketKeyString(cfg.localAddress, cfg.interface);
    const socket = this.acquireSocket(socketKey, cfg.localAddress, cfg.interface);
    let sock: BfdSocket;
    try {
      sock = await socket;
    } catch (e) {
      this.releaseSocket(socketKey);
      throw e;
    }
    const raced = this.entries.get(ks);
    if (raced && !raced.removing) {
      this.releaseSocket(socketKey);
      raced.clients++;
      return raced.session;
    }
    const session = new BfdSession({
      ...key,
      desiredMinTxMs: cfg.desiredMinTxMs,
      requiredMinRxMs: cfg.requiredMinRxMs,
      detectMult: cfg.detectMult,
      localDiscriminator: this.newDiscriminator(),
      clock: this.clock,
      random: this.random,
      transmit: (packet) => sock.send(packet, key.peer),
      ...(cfg.auth ? { auth: cfg.auth } : {}),
    });
    const entry: Entry = { session, clients: 1, socketKey };
    this.entries.set(ks, entry);
    this.byDiscriminator.set(session.localDiscriminator, entry);
    session.onStateChange((e) => this.emit(e));
    this.logger.info({ bfd: ks, discriminator: session.localDiscriminator }, 'bfd session started');
    session.start();
    return session;
  }

  /**
   * Drops one client of a session; the last one takes it AdminDown (RFC 5880 6.8.16), keeps
   * sending that for the peer's Detection Time, then closes it. Resolves when it is gone.
   */
  async remove(key: BfdSessionKey): Promise<void> {
    const ks = sessionKeyString(key);
    const entry = this.entries.get(ks);
    if (!entry) return;
    if (entry.removing) return entry.removing;
    if (--entry.clients > 0) return;
    entry.session.adminDown();
    const graceMs = Math.max(0, entry.session.adminTransmitUntil - this.clock.now());
    entry.removing = new Promise<void>((resolve) => {
      this.clock.setTimer(graceMs, () => {
        this.forget(ks, entry);
        resolve();
      });
    });
    return entry.removing;
  }

  get(key: BfdSessionKey): BfdSession | undefined {
    const e = this.entries.get(sessionKeyString(key));
    return e && !e.removing ? e.session : undefined;
  }

  /** Subscribes to every session's state changes; returns the unsubscribe function. */
  onStateChange(cb: (e: BfdStateChange) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  status(): BfdManagerStatus {
    return {
      sessions: [...this.entries.values()].filter((e) => !e.removing).map((e) => e.session.status()),
      unmatchedDrops: { ...this.unmatched },
      sendErrors: this.sendErrors,
    };
  }

  /**
   * Stops everything now: each session sends one AdminDown (so peers go Down at once instead of
   * after their Detection Time), then sessions and sockets close.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const e of this.entries.values()) if (!e.removing) e.session.adminDown();
    // dgram sends after a tick (address lookup): let the AdminDown packets leave before closing.
    await new Promise<void>((r) => setImmediate(r));
    for (const [ks, e] of [...this.entries]) this.forget(ks, e);
    const socks = [...this.sockets.values()];
    this.sockets.clear();
    await Promise.all(socks.map((s) => s.socket.then((x) => x.close()).catch(() => undefined)));
    this.listeners.clear();
  }

  // ===== receive path =====

  /** One datagram that arrived on the sockets of `localAddress`: a session takes it, or it is counted. */
  private onDatagram(localAddress: string, iface: string | undefined, d: BfdDatagram): void {
    const byAddress = this.entries.get(sessionKeyString({ peer: d.from, localAddress, interface: iface }));
    const verdict = demux(d, byAddress, this.byDiscriminator);
    if (typeof verdict !== 'string') {
      verdict.entry.session.receive(verdict.packet, d.data);
    } else if (byAddress && !byAddress.removing) {
      byAddress.session.countDrop(verdict);
    } else {
      this.unmatched[verdict] = (this.unmatched[verdict] ?? 0) + 1;
    }
  }

  // ===== sessions and sockets =====

  private emit(e: BfdStateChange): void {
    this.logger.info(
      { bfd: sessionKeyString(e.key), from: e.from, to: e.to, diag: e.diagName },
      `bfd session ${e.to}`,
    );
    for (const cb of [...this.listeners]) {
      try {
        cb(e);
      } catch (err) {
        this.logger.error({ err, bfd: sessionKeyString(e.key) }, 'bfd state-change subscriber failed');
      }
    }
  }

  private newDiscriminator(): number {
    for (;;) {
      const d = this.discriminator() >>> 0;
      if (d !== 0 && !this.byDiscriminator.has(d)) return d;
    }
  }

  private forget(ks: string, entry: Entry): void {
    entry.session.close();
    if (this.entries.get(ks) === entry) this.entries.delete(ks);
    if (this.byDiscriminator.get(entry.session.localDiscriminator) === entry) {
      this.byDiscriminator.delete(entry.session.localDiscriminator);
    }
    this.releaseSocket(entry.socketKey);
  }

  private acquireSocket(
    socketKey: string,
    localAddress: string,
    iface: string | undefined,
  ): Promise<BfdSocket> {
    let s = this.sockets.get(socketKey);
    if (!s) {
      s = {
        users: 0,
        socket: this.openSocket({
          localAddress,
          interface: iface,
          onPacket: (d) => this.onDatagram(localAddress, iface, d),
          onError: (err) => {
            this.sendErrors++;
            this.logger.debug({ err, bfd: socketKey }, 'bfd socket error');
          },
        }),
      };
      this.sockets.set(socketKey, s);
    }
    s.users++;
    return s.socket;
  }

  private releaseSocket(socketKey: string): void {
    const s = this.sockets.get(socketKey);
    if (!s || --s.users > 0) return;
    this.sockets.delete(socketKey);
    void s.socket.then((x) => x.close()).catch(() => undefined);
  }
}

/**
 * RFC 5880 6.8.6 demultiplexing: the session a datagram belongs to, or why it is discarded.
 * `byAddress` is the session of the datagram's source and local address.
 */
function demux(
  d: BfdDatagram,
  byAddress: Entry | undefined,
  byDiscriminator: ReadonlyMap<number, Entry>,
): string | { entry: Entry; packet: BfdControlPacket } {
  // RFC 5881 5: TTL / Hop Limit other than 255 (the socket filter marked it).
  if (!d.ttlOk) return 'ttl';
  let packet: BfdControlPacket;
  try {
    packet = decodeControl(d.data);
  } catch (e) {
    return e instanceof BfdDecodeError ? e.reason : 'internal-error';
  }
  if (packet.yourDiscriminator !== 0) {
    // "If the Your Discriminator field is nonzero, it MUST be used to select the session with
    // which this BFD packet is associated. If no session is found, the packet MUST be discarded."
    const entry = byDiscriminator.get(packet.yourDiscriminator);
    if (!entry) return 'unknown-discriminator';
    // Single hop: the packet must also come from that session's neighbor on that address.
    return entry === byAddress ? { entry, packet } : 'address-mismatch';
  }
  // Your Discriminator zero (State Down or AdminDown, checked by the codec): select by address.
  return byAddress && !byAddress.removing ? { entry: byAddress, packet } : 'no-session';
}
