/**
 * The BGP speaker: all configured peers (a node usually has two leafs), the listener for passive
 * peers, and per peer an Adj-RIB-Out reconciled from the desired prefix set and an Adj-RIB-In
 * filtered by the accept policy.
 *
 * File map: `fsm.ts` RFC 4271 8 state machine; `session.ts` one peer, its inputs queued as events
 * (`session-events.ts`) and processed one at a time (`session-process.ts`, `session-core.ts`), per
 * connection `attempt.ts` and `update-pump.ts` (with `negotiate.ts`, `collision.ts`, `timers.ts`,
 * `backoff.ts`, `transport.ts`); `adj-rib-out.ts`,
 * `update-builder.ts` what we send; `adj-rib-in.ts`, `policy.ts` what we keep; `listener.ts`
 * incoming connections; `message/` the codecs.
 *
 * Supported: RFC 4271 (BGP-4), RFC 4760 (IPv6 unicast via MP_REACH), RFC 6793 (4-octet AS),
 * RFC 2918 (route refresh: we re-send), RFC 4724 End-of-RIB after each initial dump, RFC 4486
 * (maximum prefixes Cease), RFC 9003 (shutdown communication), RFC 7606 (treat-as-withdraw),
 * RFC 6608 (FSM error subcodes). Not supported: graceful restart procedures, ADD-PATH, MD5.
 */
import { isIPv4 } from 'node:net';
import type { BgpPeerConfig } from '../config/bgp.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { formatAddress, formatPrefix, type Prefix, parseAddress } from '../net/prefix.js';
import { AdjRibIn, type ReceivedRoute } from './adj-rib-in.js';
import { AdjRibOut } from './adj-rib-out.js';
import type { BgpState } from './fsm.js';
import { PeerListener } from './listener.js';
import { endOfRib, truncateUtf8, type UpdateMessage } from './message/index.js';
import { Afi, CeaseSubcode, ErrorCode } from './message/types.js';
import { hasFamily, IPV4_UNICAST, IPV6_UNICAST } from './negotiate.js';
import { Session, type SessionCounters } from './session.js';
import { NetTransport, type TransportFactory } from './transport.js';
import { buildUpdates, type OriginateParams } from './update-builder.js';

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
}

/** One row of DESIGN.md's status JSON `bgp.peers`, plus extra fields. */
export type BgpPeerStatus = {
  address: string;
  asn: number;
  state: BgpState;
  uptimeSeconds: number;
  prefixesSent: number;
  prefixesReceived: number;
  lastError: string | null;
  description?: string;
  passive: boolean;
  localAddress: string | null;
  /** Negotiated hold time in seconds while Established, else null. */
  holdTime: number | null;
  prefixesAccepted: number;
  families: string[];
  counters: SessionCounters;
};

export type BgpStatus = {
  asn: number;
  peers: BgpPeerStatus[];
  /** Port the listener is bound to, or null when not listening. */
  listenPort: number | null;
  /** Connections refused because their source is not a configured peer. */
  unknownConnections: number;
};

/** One peer's kept routes and what ranks them (RFC 4271 9.1): its BGP Identifier, our session address. */
export type LearnedPeerRoutes = Readonly<{ address: string; asn: number; ibgp: boolean; routerId: string }> &
  Readonly<{ localAddress: string | undefined; install: boolean; routes: ReceivedRoute[] }>;

/** Drain / stop waits at most this long for the peers (DESIGN.md: exit within 5 s). */
const STOP_TIMEOUT_MS = 2000;

function canonicalAddress(addr: string): string {
  try {
    return formatAddress(parseAddress(addr));
  } catch {
    return addr;
  }
}

function familyName(afi: number, safi: number): string {
  if (safi === 1 && afi === Afi.Ipv4) return 'ipv4-unicast';
  if (safi === 1 && afi === Afi.Ipv6) return 'ipv6-unicast';
  return `afi${afi}-safi${safi}`;
}

class Peer {
  readonly ribOut = new AdjRibOut();
  readonly ribIn: AdjRibIn;
  session!: Session;
  /** Families already logged as unsendable in this session, so the log says it once. */
  readonly warned = new Set<string>();

  constructor(
    readonly config: BgpPeerConfig,
    localAsn: number,
  ) {
    this.ribIn = new AdjRibIn(config.accept, localAsn);
  }
}

export class BgpSpeaker {
  private readonly peers: Peer[] = [];
  private readonly byAddress = new Map<string, Peer>();
  private readonly transport: TransportFactory;
  private readonly log: Logger;
  private readonly desired = new Map<string, Prefix>();
  private listener: PeerListener | undefined;
  private started = false;
  private readonly receivedListeners: ((peerDown: boolean) => void)[] = [];
  private readonly stateListeners: ((
    address: string,
    state: BgpPeerStatus['state'],
    local?: string,
  ) => void)[] = [];

