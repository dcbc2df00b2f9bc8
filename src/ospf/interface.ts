/**
 * One OSPF interface: the interface state machine (RFC 2328 9.3), Hellos (9.5, 10.5), the DR
 * election hook (9.4), packet reception checks (8.2, D.5) and transmission, delayed acks (13.5).
 * Neighbors are keyed by router ID on both network types.
 */

import type { OspfInterfaceConfig } from '../config/ospf.js';
import type { TimerHandle } from '../lib/clock.js';
import { ALL_D_ROUTERS, ALL_SPF_ROUTERS, AuType, Options, PacketType } from './constants.js';
import type { Area, OspfContext } from './context.js';
import { type Candidate, electDr } from './election.js';
import { receiveLsAck, receiveLsUpdate } from './flood.js';
import { ipToNum, OspfDecodeError } from './ip.js';
import type { LsaHeader } from './lsa/header.js';
import { Neighbor, type NeighborState, stateAtLeast } from './neighbor.js';
import { cryptoSeqFloor, verifyAuth } from './packet/auth.js';
import type { HelloBody } from './packet/hello.js';
import { decodePacket, encodePacket, type OspfPacket, type PacketBody } from './packet/packet.js';

export type InterfaceState = 'Down' | 'Loopback' | 'Waiting' | 'PointToPoint' | 'DROther' | 'Backup' | 'DR';

/** What the interface needs from the platform: send bytes and know its address. */
export interface OspfSocket {
  readonly info: { address: string; netmask: string; mtu: number };
  send(packet: Buffer, destination: string): void;
  onMessage(handler: (packet: Buffer, source: string) => void): void;
  /** Resolves once queued packets are sent (at most a moment) and the socket is closed. */
  close(): Promise<void> | void;
}

const NONE = '0.0.0.0';
/** Delayed acks go out well within RxmtInterval (RFC 2328 13.5). */
const DELAYED_ACK_MS = 1000;

export class OspfInterface {
  state: InterfaceState = 'Down';
  readonly neighbors = new Map<string, Neighbor>();
  dr = NONE;
  bdr = NONE;
  private helloTimer: TimerHandle | undefined;
  private waitTimer: TimerHandle | undefined;
  private ackTimer: TimerHandle | undefined;
  private delayedAcks: LsaHeader[] = [];
  private lastCryptoSeq = 0;

  constructor(
    readonly ctx: OspfContext,
    readonly config: OspfInterfaceConfig,
    readonly area: Area,
    readonly socket: OspfSocket,
  ) {
    socket.onMessage((b, src) => {
      // Bad input must never take the daemon down: anything unexpected is counted and logged.
      try {
        this.receive(b, src);
      } catch (e) {
        this.ctx.count('internal-error');
        this.ctx.logger.error(
          { iface: this.name, err: (e as Error).stack },
          'ospf: packet processing failed',
        );
      }
    });
    // RFC 2328 D.4.3 / notes: strictly increasing, and above what a previous incarnation sent.
    this.lastCryptoSeq = cryptoSeqFloor(Date.now());
  }

  get name(): string {
    return this.config.name;
  }

  get address(): string {
    return this.socket.info.address;
  }

  get mask(): string {
    return this.socket.info.netmask;
  }

  get broadcast(): boolean {
    return this.config.network === 'broadcast';
  }

  ddMtu(): number {
    return this.config.mtu ?? this.socket.info.mtu;
  }

  /** Options we send (RFC 2328 A.2): E set unless the area is stub. */
  options(): number {
    return this.area.stub ? 0 : Options.E;
  }

  // ===== interface state machine (RFC 2328 9.3) =====

  up(): void {
    if (this.state !== 'Down') return;
    if (!this.broadcast) this.setState('PointToPoint');
    else if (this.config.priority === 0) {
      // Ineligible routers never wait: they only learn DR/BDR from Hellos (9.3 InterfaceUp).
      this.setState('DROther');
    } else {
      this.setState('Waiting');
      this.waitTimer = this.ctx.clock.setTimer(this.config.deadInterval * 1000, () => {
        this.waitTimer = undefined;
        if (this.state === 'Waiting') this.electDr();
      });
    }
    this.sendHello();
  }

