/**
 * The OSPFv2 speaker of one node (RFC 2328): interfaces, areas, the LSDBs, and the LSAs this
 * router originates — its router-LSA per area with the node's prefixes as stub links (or
 * AS-external-LSAs), a network-LSA when DR. Files: `packet/` and `lsa/` codecs, `interface.ts`
 * (ISM, Hello), `neighbor.ts` (NSM, DD, LSR), `flood.ts` (LSU/LSAck, flooding), `lsdb.ts`,
 * `originate.ts` (LSA contents), `socket.ts` (raw socket).
 *
 * Supported: RFC 2328 point-to-point and broadcast networks, stub areas, auth types 0/1/2 (MD5),
 * RFC 5709 HMAC-SHA-256. Not supported: NBMA, virtual links, SPF (a node announces, it does not
 * route on what it learns), NSSA.
 */
import type { OspfConfig, OspfInterfaceConfig } from '../config/ospf.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { formatAddress, formatPrefix, type Prefix } from '../net/prefix.js';
import {
  INITIAL_SEQ,
  LS_REFRESH_TIME,
  LsType,
  MAX_AGE,
  MAX_SEQ,
  MIN_LS_ARRIVAL,
  MIN_LS_INTERVAL,
  Options,
} from './constants.js';
import { type Area, makeArea, type OspfContext } from './context.js';
import { floodLsa } from './flood.js';
import { type InterfaceState, OspfInterface, type OspfSocket } from './interface.js';
import { lsaKey } from './lsa/header.js';
import { encodeLsa, type Lsa, type LsaBody } from './lsa/lsa.js';
import { Lsdb, type LsdbEntry } from './lsdb.js';
import { type Neighbor, type NeighborState, stateAtLeast } from './neighbor.js';
import { externalLsaBody, networkLsaBody, routerLsaBody } from './originate.js';
import { InterfaceNotReadyError, openOspfSocket } from './socket.js';

export interface OspfSpeakerOptions {
  routerId: string;
  config: OspfConfig;
  clock: Clock;
  logger: Logger;
  socketFactory?: (ifname: string) => OspfSocket /* injected in tests */;
}

export type OspfNeighborStatus = {
  routerId: string;
  address: string;
  state: NeighborState;
  priority: number;
  /** Seconds in Full, 0 otherwise. */
  uptimeSeconds: number;
  /** Our role in the last database exchange (RFC 2328 10.6), once negotiated. */
  ddRole: 'master' | 'slave' | null;
};

export type OspfInterfaceStatus = {
  name: string;
  state: InterfaceState;
  area: string;
  network: 'point-to-point' | 'broadcast';
  address: string;
  dr: string;
  bdr: string;
  neighbors: OspfNeighborStatus[];
};

export type OspfStatus = {
  routerId: string;
  interfaces: OspfInterfaceStatus[];
  /** Prefixes currently originated (stub links or AS-external-LSAs). */
  announced: string[];
  lsdbSize: number;
  /** Dropped packets and LSAs by reason (bad checksum, wrong area, auth, …). */
  dropped: Record<string, number>;
};

export type OspfDatabaseEntry = {
  /** Area ID, or null for AS-scope (AS-external) LSAs. */
  area: string | null;
  type: number;
  typeName: string;
  lsId: string;
  advRouter: string;
  /** Sequence number as the usual 0x8000000N hex. */
  seq: string;
  age: number;
  checksum: string;
  length: number;
  self: boolean;
  /** Router links, network routers, or the external prefix, for people. */
  detail: string;
};

const TYPE_NAMES: Record<number, string> = {
  1: 'router',
  2: 'network',
  3: 'summary-network',
  4: 'summary-asbr',
  5: 'as-external',
};

interface Desired {
  /** Area ID, or null for AS scope. */
  area: string | null;
  type: number;
  id: string;
  options: number;
  body: LsaBody;
}

const SWEEP_MS = 1000;

