/**
 * One OSPF neighbor: the neighbor state machine (RFC 2328 10.3), the Database Description exchange
 * as master or slave (10.6, 10.8), Link State Requests (10.7, 10.9) and the per-neighbor
 * retransmission list (13.6). Time comes from the injected Clock; packets go out through the
 * interface it was heard on (`NeighborHost`).
 *
 * Longer than most files (about 460 lines) on purpose: the state machine's actions clear and
 * rebuild the summary, request and retransmission lists and their timers (RFC 2328 10.3, 10.4),
 * and the DD and LSR code drives the machine's events; split apart, each piece would reach into
 * the others' private state.
 */
import type { OspfInterfaceConfig } from '../config/ospf.js';
import type { TimerHandle } from '../lib/clock.js';
import { DdFlags, LsType, MAX_AGE } from './constants.js';
import type { Area, OspfContext } from './context.js';
import { scopeLsdb } from './context.js';
import { compareIp } from './ip.js';
import { type LsaHeader, lsaKey } from './lsa/header.js';
import { compareLsaInstances, type LsdbEntry } from './lsdb.js';
import type { DbDescriptionBody } from './packet/dbd.js';
import type { LsRequestEntry } from './packet/lsr.js';
import type { PacketBody } from './packet/packet.js';
import { type NeighborEvent, type NeighborState, stateAtLeast } from './states.js';

/**
 * What a neighbor needs from the interface it was heard on (the interface implements it): the
 * instance, the area, timers from the interface configuration, the adjacency decision (RFC 2328
 * 10.4), and sending. Named here so the neighbor does not depend on the interface machine.
 */
export interface NeighborHost {
  readonly ctx: OspfContext;
  readonly area: Area;
  readonly name: string;
  readonly config: OspfInterfaceConfig;
  /** The MTU advertised in and checked against DD packets (RFC 2328 10.6). */
  ddMtu(): number;
  /** Options sent in Hello and DD packets (RFC 2328 A.2). */
  options(): number;
  /** RFC 2328 10.4: whether an adjacency is formed with `nbr`. */
  shouldBeAdjacent(nbr: Neighbor): boolean;
  /** RFC 2328 9.2 NeighborChange and the removal of a Down neighbor are the interface's part. */
  neighborStateChanged(nbr: Neighbor, from: NeighborState, to: NeighborState): void;
  sendTo(nbr: Neighbor, body: PacketBody): void;
  /** LS Updates to `nbr` (retransmissions, answers to requests), split to fit the MTU. */
  sendLsUpdate(lsas: Buffer[], nbr: Neighbor): void;
}

interface RxmtItem {
  entry: LsdbEntry;
  scope: 'area' | 'as';
}

export class Neighbor {
  state: NeighborState = 'Down';
  /** Interface address of the neighbor (source of its packets). */
  address: string;
  priority = 0;
  /** DR and BDR as declared in the neighbor's last Hello (interface addresses). */
  dr = '0.0.0.0';
  bdr = '0.0.0.0';
  options = 0;
  /** RFC 2328 D.5.2: highest cryptographic sequence number accepted from this neighbor. */
  cryptoSeq = -1;

  // Database exchange (RFC 2328 10.1)
  master = false;
  ddSeq = 0;
  private lastRecvDd: { flags: number; options: number; seq: number } | undefined;
  private lastSentDd: DbDescriptionBody | undefined;
  private summary: LsaHeader[] = [];
  readonly requests = new Map<string, LsaHeader>();
  readonly rxmt = new Map<string, RxmtItem>();
  private lsrOutstanding: string[] = [];

  private inactivity: TimerHandle | undefined;
  private ddTimer: TimerHandle | undefined;
  private lsrTimer: TimerHandle | undefined;
  private rxmtTimer: TimerHandle | undefined;
  private ddHoldTimer: TimerHandle | undefined;
  fullSince = 0;
  /** Negotiated role, for status; null until NegotiationDone. */
  ddRole: 'master' | 'slave' | null = null;

  constructor(
    readonly iface: NeighborHost,
    readonly routerId: string,
    address: string,
  ) {
    this.address = address;
  }

  private get ctx(): OspfContext {
    return this.iface.ctx;
  }

  private get area(): Area {
    return this.iface.area;
  }

  private ms(seconds: number): number {
    return seconds * 1000;
  }

  // ===== state machine (RFC 2328 10.3) =====