  down(): void {
    for (const n of [...this.neighbors.values()]) n.event('KillNbr');
    for (const t of [this.helloTimer, this.waitTimer, this.ackTimer]) t?.cancel();
    this.helloTimer = this.waitTimer = this.ackTimer = undefined;
    this.dr = this.bdr = NONE;
    this.setState('Down');
  }

  private setState(to: InterfaceState): void {
    if (this.state === to) return;
    const from = this.state;
    this.state = to;
    this.ctx.logger.info({ iface: this.name, from, to }, 'ospf: interface state');
    this.ctx.interfaceChanged(this);
  }

  /** RFC 2328 9.4, run on WaitTimer, BackupSeen and NeighborChange. */
  electDr(): void {
    if (!this.broadcast || this.state === 'Down') return;
    const self: Candidate = {
      routerId: this.ctx.routerId,
      address: this.address,
      priority: this.config.priority,
      dr: this.dr,
      bdr: this.bdr,
    };
    const others: Candidate[] = [...this.neighbors.values()]
      .filter((n) => stateAtLeast(n.state, '2-Way'))
      .map((n) => ({ routerId: n.routerId, address: n.address, priority: n.priority, dr: n.dr, bdr: n.bdr }));
    const result = electDr(self, [self, ...others]);
    const changed = result.dr !== this.dr || result.bdr !== this.bdr;
    this.dr = result.dr;
    this.bdr = result.bdr;
    this.setState(this.dr === this.address ? 'DR' : this.bdr === this.address ? 'Backup' : 'DROther');
    if (changed) {
      for (const n of this.neighbors.values()) if (stateAtLeast(n.state, '2-Way')) n.event('AdjOK?');
      this.ctx.interfaceChanged(this);
    }
  }

  /** RFC 2328 10.4: whether an adjacency is formed with `nbr`. */
  shouldBeAdjacent(nbr: Neighbor): boolean {
    if (!this.broadcast) return true;
    return (
      this.state === 'DR' ||
      this.state === 'Backup' ||
      (nbr.address === this.dr && this.dr !== NONE) ||
      (nbr.address === this.bdr && this.bdr !== NONE)
    );
  }

  neighborStateChanged(nbr: Neighbor, from: NeighborState, to: NeighborState): void {
    // RFC 2328 9.2 NeighborChange: bidirectional communication gained or lost.
    if (stateAtLeast(from, '2-Way') !== stateAtLeast(to, '2-Way') && this.state !== 'Waiting') this.electDr();
    if (to === 'Down') {
      nbr.dispose();
      this.neighbors.delete(nbr.routerId);
    }
  }

  // ===== Hello (RFC 2328 9.5, 10.5) =====

  private helloBody(neighbors: string[]): HelloBody {
    return {
      kind: 'hello',
      mask: this.mask,
      helloInterval: this.config.helloInterval,
      options: this.options(),
      priority: this.broadcast ? this.config.priority : 0,
      deadInterval: this.config.deadInterval,
      dr: this.broadcast ? this.dr : NONE,
      bdr: this.broadcast ? this.bdr : NONE,
      neighbors,
    };
  }

  sendHello(): void {
    this.helloTimer?.cancel();
    const seen = [...this.neighbors.values()]
      .filter((n) => stateAtLeast(n.state, 'Init'))
      .map((n) => n.routerId);
    this.send(this.helloBody(seen), ALL_SPF_ROUTERS);
    this.helloTimer = this.ctx.clock.setTimer(this.config.helloInterval * 1000, () => this.sendHello());
  }

  /** Graceful drain: a Hello listing nobody makes neighbors drop to Init at once (notes 9). */
  sendGoodbyeHello(): void {
    this.send(this.helloBody([]), ALL_SPF_ROUTERS);
  }

