/**
 * The BGP speaker: all configured peers (a node usually has two leafs), the listener for passive
 * peers, and per peer an Adj-RIB-Out reconciled from the desired prefix set and an Adj-RIB-In
 * filtered by the accept policy.
 *
 * File map: `fsm.ts` RFC 4271 8 state machine; `session.ts` one peer, its inputs queued as events
 * (`session-events.ts`) and processed one at a time (`session-process.ts`, `session-core.ts`), per
 * connection `attempt.ts` and `update-pump.ts` (with `negotiate.ts`, `collision.ts`, `timers.ts`,
 * `backoff.ts`, `transport.ts`); `speaker-peer.ts` one peer and its status row; `deliberate-stop.ts` drain and removal; `adj-rib-out.ts`,
 * `outbound.ts`, `update-builder.ts`, `next-hops.ts` what we send; `adj-rib-in.ts`, `policy.ts` what we keep,
 * `learned-handover.ts` what the route programmer gets of it; `listener.ts`
 * incoming connections; `message/` the codecs. Graceful restart: `graceful-restart.ts` the rules,
 * `stale-routes.ts` helper mode per peer, `restart-sync.ts` the restarting side.
 *
 * Supported: RFC 4271 (BGP-4), RFC 4760 (IPv6 unicast via MP_REACH), RFC 6793 (4-octet AS),
 * RFC 2918 (route refresh: we re-send), RFC 4724 End-of-RIB after each initial dump, RFC 4486
 * (maximum prefixes Cease), RFC 9003 (shutdown communication), RFC 7606 (treat-as-withdraw),
 * RFC 6608 (FSM error subcodes), RFC 4724 graceful restart (restarting speaker and helper) with
 * RFC 8538 (N bit, Hard Reset), RFC 2385 TCP MD5 and RFC 5082 GTSM (on the transport's sockets),
 * RFC 8212 per-peer export/import policy with an explicit default (`policy/`). Not supported:
 * ADD-PATH, long-lived graceful restart.
 *
 * Longer than most files (about 490 lines) on purpose: this is the one place where a peer's
 * lifecycle (configured, started, reloaded, drained, removed) meets its session hooks and both
 * RIBs. The per-peer pieces live in the files above (`outbound.ts`, `deliberate-stop.ts`,
 * `stale-routes.ts`, `restart-sync.ts`, `speaker-peer.ts`); what is left reads and changes the
 * peer list, and split further each part would reach into the others' private state.
 */
import type { BgpPeerConfig } from '../config/bgp.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { formatAddress, type Prefix, parseAddress } from '../net/prefix.js';
import type { LearnedChange } from '../routes/learned-table.js';
import type { ShownOnlyRoutes } from '../routes/learned-view.js';
import type { ReceivedRoute } from './adj-rib-in.js';
import type { RouteTags } from './communities.js';
import { closedWithin, gracefulShutdown } from './deliberate-stop.js';
import { type LocalGracefulRestart, restartNotification, type SessionEnd } from './graceful-restart.js';
import { LearnedHandover, type LearnedPeerRoutes, learnedPeers } from './learned-handover.js';
import { PeerListener } from './listener.js';
import { endOfRib, isEndOfRib, truncateUtf8, type UpdateMessage } from './message/index.js';
import { Afi, CeaseSubcode, ErrorCode } from './message/types.js';
import { IPV4_UNICAST, IPV6_UNICAST } from './negotiate.js';
import { Outbound } from './outbound.js';
import { type RestartFlags, type RestartStatus, RestartSync } from './restart-sync.js';
import { Session } from './session.js';
import { peerSecurity } from './socket-options.js';
import { type BgpPeerStatus, Peer } from './speaker-peer.js';
import { NetTransport, type TransportFactory } from './transport.js';