export class OspfSpeaker implements OspfContext {
  readonly routerId: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly asLsdb: Lsdb;
  private readonly config: OspfConfig;
  private readonly socketFactory: (ifname: string) => OspfSocket;
  private readonly areas = new Map<string, Area>();
  private readonly interfaces: OspfInterface[] = [];
  private desired: Prefix[] = [];
  private readonly drops = new Map<string, number>();
  private readonly lastOriginated = new Map<string, number>();
  /** `area|key` of own LSAs whose last instance was originated with no neighbor to flood to. */
  private readonly unflooded = new Set<string>();
  /** When a neighbor last entered Exchange (it gets our LSAs in the exchange that follows). */
  private lastExchangeStart = 0;
  /** `area|key` of own LSAs from a previous incarnation to supersede at once (RFC 2328 13.4). */
  private readonly fightBack = new Set<string>();
  private reconcileTimer: TimerHandle | undefined;
  private sweepTimer: TimerHandle | undefined;
  private running = false;
  private draining = false;
  /** Configured interfaces not up yet (no address, no carrier): retried every second. */
  private readonly pending = new Map<string, OspfInterfaceConfig>();
  private pendingTimer: TimerHandle | undefined;

  constructor(opts: OspfSpeakerOptions) {
    this.routerId = opts.routerId;
    this.config = opts.config;
    this.clock = opts.clock;
    this.logger = opts.logger.child({ proto: 'ospf' });
    this.asLsdb = new Lsdb(opts.clock);
    this.socketFactory =
      opts.socketFactory ??
      ((ifname) => {
        const c = this.config.interfaces.find((i) => i.name === ifname);
        return openOspfSocket(ifname, { broadcast: c?.network === 'broadcast' });
      });
  }

  // ===== public API =====

  async start(): Promise<void> {
    if (this.running) return;
    for (const ic of this.config.interfaces) {
      try {
        this.attach(ic);
      } catch (e) {
        if (e instanceof InterfaceNotReadyError) {
          this.logger.warn(
            { interface: ic.name, err: e.message },
            'interface not ready; stays Down, retrying',
          );
          this.pending.set(ic.name, ic);
          continue;
        }
        // Leave nothing half-open: the daemon reports the error and exits.
        await Promise.all(this.interfaces.map((i) => i.close()));
        this.interfaces.length = 0;
        this.areas.clear();
        throw e;
      }
    }
    this.running = true;
    for (const i of this.interfaces) i.up();
    this.reconcile(true);
    this.armSweep();
    this.armPending();
  }

  /** Opens the interface's socket and adds it to its area (throws if the socket cannot open). */
  private attach(ic: OspfInterfaceConfig): OspfInterface {
    const socket = this.socketFactory(ic.name);
    let area = this.areas.get(ic.area);
    if (!area) {
      const stub = this.config.areas.some((a) => a.id === ic.area && a.type === 'stub');
      area = makeArea(ic.area, stub, this.clock);
      this.areas.set(ic.area, area);
    }
    const iface = new OspfInterface(this, ic, area, socket);
    area.interfaces.push(iface);
    this.interfaces.push(iface);
    return iface;
  }

  /** RFC 2328 9.3 InterfaceUp, late: an interface that was down at start comes up when it can. */
  private armPending(): void {
    if (this.pending.size === 0 || this.pendingTimer) return;
    this.pendingTimer = this.clock.setTimer(1000, () => {
      this.pendingTimer = undefined;
      if (!this.running) return;
      for (const [name, ic] of this.pending) {
        try {
          const iface = this.attach(ic);
          this.pending.delete(name);
          this.logger.info({ interface: name }, 'interface ready');
          iface.up();
          this.reconcile(true);
        } catch (e) {
          if (!(e instanceof InterfaceNotReadyError)) {
            this.logger.error({ interface: name, err: (e as Error).message }, 'interface cannot come up');
          }
        }
      }
      this.armPending();
    });
  }

  setDesired(prefixes: readonly Prefix[]): void {
    this.desired = prefixes.filter((p) => p.family === 4);
    if (this.running) this.reconcile(false);
  }

