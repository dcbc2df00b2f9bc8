/**
 * Origination of this router's LSAs (RFC 2328 12.4): brings our LSAs in the LSDBs to what is
 * wanted (originate.ts), each new instance with the next sequence number (12.1.6) and no sooner
 * than origination-timing.ts allows (12.4 MinLSInterval, 13 (5)(a) MinLSArrival); flushes the ones
 * no longer wanted by premature aging (14.1); and answers a newer instance of our own LSA from a
 * previous incarnation (13.4) by superseding or flushing it. Bursts of state changes are
 * coalesced into one pass on the next tick.
 */
import type { TimerHandle } from '../lib/clock.js';
import { INITIAL_SEQ, LsType, MAX_AGE, MAX_SEQ } from './constants.js';
import { type Area, floodingArea, lsdbScopes } from './context.js';
import { type FloodContext, floodLsa, removeFromAllRetransmits } from './flood.js';
import { lsaKey } from './lsa/header.js';
import { encodeLsa, type Lsa } from './lsa/lsa.js';
import type { Lsdb, LsdbEntry } from './lsdb.js';
import { type DesiredLsa, sameLsaBody } from './originate.js';
import { nextOriginationAt } from './origination-timing.js';
import { stateAtLeast } from './states.js';

export interface OriginationHost {
  readonly ctx: FloodContext;
  /** The areas in configuration order. */
  areas(): readonly Area[];
  /** The LSAs wanted now (originate.ts `desiredLsas`). */
  wanted(): DesiredLsa[];
  /** False before start and after stop: nothing is originated or scheduled then. */
  running(): boolean;
}

export class Origination {
  private readonly lastOriginated = new Map<string, number>();
  /** `area|key` of own LSAs whose last instance was originated with no neighbor to flood to. */
  private readonly unflooded = new Set<string>();
  /** When a neighbor last entered Exchange (it gets our LSAs in the exchange that follows). */
  private lastExchangeStart = 0;
  /** `area|key` of own LSAs from a previous incarnation to supersede at once (RFC 2328 13.4). */
  private readonly fightBack = new Set<string>();
  private timer: TimerHandle | undefined;

  constructor(private readonly host: OriginationHost) {}

  private get ctx(): FloodContext {
    return this.host.ctx;
  }

  /** True while a pass is scheduled (a change waits for its tick or its MinLSInterval slot). */
  get scheduled(): boolean {
    return this.timer !== undefined;
  }