export interface BgpSpeakerOptions {
  asn: number;
  routerId: string;
  peers: BgpPeerConfig[];
  listenPort: number;
  clock: Clock;
  logger: Logger;
  /** Injected in tests; default node:net. */
  transport?: TransportFactory;
  /** Address to listen on; default all ('::', else '0.0.0.0'). Tests pass '127.0.0.1'. */
  listenAddress?: string;
  /** First reconnect delay in ms (default 100) and jitter source (null = none), for tests. */
  backoffInitialMs?: number;
  random?: (() => number) | null;
  /** bgp.gracefulRestart: advertise the capability (RFC 4724 3) to every peer not opted out. */
  gracefulRestart?: { readonly restartTime: number };
  /**
   * The kernel routes of a previous podroute are still in place (this is a restart): OPENs carry
   * the R and F bits until every peer re-sent its routes (RFC 4724 3, 4.1).
   */
  forwardingPreserved?: boolean;
  /** bgp.communities / bgp.largeCommunities: on every route to every peer. */
  communities?: RouteTags;
  /** bgp.gracefulShutdown.wait in seconds (RFC 8326): 0 or absent = withdraw at once. */
  gracefulShutdownWait?: number;
}

export type { BgpPeerGracefulRestart, BgpPeerStatus } from './speaker-peer.js';

export type BgpStatus = {
  asn: number;
  peers: BgpPeerStatus[];
  /** Port the listener is bound to, or null when not listening. */
  listenPort: number | null;
  /** Connections refused because their source is not a configured peer. */
  unknownConnections: number;
  /** Present with bgp.gracefulRestart: the restarting side's wait for the peers' End-of-RIB. */
  gracefulRestart?: RestartStatus;
};

export type { LearnedPeerRoutes } from './learned-handover.js';

function canonicalAddress(addr: string): string {
  try {
    return formatAddress(parseAddress(addr));
  } catch {
    return addr;
  }
}

export class BgpSpeaker {
  private readonly peers: Peer[] = [];
  private readonly byAddress = new Map<string, Peer>();
  private readonly transport: TransportFactory;
  private readonly log: Logger;
  /** What we send: the desired set, its communities, each peer's Adj-RIB-Out reconcile. */
  private readonly out: Outbound;
  private listener: PeerListener | undefined;
  private started = false;
  private readonly receivedListeners: ((peerDown: boolean) => void)[] = [];
  private readonly stateListeners: ((
    address: string,
    state: BgpPeerStatus['state'],
    local?: string,
  ) => void)[] = [];
  private readonly restartSync: RestartSync | undefined;
  /** What OPENs offer for graceful restart (shared: RestartSync updates it in place). */
  private readonly grFlags: RestartFlags | undefined;
  /** What the route programmer gets of the kept routes: differences, nothing for `install: false`. */
  private readonly handover: LearnedHandover;

  constructor(private readonly opts: BgpSpeakerOptions) {
    this.transport = opts.transport ?? new NetTransport();
    // RFC 2385 keys and RFC 5082 TTLs go on the sockets; the transport never logs them.
    for (const cfg of opts.peers) this.transport.setPeerSecurity?.(cfg.address, peerSecurity(cfg));
    this.log = opts.logger;
    this.out = new Outbound(opts.asn, opts.communities, opts.logger);
    this.handover = new LearnedHandover(() => this.peers, opts.asn);
    const gr = opts.gracefulRestart;
    const preserved = opts.forwardingPreserved === true;
    // What every OPEN offers; RestartSync clears R and sets F in place once the restart is over.
    const flags: RestartFlags | undefined = gr
      ? { restartTime: gr.restartTime, restarting: preserved, forwardingPreserved: preserved }
      : undefined;
    this.grFlags = flags;
    for (const cfg of opts.peers) this.createPeer(cfg);
    if (flags) {
      const awaited = this.peers.filter((p) => p.gracefulRestart).map((p) => p.config.address);
      this.restartSync = new RestartSync(awaited, opts.clock, flags);
    }
  }