  private receiveHello(h: HelloBody, routerId: string, source: string): void {
    if (this.broadcast && h.mask !== this.mask) {
      this.ctx.count('hello-mask');
      return;
    }
    if (h.helloInterval !== this.config.helloInterval) {
      this.ctx.count('hello-interval');
      return;
    }
    if (h.deadInterval !== this.config.deadInterval) {
      this.ctx.count('dead-interval');
      return;
    }
    if ((h.options & Options.E) !== (this.options() & Options.E)) {
      this.ctx.count('area-type');
      return;
    }
    let nbr = this.neighbors.get(routerId);
    if (!nbr) {
      nbr = new Neighbor(this, routerId, source);
      this.neighbors.set(routerId, nbr);
      // Answer a new neighbor at once instead of up to HelloInterval later, so it sees itself
      // in our Hello and two-way forms quickly (FRR and BIRD do likewise).
      this.ctx.clock.setTimer(0, () => {
        if (this.state !== 'Down') this.sendHello();
      });
    }
    nbr.address = source;
    const oldPri = nbr.priority;
    const oldDr = nbr.dr;
    const oldBdr = nbr.bdr;
    nbr.priority = h.priority;
    nbr.dr = h.dr;
    nbr.bdr = h.bdr;
    nbr.options = h.options;
    nbr.event('HelloReceived');
    if (!h.neighbors.includes(this.ctx.routerId)) {
      nbr.event('1-WayReceived');
      return;
    }
    nbr.event('2-WayReceived');
    if (!this.broadcast) return;
    // RFC 2328 10.5: BackupSeen / NeighborChange.
    const declaresDr = h.dr === source;
    const declaresBdr = h.bdr === source;
    if (this.state === 'Waiting' && ((declaresDr && h.bdr === NONE) || declaresBdr)) {
      this.waitTimer?.cancel();
      this.waitTimer = undefined;
      this.electDr();
      return;
    }
    if (oldPri !== h.priority || declaresDr !== (oldDr === source) || declaresBdr !== (oldBdr === source)) {
      if (this.state !== 'Waiting') this.electDr();
    }
  }

  // ===== reception (RFC 2328 8.2) =====

  receive(buf: Buffer, source: string): void {
    let decoded: ReturnType<typeof decodePacket>;
    try {
      decoded = decodePacket(buf);
    } catch (e) {
      if (e instanceof OspfDecodeError) {
        this.ctx.count(e.reason);
        return;
      }
      throw e;
    }
    const { packet, header } = decoded;
    if (packet.areaId !== this.area.id) {
      this.ctx.count('wrong-area');
      return;
    }
    if (packet.routerId === this.ctx.routerId) {
      this.ctx.count('own-packet');
      return;
    }
    // 8.2: on multi-access networks the source must be on our subnet (BIRD: "strange source").
    if (this.broadcast && !this.sameSubnet(source)) {
      this.ctx.count('wrong-subnet');
      return;
    }
    const authFail = verifyAuth(buf, header, this.config.auth);
    if (authFail) {
      this.ctx.count(authFail);
      return;
    }
    const nbr = this.neighbors.get(packet.routerId);
    if (header.auth.auType === AuType.Crypto && nbr) {
      // RFC 2328 D.5.2: a lower sequence number than the last accepted is a replay.
      if (header.auth.cryptoSeq < nbr.cryptoSeq) {
        this.ctx.count('auth-replay');
        return;
      }
      nbr.cryptoSeq = header.auth.cryptoSeq;
    }
    if (header.type === PacketType.Hello && packet.body.kind === 'hello') {
      this.receiveHello(packet.body, packet.routerId, source);
      const created = this.neighbors.get(packet.routerId);
      if (created && header.auth.auType === AuType.Crypto) created.cryptoSeq = header.auth.cryptoSeq;
      return;
    }
    if (!nbr) {
      this.ctx.count('unknown-neighbor');
      return;
    }
    switch (packet.body.kind) {
      case 'dd':
        nbr.receiveDd(packet.body);
        return;
      case 'lsr':
        nbr.receiveLsRequest(packet.body.entries);
        return;
      case 'lsu':
        receiveLsUpdate(this.ctx, this, nbr, packet.body.lsas);
        return;
      case 'ack':
        receiveLsAck(this.ctx, nbr, packet.body.headers);
        return;
      default: {
        this.ctx.count('bad-type');
        return;
      }
    }
  }