  async stop(mode: { drain: boolean }): Promise<void> {
    if (!this.running) return;
    if (mode.drain) {
      // Drain (notes/ospf.md 9): withdraw the prefixes at once, give neighbors a moment to ack,
      // then a Hello listing nobody so they drop the adjacency without waiting for Dead.
      this.draining = true;
      this.reconcile(true);
      // Neighbors ack with a delay of about a second (RFC 2328 13.5; FRR and BIRD use 1 s).
      await this.waitForAcks(1200);
      for (const i of this.interfaces) i.flushDelayedAcks();
      for (const i of this.interfaces) if (i.state !== 'Down') i.sendGoodbyeHello();
    }
    this.running = false;
    this.reconcileTimer?.cancel();
    this.sweepTimer?.cancel();
    this.pendingTimer?.cancel();
    await Promise.all(this.interfaces.map((i) => i.close()));
  }

  status(): OspfStatus {
    const now = this.clock.now();
    return {
      routerId: this.routerId,
      interfaces: [
        ...this.interfaces.map((i) => ({
          name: i.name,
          state: i.state,
          area: i.area.id,
          network: i.config.network,
          address: i.address,
          dr: i.dr,
          bdr: i.bdr,
          neighbors: [...i.neighbors.values()].map((n) => ({
            routerId: n.routerId,
            address: n.address,
            state: n.state,
            priority: n.priority,
            uptimeSeconds: n.state === 'Full' ? Math.floor((now - n.fullSince) / 1000) : 0,
            ddRole: n.ddRole,
          })),
        })),
        // Interfaces waiting for an address or carrier are listed Down, as `show ip ospf interface` does.
        ...[...this.pending.values()].map(
          (ic): OspfInterfaceStatus => ({
            name: ic.name,
            state: 'Down',
            area: ic.area,
            network: ic.network,
            address: '0.0.0.0',
            dr: '0.0.0.0',
            bdr: '0.0.0.0',
            neighbors: [],
          }),
        ),
      ],
      announced: this.draining ? [] : this.desired.map(formatPrefix),
      lsdbSize: this.asLsdb.size + [...this.areas.values()].reduce((s, a) => s + a.lsdb.size, 0),
      dropped: Object.fromEntries([...this.drops].sort(([a], [b]) => a.localeCompare(b))),
    };
  }

  database(): OspfDatabaseEntry[] {
    const rows: OspfDatabaseEntry[] = [];
    const add = (area: string | null, db: Lsdb) => {
      for (const e of db.entries()) {
        const h = db.headerOf(e);
        rows.push({
          area,
          type: h.type,
          typeName: TYPE_NAMES[h.type] ?? `type-${h.type}`,
          lsId: h.id,
          advRouter: h.advRouter,
          seq: `0x${(h.seq >>> 0).toString(16).padStart(8, '0')}`,
          age: h.age,
          checksum: `0x${h.checksum.toString(16).padStart(4, '0')}`,
          length: h.length,
          self: this.isSelfOriginated(e),
          detail: describe(e.lsa),
        });
      }
    };
    for (const a of this.areas.values()) add(a.id, a.lsdb);
    add(null, this.asLsdb);
    return rows;
  }

  // ===== OspfContext =====