  /** One configured peer and its session, not started. */
  private createPeer(cfg: BgpPeerConfig): Peer {
    const local: LocalGracefulRestart | undefined = cfg.gracefulRestart ? this.grFlags : undefined;
    const peer = new Peer(cfg, this.opts.asn, this.opts.clock, this.opts.logger, local, () =>
      this.receivedChanged(true),
    );
    peer.session = new Session({
      peer: cfg,
      local: {
        asn: this.opts.asn,
        routerId: this.opts.routerId,
        holdTime: cfg.holdTime,
        families: [IPV4_UNICAST, IPV6_UNICAST],
        ...(local ? { gracefulRestart: local } : {}),
      },
      clock: this.opts.clock,
      logger: this.opts.logger,
      transport: this.transport,
      backoffInitialMs: this.opts.backoffInitialMs,
      random: this.opts.random,
      hooks: {
        established: () => this.onEstablished(peer),
        down: (_s, end) => this.onDown(peer, end),
        update: (_s, u) => this.onUpdate(peer, u),
        routeRefresh: () => this.onRouteRefresh(peer),
        stateChange: (s, _from, to) => {
          for (const fn of this.stateListeners) fn(cfg.address, to, s.localAddress);
        },
      },
    });
    this.peers.push(peer);
    this.byAddress.set(canonicalAddress(cfg.address), peer);
    return peer;
  }

  /**
   * `fn` runs once when every peer with graceful restart sent End-of-RIB for each of its families,
   * or the restart time passed (RFC 4724 4.1): what a previous process left and nobody re-sent can
   * go. Without bgp.gracefulRestart it runs at once.
   */
  onRibSynced(fn: () => void): void {
    if (this.restartSync) this.restartSync.onSynced(fn);
    else fn();
  }

  /**
   * Listens (when a passive peer needs it and listenPort > 0), then starts every peer. Rejects with
   * a clear message when the port cannot be bound.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const needListener = this.opts.listenPort > 0 && this.peers.some((p) => p.config.passive);
    if (needListener) {
      await this.listen();
    } else if (this.peers.some((p) => p.config.passive)) {
      this.log.warn({}, 'passive BGP peers configured but bgp.listenPort is 0: they can never connect');
    }
    for (const p of this.peers) {
      p.silence.start();
      p.session.start();
    }
  }

  /** The set of prefixes to announce; each Established peer gets only the difference. */
  setDesired(prefixes: readonly Prefix[]): void {
    this.out.setDesired(prefixes);
    this.reconcileAll();
  }

  /**
   * drain: withdraw everything we announced, then Cease / Administrative Shutdown with `message`
   * (RFC 9003; as Hard Reset where the N bit was negotiated, RFC 8538 5.1). Otherwise the restart
   * exit: close the graceful way (`restartNotification`: Cease / Administrative Reset with the N bit,
   * else no NOTIFICATION), so the peers keep our routes (RFC 4724 4.2). Resolves when all peers are
   * down or after 2 s.
   */
  async stop(mode: { drain: boolean; message?: string }): Promise<void> {
    if (mode.drain) await this.gracefulShutdown(this.peers);
    const drain = {
      code: ErrorCode.Cease,
      subcode: CeaseSubcode.AdministrativeShutdown,
      ...(mode.message ? { shutdownMessage: truncateUtf8(mode.message) } : {}),
    };
    this.restartSync?.cancel();
    const stops = this.peers.map((peer) => {
      peer.stale.cancel();
      if (mode.drain && peer.session.state === 'Established') this.out.withdrawAll(peer);
      const gr = peer.session.negotiated?.gracefulRestart;
      return peer.session.stop(mode.drain ? drain : restartNotification(gr, mode.message));
    });
    if (await closedWithin(this.opts.clock, stops)) this.log.warn({}, 'BGP peers did not close within 2 s');
    // A peer that stopped reading keeps its socket half-open: cut it.
    for (const peer of this.peers) if (peer.session.state !== 'Idle') peer.session.abort();
    await this.listener?.close();
  }