  private sameSubnet(source: string): boolean {
    const m = ipToNum(this.mask);
    return (ipToNum(source) & m) >>> 0 === (ipToNum(this.address) & m) >>> 0;
  }

  // ===== transmission =====

  private nextCryptoSeq(): number {
    this.lastCryptoSeq = Math.max(this.lastCryptoSeq + 1, cryptoSeqFloor(Date.now())) >>> 0;
    return this.lastCryptoSeq;
  }

  send(body: PacketBody, destination: string): void {
    const p: OspfPacket = { routerId: this.ctx.routerId, areaId: this.area.id, body };
    const seq =
      this.config.auth.type === 'md5' || this.config.auth.type === 'hmac-sha-256' ? this.nextCryptoSeq() : 0;
    try {
      this.socket.send(encodePacket(p, this.config.auth, seq), destination);
    } catch (e) {
      this.ctx.count('send-error');
      this.ctx.logger.warn({ iface: this.name, err: (e as Error).message }, 'ospf: send failed');
    }
  }

  /** Unicast to a neighbor; on point-to-point links everything goes to AllSPFRouters (FRR does). */
  sendTo(nbr: Neighbor, body: PacketBody): void {
    this.send(body, this.broadcast ? nbr.address : ALL_SPF_ROUTERS);
  }

  /** Where floods and delayed acks go (RFC 2328 13.3 (5), 13.5). */
  floodDestination(): string {
    if (!this.broadcast || this.state === 'DR' || this.state === 'Backup') return ALL_SPF_ROUTERS;
    return ALL_D_ROUTERS;
  }

  /** Sends LSAs in as few LS Updates as the MTU allows, to `nbr` or flooded. */
  sendLsUpdate(lsas: Buffer[], nbr?: Neighbor): void {
    const limit = this.ddMtu() - 20 - 24 - 4 - 32;
    let batch: Buffer[] = [];
    let size = 0;
    const flush = () => {
      if (!batch.length) return;
      const body: PacketBody = { kind: 'lsu', lsas: batch };
      if (nbr) this.sendTo(nbr, body);
      else this.send(body, this.floodDestination());
      batch = [];
      size = 0;
    };
    for (const l of lsas) {
      if (size + l.length > limit) flush();
      batch.push(l);
      size += l.length;
    }
    flush();
  }

  sendDirectAck(nbr: Neighbor, headers: LsaHeader[]): void {
    this.sendTo(nbr, { kind: 'ack', headers });
  }

  queueDelayedAck(h: LsaHeader): void {
    this.delayedAcks.push(h);
    if (this.ackTimer) return;
    this.ackTimer = this.ctx.clock.setTimer(DELAYED_ACK_MS, () => {
      this.ackTimer = undefined;
      this.flushDelayedAcks();
    });
  }

  flushDelayedAcks(): void {
    const room = Math.max(1, Math.floor((this.ddMtu() - 20 - 24 - 32) / 20));
    while (this.delayedAcks.length) {
      this.send({ kind: 'ack', headers: this.delayedAcks.splice(0, room) }, this.floodDestination());
    }
  }

  /** Stops timers and closes the socket (after `down()` or for an abrupt stop). */
  async close(): Promise<void> {
    for (const n of this.neighbors.values()) n.dispose();
    for (const t of [this.helloTimer, this.waitTimer, this.ackTimer]) t?.cancel();
    await this.socket.close();
  }
}