  event(ev: NeighborEvent): void {
    const s = this.state;
    switch (ev) {
      case 'HelloReceived':
        if (s === 'Down') this.setState('Init');
        this.restartInactivity();
        return;
      case '2-WayReceived':
        if (s === 'Init') {
          if (this.iface.shouldBeAdjacent(this)) this.startExStart();
          else this.setState('2-Way');
        }
        return;
      case 'NegotiationDone':
        if (s !== 'ExStart') return;
        this.buildSummaryList();
        this.setState('Exchange');
        return;
      case 'ExchangeDone':
        if (s !== 'Exchange') return;
        if (this.requests.size === 0) this.setState('Full');
        else {
          this.setState('Loading');
          if (this.lsrOutstanding.length === 0) this.sendLsRequest();
        }
        return;
      case 'LoadingDone':
        if (s === 'Loading') this.setState('Full');
        return;
      case 'AdjOK?':
        if (s === '2-Way') {
          if (this.iface.shouldBeAdjacent(this)) this.startExStart();
        } else if (stateAtLeast(s, 'ExStart') && !this.iface.shouldBeAdjacent(this)) {
          this.clearLists();
          this.setState('2-Way');
        }
        return;
      case 'SeqNumberMismatch':
      case 'BadLSReq':
        if (stateAtLeast(s, 'Exchange')) {
          this.ctx.logger.info({ nbr: this.routerId, event: ev }, 'ospf: restarting database exchange');
          this.clearLists();
          this.startExStart();
        }
        return;
      case '1-WayReceived':
        if (stateAtLeast(s, '2-Way')) {
          this.clearLists();
          this.setState('Init');
        }
        return;
      case 'KillNbr':
      case 'InactivityTimer':
      case 'LLDown':
        this.clearLists();
        this.inactivity?.cancel();
        this.inactivity = undefined;
        this.ddHoldTimer?.cancel();
        this.lastSentDd = undefined;
        this.lastRecvDd = undefined;
        this.setState('Down');
        return;
    }
  }