  /**
   * Per-prefix communities (the `announce` entries that give some); a change is sent to every
   * Established peer as UPDATEs of the prefixes it concerns.
   */
  setPrefixTags(tags: ReadonlyMap<string, RouteTags>): void {
    this.out.setPrefixTags(tags);
    this.reconcileAll();
  }

  /**
   * Takes one peer down on purpose and forgets it (a peer removed from the configuration): RFC 8326
   * re-announce with GRACEFUL_SHUTDOWN and the configured wait, then withdraw and Cease /
   * Administrative Shutdown (RFC 4486 4) with `message`. False for an unknown peer.
   */
  async removePeer(address: string, message?: string): Promise<boolean> {
    const key = canonicalAddress(address);
    const peer = this.byAddress.get(key);
    if (!peer) return false;
    await this.gracefulShutdown([peer]);
    if (peer.session.state === 'Established') this.out.withdrawAll(peer);
    peer.stale.cancel();
    const stopped = peer.session.stop({
      code: ErrorCode.Cease,
      subcode: CeaseSubcode.AdministrativeShutdown,
      ...(message ? { shutdownMessage: truncateUtf8(message) } : {}),
    });
    // As in stop(): a peer that stopped reading must not hold a reload up; its socket is cut.
    await closedWithin(this.opts.clock, [stopped]);
    if (peer.session.state !== 'Idle') peer.session.abort();
    this.out.shuttingDown.delete(peer);
    this.byAddress.delete(key);
    this.peers.splice(this.peers.indexOf(peer), 1);
    // Its MD5 key and TTL floor leave the listener and later connects (reload: a removed peer).
    this.transport.setPeerSecurity?.(address, undefined);
    return true;
  }

  /** RFC 8326 4 before a deliberate withdrawal, with bgp.gracefulShutdown.wait (`deliberate-stop.ts`). */
  private gracefulShutdown(peers: readonly Peer[]): Promise<void> {
    const wait = this.opts.gracefulShutdownWait ?? 0;
    return gracefulShutdown(peers, this.out, wait, this.opts.clock, this.log);
  }

  status(): BgpStatus {
    return {
      asn: this.opts.asn,
      peers: this.peers.map((p) => p.status()),
      listenPort: this.listener?.port ?? null,
      unknownConnections: this.listener?.unknownConnections ?? 0,
      ...(this.restartSync ? { gracefulRestart: this.restartSync.status() } : {}),
    };
  }

  /** Routes kept from the peers (accept policy), for route programming and tests. */
  receivedRoutes(address?: string): ReceivedRoute[] {
    const peers = address ? [this.byAddress.get(canonicalAddress(address))] : this.peers;
    return peers.flatMap((p) => p?.ribIn.routes() ?? []);
  }

  /**
   * `fn(peerDown)` runs after the kept routes changed: `true` when a peer's whole table went at
   * once (session down), `false` for an UPDATE (callers coalesce those: a full table is many).
   */
  onReceivedChange(fn: (peerDown: boolean) => void): void {
    this.receivedListeners.push(fn);
  }

  /**
   * Per peer with kept routes, what route selection needs: the session's facts and the routes. A
   * peer restarting under graceful restart is here too, with its stale routes (RFC 4724 4.2: they
   * keep forwarding until swept).
   */
  learnedPeers(): LearnedPeerRoutes[] {
    return learnedPeers(this.peers, this.opts.asn);
  }

  /** The kept routes' changes since the last call (one reader: the route programmer's feed). */
  learnedChanges(): LearnedChange[] {
    return this.handover.changes();
  }

  /** The `install: false` peers' kept paths, read in place for the status view. */
  get shownRoutes(): ShownOnlyRoutes {
    return this.handover.shown;
  }