  /** A neighbor entered Exchange: it receives our current LSAs in that exchange. */
  exchangeStarted(): void {
    this.lastExchangeStart = this.ctx.clock.now();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Runs a pass on the next tick; `soon` also replaces a retry armed further ahead. */
  schedule(soon = false): void {
    if (!this.host.running()) return;
    if (this.timer && soon) {
      // A MinLSInterval retry may be armed far ahead; reconcile re-arms it if still needed.
      this.timer.cancel();
      this.timer = undefined;
    }
    if (this.timer) return;
    // Coalesce a burst of state changes into one origination (same tick on a real clock).
    this.timer = this.ctx.clock.setTimer(0, () => {
      this.timer = undefined;
      this.reconcile(false);
    });
  }

  /**
   * Brings our LSAs in the LSDB to what we want: originate new or changed ones, flush the ones no
   * longer wanted (14.1). `force` ignores MinLSInterval (start and drain), not MinLSArrival.
   */
  reconcile(force: boolean): void {
    if (!this.host.running()) return;
    const { ctx } = this;
    const keys = new Set<string>();
    let retryIn = Number.POSITIVE_INFINITY;
    for (const d of this.host.wanted()) {
      const db = this.lsdbOf(d);
      const key = lsaKey({ type: d.type, id: d.id, advRouter: ctx.routerId });
      const k = `${d.area}|${key}`;
      keys.add(k);
      const have = db.get(key);
      if (
        have &&
        db.ageOf(have) < MAX_AGE &&
        sameLsaBody(have.lsa.body, d.body) &&
        have.lsa.header.options === d.options
      ) {
        this.fightBack.delete(k);
        continue;
      }
      const now = ctx.clock.now();
      const at = nextOriginationAt({
        now,
        lastOriginated: this.lastOriginated.get(k),
        unflooded: this.unflooded.has(k),
        lastExchangeStart: this.lastExchangeStart,
        force,
        fightBack: this.fightBack.has(k),
      });
      if (at > now) {
        retryIn = Math.min(retryIn, at - now);
        continue;
      }
      this.originate(d);
    }
    const areas = this.host.areas();
    for (const { area, db } of lsdbScopes(areas, ctx.asLsdb)) {
      for (const e of db.entries()) {
        if (!ctx.isSelfOriginated(e) || db.ageOf(e) >= MAX_AGE) continue;
        if (keys.has(`${area?.id ?? null}|${e.key}`)) continue;
        const a = floodingArea(areas, area);
        if (a) this.flush(a, e);
      }
    }
    if (retryIn < Number.POSITIVE_INFINITY) {
      this.timer?.cancel();
      this.timer = ctx.clock.setTimer(retryIn, () => {
        this.timer = undefined;
        this.reconcile(force);
      });
    }
  }

  /** RFC 2328 12.4 (1): LSRefreshTime reached: the same contents with the next sequence number. */
  refresh(area: string | null, key: string): void {
    const d = this.host
      .wanted()
      .find(
        (x) => x.area === area && lsaKey({ type: x.type, id: x.id, advRouter: this.ctx.routerId }) === key,
      );
    // Unwanted ones are flushed by reconcile instead.
    if (d) this.originate(d);
  }

  /** RFC 2328 13.4: bump past the received instance, or flush it if we no longer originate it. */
  selfOriginatedReceived(area: Area, entry: LsdbEntry): void {
    const h = entry.lsa.header;
    const want = this.host
      .wanted()
      .find((d) => d.type === h.type && d.id === h.id && (d.area === null || d.area === area.id));
    this.ctx.logger.info(
      { lsa: entry.key, seq: h.seq, keep: !!want },
      'ospf: own LSA from a previous instance',
    );
    if (want && h.advRouter === this.ctx.routerId) {
      // Supersede it at once, but after the rest of this packet: the same LS Update usually
      // completes Loading, and the new instance should already carry the Full adjacency. One
      // origination instead of two keeps the second from waiting MinLSInterval (5 s).
      this.fightBack.add(`${want.area}|${entry.key}`);
      this.schedule(true);
    } else if (h.age < MAX_AGE) this.flush(area, entry);
  }

  private lsdbOf(d: DesiredLsa): Lsdb {
    return d.area === null ? this.ctx.asLsdb : this.areaById(d.area)!.lsdb;
  }

  private areaById(id: string): Area | undefined {
    return this.host.areas().find((a) => a.id === id);
  }

  /** Some neighbor in the LSA's flooding scope is in Exchange or later (RFC 2328 13.3 (1)(a)). */
  private anyAdjacency(area: Area, type: number): boolean {
    return this.ctx
      .floodingInterfaces(area, type)
      .some((i) => [...i.neighbors.values()].some((n) => stateAtLeast(n.state, 'Exchange')));
  }

  /** Installs and floods a new instance with the next sequence number (RFC 2328 12.1.6). */
  private originate(d: DesiredLsa): void {
    const { ctx } = this;
    const db = this.lsdbOf(d);
    const key = lsaKey({ type: d.type, id: d.id, advRouter: ctx.routerId });
    const k = `${d.area}|${key}`;
    const have = db.get(key);
    const area = floodingArea(this.host.areas(), d.area === null ? undefined : this.areaById(d.area));
    if (!area) return;
    if (have && have.lsa.header.seq === MAX_SEQ) {
      // 12.1.6: at MaxSequenceNumber flush first; the sweep re-originates once it is gone.
      if (db.ageOf(have) < MAX_AGE) this.flush(area, have);
      return;
    }
    const seq = have ? have.lsa.header.seq + 1 : INITIAL_SEQ;
    const lsa: Lsa = {
      header: {
        age: 0,
        options: d.options,
        type: d.type,
        id: d.id,
        advRouter: ctx.routerId,
        seq,
        checksum: 0,
        length: 0,
      },
      body: d.body,
    };
    const bytes = encodeLsa(lsa);
    const installed = db.install(
      { ...lsa, header: { ...lsa.header, checksum: bytes.readUInt16BE(16), length: bytes.length } },
      bytes,
      false,
    );
    this.lastOriginated.set(k, ctx.clock.now());
    this.fightBack.delete(k);
    if (this.anyAdjacency(area, d.type)) this.unflooded.delete(k);
    else this.unflooded.add(k);
    if (have) removeFromAllRetransmits(ctx, area, key);
    ctx.logger.debug({ lsa: key, seq: `0x${(seq >>> 0).toString(16)}` }, 'ospf: originated');
    floodLsa(ctx, area, installed);
  }

  /** RFC 2328 14.1 premature aging: the same instance at MaxAge, flooded. */
  private flush(area: Area, e: LsdbEntry): void {
    const db = e.lsa.header.type === LsType.AsExternal ? this.ctx.asLsdb : area.lsdb;
    const bytes = Buffer.from(e.bytes);
    bytes.writeUInt16BE(MAX_AGE, 0);
    removeFromAllRetransmits(this.ctx, area, e.key);
    const aged = db.install({ ...e.lsa, header: { ...e.lsa.header, age: MAX_AGE } }, bytes, false);
    this.ctx.logger.debug({ lsa: e.key }, 'ospf: flushing');
    floodLsa(this.ctx, area, aged);
  }
}