  private setState(to: NeighborState): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    if (to === 'Full') this.fullSince = this.ctx.clock.now();
    this.ctx.logger.info({ iface: this.iface.name, nbr: this.routerId, from, to }, 'ospf: neighbor state');
    this.iface.neighborStateChanged(this, from, to);
    this.ctx.neighborChanged(this.iface.name, this.routerId, from, to);
  }

  private restartInactivity(): void {
    this.inactivity?.cancel();
    this.inactivity = this.ctx.clock.setTimer(this.ms(this.iface.config.deadInterval), () => {
      this.inactivity = undefined;
      this.event('InactivityTimer');
    });
  }

  /** RFC 2328 10.3 "Start forming an adjacency": ExStart, I/M/MS set, retransmitted until answered. */
  private startExStart(): void {
    this.ddSeq = this.ddSeq ? (this.ddSeq + 1) >>> 0 : (Math.floor(Math.random() * 0x7fffffff) + 1) >>> 0;
    this.master = true;
    this.lastRecvDd = undefined;
    this.setState('ExStart');
    this.sendDd({
      kind: 'dd',
      mtu: this.iface.ddMtu(),
      options: this.iface.options(),
      flags: DdFlags.I | DdFlags.M | DdFlags.MS,
      seq: this.ddSeq,
      headers: [],
    });
  }

  /** RFC 2328 10.3: empty the retransmission, summary and request lists. */
  private clearLists(): void {
    this.summary = [];
    this.requests.clear();
    this.rxmt.clear();
    this.lsrOutstanding = [];
    for (const t of [this.ddTimer, this.lsrTimer, this.rxmtTimer]) t?.cancel();
    this.ddTimer = this.lsrTimer = this.rxmtTimer = undefined;
  }

  private buildSummaryList(): void {
    const lsdbs = [this.area.lsdb, ...(this.area.stub ? [] : [this.ctx.asLsdb])];
    this.summary = [];
    for (const db of lsdbs) {
      for (const e of db.entries()) {
        // RFC 2328 10.3 NegotiationDone: MaxAge LSAs go on the retransmission list instead.
        if (db.ageOf(e) >= MAX_AGE) this.addRetransmit(e);
        else this.summary.push(db.headerOf(e));
      }
    }
  }

  // ===== Database Description (RFC 2328 10.6, 10.8) =====

  private sendDd(dd: DbDescriptionBody): void {
    this.lastSentDd = dd;
    this.iface.sendTo(this, dd);
    this.ddTimer?.cancel();
    this.ddTimer = undefined;
    // Only the master retransmits on a timer; the slave answers duplicates (RFC 2328 10.8).
    if (this.master) {
      this.ddTimer = this.ctx.clock.setTimer(this.ms(this.iface.config.retransmitInterval), () => {
        this.ddTimer = undefined;
        if (this.lastSentDd && (this.state === 'ExStart' || this.state === 'Exchange')) {
          this.sendDd(this.lastSentDd);
        }
      });
    }
  }

  /** The next DD of the exchange: as many summary headers as fit the interface MTU. */
  private sendNextDd(): void {
    const room = Math.max(1, Math.floor((this.iface.ddMtu() - 20 - 24 - 8 - 32) / 20));
    const headers = this.summary.splice(0, room);
    const more = this.summary.length > 0;
    this.sendDd({
      kind: 'dd',
      mtu: this.iface.ddMtu(),
      options: this.iface.options(),
      flags: (more ? DdFlags.M : 0) | (this.master ? DdFlags.MS : 0),
      seq: this.ddSeq,
      headers,
    });
  }

  receiveDd(dd: DbDescriptionBody): void {
    // RFC 2328 10.6: drop when the neighbor's MTU exceeds what we can receive (FRR: same rule).
    if (!this.iface.config.mtuIgnore && dd.mtu > this.iface.ddMtu()) {
      this.ctx.count('mtu-mismatch');
      return;
    }
    const dup =
      this.lastRecvDd !== undefined &&
      this.lastRecvDd.flags === (dd.flags & 7) &&
      this.lastRecvDd.options === dd.options &&
      this.lastRecvDd.seq === dd.seq;
    switch (this.state) {
      case 'Down':
      case 'Attempt':
      case '2-Way':
        this.ctx.count('dd-wrong-state');
        return;
      case 'Init':
        this.event('2-WayReceived');
        if ((this.state as NeighborState) !== 'ExStart') return;
        this.receiveDdExStart(dd);
        return;
      case 'ExStart':
        this.receiveDdExStart(dd);
        return;
      case 'Exchange':
        if (dup) {
          if (!this.master && this.lastSentDd) this.iface.sendTo(this, this.lastSentDd);
          return;
        }
        if (((dd.flags & DdFlags.MS) !== 0) === this.master || dd.flags & DdFlags.I) {
          this.event('SeqNumberMismatch');
          return;
        }
        if (this.lastRecvDd && dd.options !== this.lastRecvDd.options) {
          this.event('SeqNumberMismatch');
          return;
        }
        if (this.master ? dd.seq !== this.ddSeq : dd.seq !== (this.ddSeq + 1) >>> 0) {
          this.event('SeqNumberMismatch');
          return;
        }
        this.acceptDd(dd);
        return;
      case 'Loading':
      case 'Full':
        if (dup) {
          if (!this.master && this.lastSentDd) this.iface.sendTo(this, this.lastSentDd);
          return;
        }
        this.event('SeqNumberMismatch');
        return;
    }
  }

  private receiveDdExStart(dd: DbDescriptionBody): void {
    const flags = dd.flags & 7;
    const theyAreHigher = compareIp(this.routerId, this.ctx.routerId) > 0;
    if (flags === (DdFlags.I | DdFlags.M | DdFlags.MS) && dd.headers.length === 0 && theyAreHigher) {
      // RFC 2328 10.6: we are slave; adopt the master's sequence number.
      this.master = false;
      this.ddTimer?.cancel();
      this.ddTimer = undefined;
      this.ddSeq = (dd.seq - 1) >>> 0;
    } else if (!(flags & DdFlags.I) && !(flags & DdFlags.MS) && dd.seq === this.ddSeq && !theyAreHigher) {
      this.master = true;
    } else {
      return;
    }
    this.options = dd.options;
    this.ddRole = this.master ? 'master' : 'slave';
    this.event('NegotiationDone');
    this.acceptDd(dd);
  }

  /** RFC 2328 10.6 "processed further": note wanted LSAs, then answer (slave) or continue (master). */
  private acceptDd(dd: DbDescriptionBody): void {
    this.lastRecvDd = { flags: dd.flags & 7, options: dd.options, seq: dd.seq };
    for (const h of dd.headers) {
      if (
        h.type < LsType.Router ||
        h.type > LsType.AsExternal ||
        (h.type === LsType.AsExternal && this.area.stub)
      ) {
        this.event('SeqNumberMismatch');
        return;
      }
      const db = scopeLsdb(this.ctx, this.area, h.type);
      const key = lsaKey(h);
      const have = db.get(key);
      if (!have || compareLsaInstances(h, db.headerOf(have)) > 0) this.requests.set(key, h);
    }
    const theyHaveMore = (dd.flags & DdFlags.M) !== 0;
    if (this.master) {
      this.ddSeq = (this.ddSeq + 1) >>> 0;
      const weSentAll = this.lastSentDd !== undefined && !(this.lastSentDd.flags & DdFlags.M);
      if (weSentAll && !theyHaveMore) {
        this.ddTimer?.cancel();
        this.ddTimer = undefined;
        this.event('ExchangeDone');
      } else {
        this.sendNextDd();
      }
    } else {
      this.ddSeq = dd.seq;
      this.sendNextDd();
      const weSentAll = this.lastSentDd !== undefined && !(this.lastSentDd.flags & DdFlags.M);
      if (weSentAll && !theyHaveMore) this.event('ExchangeDone');
    }
    if (this.state === 'Exchange' && this.requests.size > 0 && this.lsrOutstanding.length === 0) {
      this.sendLsRequest();
    }
  }

  // ===== Link State Requests (RFC 2328 10.7, 10.9) =====

  private sendLsRequest(): void {
    this.lsrTimer?.cancel();
    this.lsrTimer = undefined;
    if (this.requests.size === 0) {
      this.lsrOutstanding = [];
      return;
    }
    const room = Math.max(1, Math.floor((this.iface.ddMtu() - 20 - 24 - 32) / 12));
    const entries: LsRequestEntry[] = [];
    this.lsrOutstanding = [];
    for (const [key, h] of this.requests) {
      if (entries.length >= room) break;
      entries.push({ type: h.type, id: h.id, advRouter: h.advRouter });
      this.lsrOutstanding.push(key);
    }
    this.iface.sendTo(this, { kind: 'lsr', entries });
    this.lsrTimer = this.ctx.clock.setTimer(this.ms(this.iface.config.retransmitInterval), () => {
      this.lsrTimer = undefined;
      if (this.state === 'Exchange' || this.state === 'Loading') this.sendLsRequest();
    });
  }

  /** Called by the flooding code when a requested LSA instance (or a newer one) arrived. */
  requestSatisfied(key: string): void {
    if (!this.requests.delete(key)) return;
    if (this.lsrOutstanding.includes(key)) {
      this.lsrOutstanding = this.lsrOutstanding.filter((k) => k !== key);
      if (this.lsrOutstanding.length === 0) this.sendLsRequest();
    }
    if (this.requests.size === 0 && this.state === 'Loading') {
      this.lsrTimer?.cancel();
      this.lsrTimer = undefined;
      this.event('LoadingDone');
    }
  }

  receiveLsRequest(entries: LsRequestEntry[]): void {
    if (!stateAtLeast(this.state, 'Exchange')) {
      this.ctx.count('lsr-wrong-state');
      return;
    }
    const found: Buffer[] = [];
    for (const e of entries) {
      const db = scopeLsdb(this.ctx, this.area, e.type);
      const have = db.get(lsaKey(e));
      if (!have) {
        this.event('BadLSReq');
        return;
      }
      found.push(db.bytesForSend(have, this.iface.config.transmitDelay));
    }
    this.iface.sendLsUpdate(found, this);
  }

  // ===== retransmission list (RFC 2328 13.6) =====

  addRetransmit(entry: LsdbEntry): void {
    this.rxmt.set(entry.key, { entry, scope: entry.lsa.header.type === LsType.AsExternal ? 'as' : 'area' });
    this.armRxmt();
  }

  removeRetransmit(key: string): void {
    this.rxmt.delete(key);
    if (this.rxmt.size === 0) {
      this.rxmtTimer?.cancel();
      this.rxmtTimer = undefined;
    }
  }

  /** The instance on our retransmission list for `key`, if any. */
  retransmitting(key: string): LsdbEntry | undefined {
    return this.rxmt.get(key)?.entry;
  }

  private armRxmt(): void {
    if (this.rxmtTimer || this.rxmt.size === 0) return;
    this.rxmtTimer = this.ctx.clock.setTimer(this.ms(this.iface.config.retransmitInterval), () => {
      this.rxmtTimer = undefined;
      if (this.rxmt.size === 0 || !stateAtLeast(this.state, 'Exchange')) return;
      const out: Buffer[] = [];
      for (const { entry, scope } of this.rxmt.values()) {
        const db = scope === 'as' ? this.ctx.asLsdb : this.area.lsdb;
        out.push(db.bytesForSend(entry, this.iface.config.transmitDelay));
      }
      this.iface.sendLsUpdate(out, this);
      this.armRxmt();
    });
  }

  /** Stops every timer (speaker shutdown). */
  dispose(): void {
    for (const t of [this.ddTimer, this.lsrTimer, this.rxmtTimer, this.inactivity, this.ddHoldTimer])
      t?.cancel();
  }
}