  count(reason: string): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }

  floodingInterfaces(area: Area, type: number): OspfInterface[] {
    if (type === LsType.AsExternal) return this.interfaces.filter((i) => !i.area.stub);
    return area.interfaces;
  }

  neighborChanged(_iface: OspfInterface, _nbr: Neighbor, from: NeighborState, to: NeighborState): void {
    if (to === 'Exchange') this.lastExchangeStart = this.clock.now();
    if (from === 'Full' || to === 'Full') this.scheduleReconcile();
  }

  interfaceChanged(_iface: OspfInterface): void {
    this.scheduleReconcile();
  }

  isSelfOriginated(entry: { lsa: { header: { type: number; id: string; advRouter: string } } }): boolean {
    const h = entry.lsa.header;
    if (h.advRouter === this.routerId) return true;
    return h.type === LsType.Network && this.interfaces.some((i) => i.address === h.id);
  }

  /** RFC 2328 13.4: bump past the received instance, or flush it if we no longer originate it. */
  selfOriginatedReceived(area: Area, entry: LsdbEntry): void {
    const h = entry.lsa.header;
    const want = this.desiredLsas().find(
      (d) => d.type === h.type && d.id === h.id && (d.area === null || d.area === area.id),
    );
    this.logger.info({ lsa: entry.key, seq: h.seq, keep: !!want }, 'ospf: own LSA from a previous instance');
    if (want && h.advRouter === this.routerId) {
      // Supersede it at once, but after the rest of this packet: the same LS Update usually
      // completes Loading, and the new instance should already carry the Full adjacency. One
      // origination instead of two keeps the second from waiting MinLSInterval (5 s).
      this.fightBack.add(`${want.area}|${entry.key}`);
      this.scheduleReconcile(true);
    } else if (h.age < MAX_AGE) this.flush(area, entry);
  }

  // ===== origination =====

  private areaOf(d: Desired): Area | undefined {
    return d.area === null ? undefined : this.areas.get(d.area);
  }

  private desiredLsas(): Desired[] {
    const out: Desired[] = [];
    const prefixes = this.draining ? [] : this.desired;
    const external = this.config.announceAs === 'external';
    const asbr = external && [...this.areas.values()].some((a) => !a.stub);
    for (const area of this.areas.values()) {
      const ifaces = area.interfaces;
      out.push({
        area: area.id,
        type: LsType.Router,
        id: this.routerId,
        options: area.stub ? 0 : Options.E,
        body: routerLsaBody(ifaces, external ? [] : prefixes, this.config.metric, asbr && !area.stub),
      });
      for (const i of ifaces) {
        const body = networkLsaBody(i, this.routerId);
        if (body) {
          out.push({
            area: area.id,
            type: LsType.Network,
            id: i.address,
            options: area.stub ? 0 : Options.E,
            body,
          });
        }
      }
    }
    if (asbr) {
      for (const p of prefixes) {
        out.push({
          area: null,
          type: LsType.AsExternal,
          id: formatAddress(p.bytes),
          options: Options.E,
          body: externalLsaBody(
            p,
            this.config.metric,
            this.config.externalMetricType,
            this.config.externalTag,
          ),
        });
      }
    }
    return out;
  }

  private scheduleReconcile(soon = false): void {
    if (!this.running) return;
    if (this.reconcileTimer && soon) {
      // A MinLSInterval retry may be armed far ahead; reconcile re-arms it if still needed.
      this.reconcileTimer.cancel();
      this.reconcileTimer = undefined;
    }
    if (this.reconcileTimer) return;
    // Coalesce a burst of state changes into one origination (same tick on a real clock).
    this.reconcileTimer = this.clock.setTimer(0, () => {
      this.reconcileTimer = undefined;
      this.reconcile(false);
    });
  }

  /**
   * Brings our LSAs in the LSDB to what we want: originate new or changed ones (at most one per
   * MinLSInterval each, RFC 2328 12.4), flush the ones no longer wanted (14.1).
   * `force` ignores MinLSInterval (start and drain).
   */
  private reconcile(force: boolean): void {
    if (!this.running) return;
    const wanted = this.desiredLsas();
    const keys = new Set<string>();
    let retryIn = Number.POSITIVE_INFINITY;
    for (const d of wanted) {
      const db = this.lsdbOf(d);
      const key = lsaKey({ type: d.type, id: d.id, advRouter: this.routerId });
      keys.add(`${d.area}|${key}`);
      const have = db.get(key);
      if (
        have &&
        db.ageOf(have) < MAX_AGE &&
        sameBody(have.lsa.body, d.body) &&
        have.lsa.header.options === d.options
      ) {
        this.fightBack.delete(`${d.area}|${key}`);
        continue;
      }
      const last = this.lastOriginated.get(`${d.area}|${key}`);
      // MinLSInterval (RFC 2328 12.4); even a forced origination keeps MinLSArrival from the
      // previous one, or neighbors silently discard it (13 (5)(a); observed with FRR).
      // An instance originated while no neighbor was in Exchange or later was flooded to nobody:
      // MinLSInterval protects neighbors from floods, so it does not start that clock. Neighbors
      // still got it in their database exchange, and drop a newer one within MinLSArrival of that;
      // so wait 1 s from the latest exchange start instead. Without this, the instance with the
      // first adjacency (at start) waited 5 s behind the one made before it (bench/ospf-converge.ts).
      const k = `${d.area}|${key}`;
      const unflooded = this.unflooded.has(k);
      // (The neighbor may request our LSA a little after the exchange starts: 250 ms margin.)
      const spacing = unflooded
        ? MIN_LS_ARRIVAL * 1000 + 250
        : (force ? MIN_LS_ARRIVAL : MIN_LS_INTERVAL) * 1000;
      const since = unflooded ? Math.max(last ?? 0, this.lastExchangeStart) : last;
      // 13.4 fight-back is not held to MinLSInterval: the neighbor holds the stale instance, not
      // one we originated lately, so MinLSArrival there does not apply either.
      const fight = this.fightBack.has(k);
      const wait = since === undefined || fight ? 0 : since + spacing - this.clock.now();
      if (wait > 0) {
        retryIn = Math.min(retryIn, wait);
        continue;
      }
      this.originate(d);
    }
    const scopes: [Area | undefined, Lsdb][] = [
      ...[...this.areas.values()].map((a): [Area, Lsdb] => [a, a.lsdb]),
      [undefined, this.asLsdb],
    ];
    for (const [area, db] of scopes) {
      for (const e of db.entries()) {
        if (!this.isSelfOriginated(e) || db.ageOf(e) >= MAX_AGE) continue;
        if (keys.has(`${area?.id ?? null}|${e.key}`)) continue;
        const a = area ?? [...this.areas.values()].find((x) => !x.stub);
        if (a) this.flush(a, e);
      }
    }
    if (retryIn < Number.POSITIVE_INFINITY) {
      this.reconcileTimer?.cancel();
      this.reconcileTimer = this.clock.setTimer(retryIn, () => {
        this.reconcileTimer = undefined;
        this.reconcile(force);
      });
    }
  }

  /** Some neighbor in the LSA's flooding scope is in Exchange or later (RFC 2328 13.3 (1)(a)). */
  private anyAdjacency(area: Area, type: number): boolean {
    return this.floodingInterfaces(area, type).some((i) =>
      [...i.neighbors.values()].some((n) => stateAtLeast(n.state, 'Exchange')),
    );
  }

  private lsdbOf(d: Desired): Lsdb {
    return d.area === null ? this.asLsdb : this.areas.get(d.area)!.lsdb;
  }

  /** Installs and floods a new instance with the next sequence number (RFC 2328 12.1.6). */
  private originate(d: Desired): void {
    const db = this.lsdbOf(d);
    const key = lsaKey({ type: d.type, id: d.id, advRouter: this.routerId });
    const have = db.get(key);
    const area = this.areaOf(d) ?? [...this.areas.values()].find((a) => !a.stub);
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
        advRouter: this.routerId,
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
    this.lastOriginated.set(`${d.area}|${key}`, this.clock.now());
    this.fightBack.delete(`${d.area}|${key}`);
    if (this.anyAdjacency(area, d.type)) this.unflooded.delete(`${d.area}|${key}`);
    else this.unflooded.add(`${d.area}|${key}`);
    if (have) this.removeFromRetransmits(area, key);
    this.logger.debug({ lsa: key, seq: `0x${(seq >>> 0).toString(16)}` }, 'ospf: originated');
    floodLsa(this, area, installed);
  }

  /** RFC 2328 14.1 premature aging: the same instance at MaxAge, flooded. */
  private flush(area: Area, e: LsdbEntry): void {
    const db = e.lsa.header.type === LsType.AsExternal ? this.asLsdb : area.lsdb;
    const bytes = Buffer.from(e.bytes);
    bytes.writeUInt16BE(MAX_AGE, 0);
    this.removeFromRetransmits(area, e.key);
    const aged = db.install({ ...e.lsa, header: { ...e.lsa.header, age: MAX_AGE } }, bytes, false);
    this.logger.debug({ lsa: e.key }, 'ospf: flushing');
    floodLsa(this, area, aged);
  }

  private removeFromRetransmits(area: Area, key: string): void {
    for (const i of this.floodingInterfaces(area, Number(key.split('/')[0]))) {
      for (const n of i.neighbors.values()) n.removeRetransmit(key);
    }
  }

  // ===== aging (RFC 2328 14) =====

  private armSweep(): void {
    this.sweepTimer = this.clock.setTimer(SWEEP_MS, () => {
      this.sweep();
      if (this.running) this.armSweep();
    });
  }

  /**
   * Once a second: refresh our LSAs at LSRefreshTime (12.4), flood LSAs that reached MaxAge and
   * remove MaxAge LSAs nobody still has to acknowledge (14).
   */
  private sweep(): void {
    let reoriginate = false;
    const exchanging = this.interfaces.some((i) =>
      [...i.neighbors.values()].some((n) => n.state === 'Exchange' || n.state === 'Loading'),
    );
    const scopes: [Area | undefined, Lsdb][] = [
      ...[...this.areas.values()].map((a): [Area, Lsdb] => [a, a.lsdb]),
      [undefined, this.asLsdb],
    ];
    for (const [maybeArea, db] of scopes) {
      const area = maybeArea ?? [...this.areas.values()].find((x) => !x.stub);
      if (!area) continue;
      for (const e of db.entries()) {
        const age = db.ageOf(e);
        const self = this.isSelfOriginated(e);
        if (age < MAX_AGE) {
          if (self && age >= LS_REFRESH_TIME) {
            // 12.4 (1) refresh: same contents, next sequence number (unwanted ones are flushed
            // by reconcile instead).
            const d = this.desiredLsas().find(
              (x) =>
                x.area === (maybeArea?.id ?? null) &&
                lsaKey({ type: x.type, id: x.id, advRouter: this.routerId }) === e.key,
            );
            if (d) this.originate(d);
          }
          continue;
        }
        if (e.lsa.header.age < MAX_AGE && !self) {
          // Aged out while held: flood the MaxAge instance once so others drop it too.
          const aged = Buffer.from(e.bytes);
          aged.writeUInt16BE(MAX_AGE, 0);
          floodLsa(
            this,
            area,
            db.install({ ...e.lsa, header: { ...e.lsa.header, age: MAX_AGE } }, aged, false),
          );
          continue;
        }
        const pending = this.floodingInterfaces(area, e.lsa.header.type).some((i) =>
          [...i.neighbors.values()].some((n) => n.retransmitting(e.key)),
        );
        if (!pending && !exchanging) {
          db.remove(e.key);
          if (self) reoriginate = true;
        }
      }
    }
    if (reoriginate && !this.draining) this.reconcile(false);
  }

  /** True while a withdrawal waits for its origination slot or for acknowledgments. */
  private retransmitsPending(): boolean {
    if (this.reconcileTimer) return true;
    return this.interfaces.some((i) => [...i.neighbors.values()].some((n) => n.rxmt.size > 0));
  }

  private waitForAcks(maxMs: number): Promise<void> {
    return new Promise((resolve) => {
      const start = this.clock.now();
      const poll = () => {
        if (!this.retransmitsPending() || this.clock.now() - start >= maxMs) resolve();
        else this.clock.setTimer(20, poll);
      };
      poll();
    });
  }
}

function sameBody(a: LsaBody, b: LsaBody): boolean {
  return encodeLsaBodyKey(a) === encodeLsaBodyKey(b);
}

function encodeLsaBodyKey(b: LsaBody): string {
  return JSON.stringify(b, (_k, v) => (Buffer.isBuffer(v) ? v.toString('hex') : v));
}

function describe(lsa: Lsa): string {
  const b = lsa.body;
  switch (b.kind) {
    case 'router':
      return b.links
        .map(
          (l) =>
            `${['', 'p2p', 'transit', 'stub', 'virtual'][l.type] ?? l.type} ${l.linkId}/${l.linkData} ${l.metric}`,
        )
        .join(', ');
    case 'network':
      return `mask ${b.mask} routers ${b.routers.join(' ')}`;
    case 'summary':
      return `mask ${b.mask} metric ${b.metric}`;
    case 'external':
      return `${lsa.header.id} mask ${b.mask} E${b.metricType} metric ${b.metric} tag ${b.tag}`;
    case 'unknown':
      return `${b.bytes.length} bytes`;
  }
}