  /** `fn(address, state, localAddress)` after each FSM state change of a peer's session (e.g. for BFD). */
  onPeerState(fn: (address: string, state: BgpPeerStatus['state'], localAddress?: string) => void): void {
    this.stateListeners.push(fn);
  }

  /**
   * The forwarding path to a peer failed (BFD, RFC 5882 10.2): its session goes down at once, Event 8
   * AutomaticStop with Cease / BFD Down (RFC 9384). With `hold` it then stays Idle (a ManualStop, no
   * reconnect, incoming connections refused) until `resumePeer`. False for an unknown peer.
   */
  pathDown(address: string, reason: string, hold: boolean): boolean {
    const peer = this.byAddress.get(canonicalAddress(address));
    if (!peer || !this.started) return false;
    peer.session.automaticStop({ code: ErrorCode.Cease, subcode: CeaseSubcode.BfdDown }, reason);
    if (hold) void peer.session.stop(null);
    return true;
  }

  /** Ends the `hold` of pathDown: the peer connects (or listens) again (Event 1 ManualStart). */
  resumePeer(address: string): void {
    const peer = this.byAddress.get(canonicalAddress(address));
    if (peer && this.started) peer.session.start();
  }
  /**
   * Reload: a peer added to the configuration. Its TCP protections go on the transport first, then
   * it starts at once when the speaker runs (with the listener, when it is the first passive peer).
   */
  async addPeer(cfg: BgpPeerConfig): Promise<void> {
    if (this.byAddress.has(canonicalAddress(cfg.address))) throw new Error(`BGP peer ${cfg.address} exists`);
    this.transport.setPeerSecurity?.(cfg.address, peerSecurity(cfg));
    const peer = this.createPeer(cfg);
    if (!this.started) return;
    if (cfg.passive && !this.listener && this.opts.listenPort > 0) await this.listen();
    peer.silence.start();
    peer.session.start();
  }

  /**
   * Reload: new settings for a peer that need no new session (src/config/diff.ts): `exports` and
   * `resend` reconcile its Adj-RIB-Out (`resend` sends every route again, new attributes replacing
   * the old ones, RFC 4271 3.1); `imports` filters the kept routes again and asks the peer for its
   * routes once more (RFC 2918) so those the new policy allows arrive. Returns false when the
   * peer cannot refresh (no capability): the caller resets the session instead.
   */
  reconfigurePeer(
    cfg: BgpPeerConfig,
    what: { exports: boolean; imports: boolean; resend: boolean },
  ): boolean {
    const peer = this.byAddress.get(canonicalAddress(cfg.address));
    if (!peer) return false;
    const installChanged = peer.config.install !== cfg.install;
    peer.reconfigure(cfg);
    const up = peer.session.state === 'Established';
    if (up && what.resend) peer.ribOut.clear();
    if (up && (what.exports || what.resend)) this.out.reconcile(peer);
    let refreshed = true;
    if (what.imports) {
      if (peer.ribIn.refilter() > 0) this.receivedChanged(true);
      const families = peer.session.negotiated?.families ?? [];
      refreshed = !up || families.every((f) => peer.session.requestRouteRefresh(f.afi, f.safi));
    }
    if (installChanged && peer.ribIn.size > 0) this.receivedChanged(true);
    return refreshed;
  }

  /**
   * Reload: new global communities (bgp.communities, bgp.largeCommunities) and RFC 8326 wait; each
   * Established peer gets UPDATEs for the routes whose attributes changed.
   */
  setGlobals(globals: { communities: RouteTags; gracefulShutdownWait: number }): void {
    this.out.setGlobalTags(globals.communities);
    this.opts.gracefulShutdownWait = globals.gracefulShutdownWait;
    this.reconcileAll();
  }

