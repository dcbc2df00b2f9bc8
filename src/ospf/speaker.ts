/**
 * The OSPFv2 speaker of one node (RFC 2328): its areas and interfaces, and the lifecycle around
 * them — interfaces opened at start (and retried while they have no address or carrier), the
 * graceful drain at stop, the instance context the state machines report to. It announces the
 * node's prefixes as stub links in its router-LSA per area (or as AS-external-LSAs) and a
 * network-LSA when DR.
 *
 * Files: `packet/` and `lsa/` codecs; `states.ts` (state and event names); `context.ts` (what
 * the machines need from the instance, areas, scopes); `neighbor.ts` (NSM, DD, LSR);
 * `interface.ts` (ISM, Hello, sending); `flood.ts` (LSU/LSAck, flooding); `receive.ts` (8.2
 * checks, authentication, dispatch); `originate.ts` (which LSAs, their contents);
 * `origination.ts` and `origination-timing.ts` (when and how they go out); `aging.ts` (14);
 * `status.ts` (status and LSDB views); `lsdb.ts`; `election.ts` (9.4); `socket.ts` (raw socket).
 *
 * Supported: RFC 2328 point-to-point and broadcast networks, stub areas, auth types 0/1/2 (MD5),
 * RFC 5709 HMAC-SHA-256. Not supported: NBMA, virtual links, SPF (a node announces, it does not
 * route on what it learns), NSSA.
 */
import type { OspfConfig, OspfInterfaceConfig } from '../config/ospf.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { formatPrefix, type Prefix } from '../net/prefix.js';
import { SWEEP_MS, sweepLsdbs } from './aging.js';
import { LsType } from './constants.js';
import { type Area, makeArea } from './context.js';
import type { FloodContext } from './flood.js';
import { OspfInterface, type OspfSocket } from './interface.js';
import { Lsdb, type LsdbEntry } from './lsdb.js';
import { type DesiredLsa, desiredLsas } from './originate.js';
import { Origination } from './origination.js';
import { listen } from './receive.js';
import { InterfaceNotReadyError, openOspfSocket } from './socket.js';
import type { NeighborState } from './states.js';
import { databaseView, type OspfDatabaseEntry, type OspfStatus, statusView } from './status.js';

export type { OspfDatabaseEntry, OspfInterfaceStatus, OspfNeighborStatus, OspfStatus } from './status.js';

export interface OspfSpeakerOptions {
  routerId: string;
  config: OspfConfig;
  clock: Clock;
  logger: Logger;
  socketFactory?: (ifname: string) => OspfSocket /* injected in tests */;
}

export class OspfSpeaker implements FloodContext {
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
  private readonly origination: Origination;
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
    this.origination = new Origination({
      ctx: this,
      areas: () => this.areaList(),
      wanted: () => this.wanted(),
      running: () => this.running,
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
    for (const i of this.interfaces) i.event('InterfaceUp');
    this.origination.reconcile(true);
    this.armSweep();
    this.armPending();
  }

  setDesired(prefixes: readonly Prefix[]): void {
    this.desired = prefixes.filter((p) => p.family === 4);
    if (this.running) this.origination.reconcile(false);
  }

  async stop(mode: { drain: boolean }): Promise<void> {
    if (!this.running) return;
    if (mode.drain) {
      // Drain: withdraw the prefixes at once, give neighbors a moment to ack, then a Hello
      // listing nobody so they drop the adjacency without waiting for RouterDeadInterval.
      this.draining = true;
      this.origination.reconcile(true);
      // Neighbors ack with a delay of about a second (RFC 2328 13.5; FRR and BIRD use 1 s).
      await this.waitForAcks(1200);
      for (const i of this.interfaces) i.flushDelayedAcks();
      for (const i of this.interfaces) if (i.state !== 'Down') i.sendGoodbyeHello();
    }
    this.running = false;
    this.origination.stop();
    this.sweepTimer?.cancel();
    this.pendingTimer?.cancel();
    await Promise.all(this.interfaces.map((i) => i.close()));
  }

  status(): OspfStatus {
    return statusView({
      routerId: this.routerId,
      now: this.clock.now(),
      interfaces: this.interfaces,
      waiting: [...this.pending.values()],
      announced: this.draining ? [] : this.desired.map(formatPrefix),
      areas: this.areaList(),
      asLsdb: this.asLsdb,
      drops: this.drops,
    });
  }

  database(): OspfDatabaseEntry[] {
    return databaseView(this.areaList(), this.asLsdb, (e) => this.isSelfOriginated(e));
  }

  // ===== interfaces =====

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
    listen(this, iface);
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
          iface.event('InterfaceUp');
          this.origination.reconcile(true);
        } catch (e) {
          if (!(e instanceof InterfaceNotReadyError)) {
            this.logger.error({ interface: name, err: (e as Error).message }, 'interface cannot come up');
          }
        }
      }
      this.armPending();
    });
  }

  private areaList(): Area[] {
    return [...this.areas.values()];
  }

  private interfacesOf(area: Area): OspfInterface[] {
    return this.interfaces.filter((i) => i.area === area);
  }

  /** What we originate now: nothing of the node's prefixes while draining. */
  private wanted(): DesiredLsa[] {
    const areas = this.areaList().map((area) => ({ area, interfaces: this.interfacesOf(area) }));
    return desiredLsas(this.routerId, this.config, areas, this.draining ? [] : this.desired);
  }

  // ===== instance context (for the state machines and flooding) =====

  count(reason: string): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }

  floodingInterfaces(area: Area, type: number): OspfInterface[] {
    if (type === LsType.AsExternal) return this.interfaces.filter((i) => !i.area.stub);
    return this.interfacesOf(area);
  }

  neighborChanged(_iface: string, _routerId: string, from: NeighborState, to: NeighborState): void {
    if (to === 'Exchange') this.origination.exchangeStarted();
    if (from === 'Full' || to === 'Full') this.origination.schedule();
  }

  interfaceChanged(_iface: string): void {
    this.origination.schedule();
  }

  isSelfOriginated(entry: { lsa: { header: { type: number; id: string; advRouter: string } } }): boolean {
    const h = entry.lsa.header;
    if (h.advRouter === this.routerId) return true;
    return h.type === LsType.Network && this.interfaces.some((i) => i.address === h.id);
  }

  selfOriginatedReceived(area: Area, entry: LsdbEntry): void {
    this.origination.selfOriginatedReceived(area, entry);
  }

  // ===== aging and drain =====

  private armSweep(): void {
    this.sweepTimer = this.clock.setTimer(SWEEP_MS, () => {
      const ownRemoved = sweepLsdbs({
        ctx: this,
        areas: () => this.areaList(),
        interfaces: () => this.interfaces,
        refresh: (area, key) => this.origination.refresh(area, key),
      });
      if (ownRemoved && !this.draining) this.origination.reconcile(false);
      if (this.running) this.armSweep();
    });
  }

  /** True while a withdrawal waits for its origination slot or for acknowledgments. */
  private retransmitsPending(): boolean {
    if (this.origination.scheduled) return true;
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
