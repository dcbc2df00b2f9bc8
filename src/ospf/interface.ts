/**
 * One OSPF interface: the interface state machine (RFC 2328 9.1-9.3) driven by `event()` with the
 * RFC 9.2 event names, the DR election hook (9.4), Hellos sent and received (9.5, 10.5), packet
 * transmission (8.1, D.4 authentication sequence numbers) and delayed acks (13.5). Packets reach it
 * from the receive path (receive.ts), which decodes, checks and authenticates them first.
 * Neighbors are keyed by router ID on both network types.
 */

import type { OspfInterfaceConfig } from '../config/ospf.js';
import type { TimerHandle } from '../lib/clock.js';
import { ALL_D_ROUTERS, ALL_SPF_ROUTERS, Options } from './constants.js';
import type { Area, OspfContext } from './context.js';
import { type Candidate, electDr } from './election.js';
import type { LsaHeader } from './lsa/header.js';
import { Neighbor, type NeighborHost } from './neighbor.js';
import { cryptoSeqFloor } from './packet/auth.js';
import type { HelloBody } from './packet/hello.js';
import { encodePacket, type OspfPacket, type PacketBody } from './packet/packet.js';
import { type InterfaceEvent, type InterfaceState, type NeighborState, stateAtLeast } from './states.js';

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

export class OspfInterface implements NeighborHost {
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
    // RFC 2328 D.4.3: strictly increasing, and above what a previous incarnation sent (cryptoSeqFloor).
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

  /** RFC 2328 9.3: the one entry point of the interface state machine. */
  event(ev: InterfaceEvent): void {
    const s = this.state;
    switch (ev) {
      case 'InterfaceUp':
        if (s === 'Down') this.start();
        return;
      case 'WaitTimer':
      case 'BackupSeen':
        // Waiting ends: the DR is known (BackupSeen) or nobody claimed it in time (WaitTimer).
        if (s !== 'Waiting') return;
        this.waitTimer?.cancel();
        this.waitTimer = undefined;
        this.electDr();
        return;
      case 'NeighborChange':
        if (s === 'DR' || s === 'Backup' || s === 'DROther') this.electDr();
        return;
      case 'LoopInd':
        this.reset();
        this.setState('Loopback');
        return;
      case 'UnloopInd':
        if (s === 'Loopback') this.setState('Down');
        return;
      case 'InterfaceDown':
        this.reset();
        this.setState('Down');
        return;
    }
  }

  /** RFC 2328 9.3 InterfaceUp: start the Hello timer, and the wait timer on an eligible router. */
  private start(): void {
    if (!this.broadcast) this.setState('PointToPoint');
    else if (this.config.priority === 0) {
      // Ineligible routers never wait: they only learn DR/BDR from Hellos (9.3 InterfaceUp).
      this.setState('DROther');
    } else {
      this.setState('Waiting');
      this.waitTimer = this.ctx.clock.setTimer(this.config.deadInterval * 1000, () => {
        this.waitTimer = undefined;
        this.event('WaitTimer');
      });
    }
    this.sendHello();
  }

  /** RFC 2328 9.3 InterfaceDown, LoopInd: KillNbr on every neighbor, timers off, DR/BDR unset. */
  private reset(): void {
    for (const n of [...this.neighbors.values()]) n.event('KillNbr');
    for (const t of [this.helloTimer, this.waitTimer, this.ackTimer]) t?.cancel();
    this.helloTimer = this.waitTimer = this.ackTimer = undefined;
    this.delayedAcks = [];
    this.dr = this.bdr = NONE;
  }

  private setState(to: InterfaceState): void {
    if (this.state === to) return;
    const from = this.state;
    this.state = to;
    this.ctx.logger.info({ iface: this.name, from, to }, 'ospf: interface state');
    this.ctx.interfaceChanged(this.name);
  }

  /** RFC 2328 9.4, run on WaitTimer, BackupSeen and NeighborChange. */
  private electDr(): void {
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
      this.ctx.interfaceChanged(this.name);
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
    if (stateAtLeast(from, '2-Way') !== stateAtLeast(to, '2-Way')) this.event('NeighborChange');
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

  /** Graceful drain: a Hello listing nobody makes neighbors drop to Init at once (RFC 2328 10.5). */
  sendGoodbyeHello(): void {
    this.send(this.helloBody([]), ALL_SPF_ROUTERS);
  }

  /** RFC 2328 10.5: a Hello that passed the receive checks (8.2, D) from `routerId` at `source`. */
  receiveHello(h: HelloBody, routerId: string, source: string): void {
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
        // Unless the interface went Down or Loopback meanwhile: neither sends Hellos (9.1).
        if (this.state !== 'Down' && this.state !== 'Loopback') this.sendHello();
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
      this.event('BackupSeen');
      return;
    }
    if (oldPri !== h.priority || declaresDr !== (oldDr === source) || declaresBdr !== (oldBdr === source)) {
      this.event('NeighborChange');
    }
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

  /** Stops timers and closes the socket (after InterfaceDown or for an abrupt stop). */
  async close(): Promise<void> {
    for (const n of this.neighbors.values()) n.dispose();
    for (const t of [this.helloTimer, this.waitTimer, this.ackTimer]) t?.cancel();
    await this.socket.close();
  }
}