  constructor(private readonly opts: BgpSpeakerOptions) {
    this.transport = opts.transport ?? new NetTransport();
    this.log = opts.logger;
    const families = [IPV4_UNICAST, IPV6_UNICAST];
    for (const cfg of opts.peers) {
      const peer = new Peer(cfg, opts.asn);
      peer.session = new Session({
        peer: cfg,
        local: { asn: opts.asn, routerId: opts.routerId, holdTime: cfg.holdTime, families },
        clock: opts.clock,
        logger: opts.logger,
        transport: this.transport,
        backoffInitialMs: opts.backoffInitialMs,
        random: opts.random,
        hooks: {
          established: () => this.onEstablished(peer),
          down: () => {
            const had = peer.ribIn.size > 0;
            peer.ribIn.clear();
            peer.ribOut.clear();
            if (had) this.receivedChanged(true);
          },
          update: (_s, u) => this.onUpdate(peer, u),
          routeRefresh: () => this.onRouteRefresh(peer),
          stateChange: (s, _from, to) => {
            for (const fn of this.stateListeners) fn(cfg.address, to, s.localAddress);
          },
        },
      });
      this.peers.push(peer);
      this.byAddress.set(canonicalAddress(cfg.address), peer);
    }
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
      this.listener = new PeerListener({
        port: this.opts.listenPort,
        host: this.opts.listenAddress,
        transport: this.transport,
        logger: this.log,
        route: (addr) => {
          const peer = this.byAddress.get(canonicalAddress(addr));
          return peer ? (s) => peer.session.acceptIncoming(s) : undefined;
        },
      });
      await this.listener.start();
    } else if (this.peers.some((p) => p.config.passive)) {
      this.log.warn({}, 'passive BGP peers configured but bgp.listenPort is 0: they can never connect');
    }
    for (const p of this.peers) p.session.start();
  }

  /** The set of prefixes to announce; each Established peer gets only the difference. */
  setDesired(prefixes: readonly Prefix[]): void {
    this.desired.clear();
    for (const p of prefixes) this.desired.set(formatPrefix(p), p);
    for (const peer of this.peers) {
      if (peer.session.state === 'Established') this.reconcile(peer);
    }
  }

  /**
   * drain: withdraw everything we announced, then Cease / Administrative Shutdown with `message`
   * (RFC 9003); otherwise close TCP without a NOTIFICATION (the peer keeps our routes under
   * graceful restart, or drops them on its own). Resolves when all peers are down or after 2 s.
   */
  async stop(mode: { drain: boolean; message?: string }): Promise<void> {
    const notification = mode.drain
      ? {
          code: ErrorCode.Cease,
          subcode: CeaseSubcode.AdministrativeShutdown,
          ...(mode.message ? { shutdownMessage: truncateUtf8(mode.message) } : {}),
        }
      : null;
    const stops = this.peers.map((peer) => {
      if (mode.drain && peer.session.state === 'Established') {
        const withdraw = peer.ribOut.withdrawAll();
        if (withdraw.length > 0) peer.session.sendUpdates(buildUpdates(this.originate(peer), [], withdraw));
      }
      return peer.session.stop(notification);
    });
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = this.opts.clock.setTimer(STOP_TIMEOUT_MS, () => {
        this.log.warn({}, 'BGP peers did not close within 2 s');
        resolve();
      });
    });
    await Promise.race([Promise.all(stops), timeout]);
    timer?.cancel();
    // A peer that stopped reading keeps its socket half-open: cut it.
    for (const peer of this.peers) if (peer.session.state !== 'Idle') peer.session.abort();
    await this.listener?.close();
  }

  status(): BgpStatus {
    return {
      asn: this.opts.asn,
      peers: this.peers.map((p) => this.peerStatus(p)),
      listenPort: this.listener?.port ?? null,
      unknownConnections: this.listener?.unknownConnections ?? 0,
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

  /** Per Established peer, what route selection needs: the session's facts and the kept routes. */
  learnedPeers(): LearnedPeerRoutes[] {
    return this.peers.flatMap((p) => {
      const n = p.session.negotiated;
      if (!n || p.ribIn.size === 0) return [];
      const { address, install } = p.config;
      const [asn, localAddress] = [n.peerAsn, p.session.localAddress];
      const ibgp = asn === this.opts.asn;
      return [{ address, asn, ibgp, routerId: n.peerId, localAddress, install, routes: p.ribIn.routes() }];
    });
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

  private receivedChanged(peerDown: boolean): void {
    for (const fn of this.receivedListeners) fn(peerDown);
  }

  private peerStatus(p: Peer): BgpPeerStatus {
    const s = p.session;
    const n = s.negotiated;
    return {
      address: p.config.address,
      asn: p.config.asn,
      state: s.state,
      uptimeSeconds: s.uptimeSeconds(),
      prefixesSent: p.ribOut.size,
      prefixesReceived: p.ribIn.received,
      lastError: s.lastError,
      ...(p.config.description !== undefined ? { description: p.config.description } : {}),
      passive: p.config.passive,
      localAddress: s.localAddress ?? p.config.localAddress ?? null,
      holdTime: n ? n.holdTime : null,
      prefixesAccepted: p.ribIn.size,
      families: n ? n.families.map((f) => familyName(f.afi, f.safi)) : [],
      counters: s.counters,
    };
  }

  // ===== outbound =====

  /** Next hops for this session (RFC 4271 5.1.3: our address on the session; RFC 2545 for IPv6). */
  private originate(peer: Peer): OriginateParams {
    const local = peer.session.localAddress ?? '';
    const cfg = peer.config;
    let nextHop4: string | undefined;
    let nextHop6: string | undefined;
    let linkLocal6: string | undefined;
    if (isIPv4(local)) {
      nextHop4 = local;
      nextHop6 = cfg.ipv6NextHop;
    } else if (local) {
      if (local.toLowerCase().startsWith('fe80:')) {
        // A link-local session address is only the second next hop; the global one must be configured.
        linkLocal6 = local;
        nextHop6 = cfg.ipv6NextHop;
      } else {
        nextHop6 = local;
      }
    }
    return {
      localAsn: this.opts.asn,
      peerAsn: cfg.asn,
      ...(nextHop4 ? { nextHop4 } : {}),
      ...(nextHop6 ? { nextHop6 } : {}),
      ...(linkLocal6 && nextHop6 ? { linkLocal6 } : {}),
    };
  }

  /** Which prefixes this session can carry; says once per session why the others are held back. */
  private sendable(peer: Peer, o: OriginateParams): (p: Prefix) => boolean {
    const families = peer.session.negotiated?.families ?? [];
    const v4 = hasFamily(families, IPV4_UNICAST) && o.nextHop4 !== undefined;
    const v6 = hasFamily(families, IPV6_UNICAST) && o.nextHop6 !== undefined;
    return (p) => {
      const ok = p.family === 4 ? v4 : v6;
      if (!ok && !peer.warned.has(`v${p.family}`)) {
        peer.warned.add(`v${p.family}`);
        this.log.warn(
          { peer: peer.config.address, prefix: formatPrefix(p), reason: this.whyNot(peer, p.family, o) },
          `not announcing IPv${p.family} prefixes to ${peer.config.address}`,
        );
      }
      return ok;
    };
  }

  private whyNot(peer: Peer, family: 4 | 6, o: OriginateParams): string {
    const families = peer.session.negotiated?.families ?? [];
    if (!hasFamily(families, family === 4 ? IPV4_UNICAST : IPV6_UNICAST)) {
      return `the peer did not negotiate the IPv${family} unicast family`;
    }
    if (family === 4)
      return `the session is IPv6 (local ${peer.session.localAddress}) so there is no IPv4 next hop`;
    return o.nextHop6 === undefined
      ? `the session is IPv4 and no ipv6NextHop is configured for this peer`
      : 'unknown';
  }

  private reconcile(peer: Peer): UpdateMessage[] {
    const o = this.originate(peer);
    const diff = peer.ribOut.reconcile(this.desired, this.sendable(peer, o));
    const updates = buildUpdates(o, diff.announce, diff.withdraw);
    if (updates.length > 0) {
      peer.session.sendUpdates(updates);
      this.log.debug(
        { peer: peer.config.address, announce: diff.announce.length, withdraw: diff.withdraw.length },
        'BGP Adj-RIB-Out updated',
      );
    }
    return updates;
  }

  /** A new session: the peer has nothing from us; replay the whole set, then End-of-RIB per family. */
  private onEstablished(peer: Peer): void {
    peer.ribOut.clear();
    if (peer.ribIn.size > 0) {
      peer.ribIn.clear();
      this.receivedChanged(true);
    }
    peer.warned.clear();
    this.reconcile(peer);
    const families = peer.session.negotiated?.families ?? [];
    peer.session.sendUpdates(families.map((f) => endOfRib(f.afi, f.safi)));
  }

  /** RFC 2918 4: the peer asks again; re-send our Adj-RIB-Out. */
  private onRouteRefresh(peer: Peer): void {
    peer.ribOut.clear();
    this.reconcile(peer);
  }

  // ===== inbound =====

  private onUpdate(peer: Peer, u: UpdateMessage): void {
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