  private async listen(): Promise<void> {
    this.listener = new PeerListener({
      port: this.opts.listenPort,
      host: this.opts.listenAddress,
      transport: this.transport,
      logger: this.log,
      route: (addr) => {
        // A link-local peer is configured with its zone (fe80::1%eth1, RFC 4007 11); the
        // address of an accepted socket carries none.
        const peer =
          this.byAddress.get(canonicalAddress(addr)) ??
          [...this.byAddress].find(([key]) => key.split('%')[0] === addr && key.includes('%'))?.[1];
        return peer ? (s) => peer.session.acceptIncoming(s) : undefined;
      },
    });
    await this.listener.start();
  }

  private receivedChanged(peerDown: boolean): void {
    for (const fn of this.receivedListeners) fn(peerDown);
  }

  // ===== outbound (outbound.ts) =====

  /** Each Established peer gets the difference between the desired set and what it has. */
  private reconcileAll(): void {
    for (const peer of this.peers) if (peer.session.state === 'Established') this.out.reconcile(peer);
  }

  /**
   * A new session: the peer has nothing from us; replay the whole set, then End-of-RIB per family.
   * Its routes from before are gone, unless graceful restart kept them stale (`stale-routes.ts`).
   */
  private onEstablished(peer: Peer): void {
    peer.ribOut.clear();
    const n = peer.session.negotiated;
    const families = n?.families ?? [];
    const had = peer.ribIn.size;
    peer.stale.established(n?.gracefulRestart, families);
    if (n) {
      const { peerAsn, peerId, gracefulRestart } = n;
      peer.facts = { peerAsn, peerId, localAddress: peer.session.localAddress, gracefulRestart };
    }
    if (had !== peer.ribIn.size) this.receivedChanged(true);
    this.restartSync?.established(peer.config.address, families, n?.gracefulRestart !== undefined);
    peer.warned.clear();
    this.out.reconcile(peer);
    peer.session.sendUpdates(families.map((f) => endOfRib(f.afi, f.safi)));
  }

  /** The Established session ended: graceful restart may keep the peer's routes (helper mode). */
  private onDown(peer: Peer, end: SessionEnd): void {
    this.out.shuttingDown.delete(peer);
    const had = peer.ribIn.size > 0;
    peer.ribOut.clear();
    const kept = peer.stale.sessionDown(peer.facts?.gracefulRestart, end);
    if (!kept) peer.facts = undefined;
    if (had && !kept) this.receivedChanged(true);
  }

  /** RFC 2918 4: the peer asks again; re-send our Adj-RIB-Out. */
  private onRouteRefresh(peer: Peer): void {
    peer.ribOut.clear();
    this.out.reconcile(peer);
  }

  // ===== inbound =====

  private onUpdate(peer: Peer, u: UpdateMessage): void {
    const eor = isEndOfRib(u);
    if (eor) {
      // RFC 4724 4.2: what is still stale in this family was not re-sent; 4.1: one peer less to wait for.
      if (peer.stale.endOfRib(eor.afi) > 0) this.receivedChanged(true);
      this.restartSync?.endOfRib(peer.config.address, eor.afi);
      return;
    }
    const applied = peer.ribIn.apply(u);
    if (applied.announced + applied.withdrawn > 0) this.receivedChanged(false);
    const max = peer.config.maxPrefixes;
    if (max !== undefined && peer.ribIn.received > max) {
      // RFC 4486 4: data = AFI, SAFI, and the upper bound that was exceeded.
      const data = Buffer.alloc(7);
      const afi = u.attributes.mpReach?.afi ?? Afi.Ipv4;
      data.writeUInt16BE(afi, 0);
      data.writeUInt8(1, 2);
      data.writeUInt32BE(Math.min(max, 0xffffffff), 3);
      const reason = `peer sent ${peer.ribIn.received} prefixes, limit ${max}`;
      this.log.warn({ peer: peer.config.address, limit: max }, `BGP maximum prefixes exceeded: ${reason}`);
      peer.session.automaticStop(
        { code: ErrorCode.Cease, subcode: CeaseSubcode.MaximumPrefixesReached, data },
        reason,
        true,
      );
    }
  }
}
