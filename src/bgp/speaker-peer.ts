/**
 * One configured peer inside the speaker: its Adj-RIB-Out and Adj-RIB-In, its session, what graceful
 * restart keeps of it while it is away (RFC 4724 4.2: stale routes, the session facts route selection
 * still needs), and its row of the status document.
 */
import type { BgpPeerConfig } from '../config/bgp.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { AdjRibIn } from './adj-rib-in.js';
import { AdjRibOut } from './adj-rib-out.js';
import type { BgpState } from './fsm.js';
import type { GracefulRestartSession, LocalGracefulRestart } from './graceful-restart.js';
import { Afi } from './message/types.js';
import { type PeerPolicy, peerPolicy } from './policy/peer-policy.js';
import type { Session, SessionCounters } from './session.js';
import { SilenceWatch } from './silence.js';
import { StaleRoutes } from './stale-routes.js';

/** Graceful restart with one peer (present when we offer it to that peer). */
export type BgpPeerGracefulRestart = {
  /** Both OPENs of the current (or, while helping, the last) session carried the capability. */
  negotiated: boolean;
  /** Seconds we advertise. */
  localRestartTime: number;
  /** Seconds the peer advertised, null when it did not. */
  peerRestartTime: number | null;
  /** Both sent the RFC 8538 N bit: NOTIFICATIONs other than Hard Reset keep the routes too. */
  notification: boolean;
  /** We keep the peer's routes as stale while it restarts (helper mode). */
  helping: boolean;
  staleRoutes: number;
  /** Seconds until the stale routes are removed anyway; null when not helping. */
  staleSecondsLeft: number | null;
  /** Stale routes removed since start (not re-sent before End-of-RIB, or the time ran out). */
  staleSwept: number;
};

/** One row of the status JSON `bgp.peers` (the documented fields first), plus extra fields. */
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
  gracefulRestart?: BgpPeerGracefulRestart;
};

/** The session facts route selection needs, kept from the last Established session. */
export interface PeerFacts {
  readonly peerAsn: number;
  readonly peerId: string;
  readonly localAddress: string | undefined;
  readonly gracefulRestart: GracefulRestartSession | undefined;
}

function familyName(afi: number, safi: number): string {
  if (safi === 1 && afi === Afi.Ipv4) return 'ipv4-unicast';
  if (safi === 1 && afi === Afi.Ipv6) return 'ipv6-unicast';
  return `afi${afi}-safi${safi}`;
}

export class Peer {
  readonly ribOut = new AdjRibOut();
  readonly ribIn: AdjRibIn;
  /** Export and import decisions (RFC 8212: an explicit default when none is configured). */
  policy: PeerPolicy;
  /** The likely cause when a passive peer with MD5 or GTSM never connects. */
  readonly silence: SilenceWatch;
  readonly stale: StaleRoutes;
  session!: Session;
  /** Families already logged as unsendable in this session, so the log says it once. */
  readonly warned = new Set<string>();
  /** Set while Established and kept while graceful restart keeps the peer's routes. */
  facts: PeerFacts | undefined;

  constructor(
    /** Replaced by `reconfigure` (reload); the session keeps the settings it was made with. */
    public config: BgpPeerConfig,
    localAsn: number,
    clock: Clock,
    log: Logger,
    /** What we offer this peer; undefined when graceful restart is off for it. */
    readonly gracefulRestart: LocalGracefulRestart | undefined,
    changed: () => void,
  ) {
    this.policy = peerPolicy(config);
    this.silence = new SilenceWatch(config, clock);
    this.ribIn = new AdjRibIn((p) => this.policy.imports(p), localAsn);
    this.stale = new StaleRoutes(this.ribIn, clock, log.child({ peer: config.address }), changed);
  }

  /**
   * Reload, for settings that need no new session (src/config/diff.ts): the new configuration and
   * the policy built from it; the Adj-RIB-In filter reads `policy` on each decision.
   */
  reconfigure(config: BgpPeerConfig): void {
    this.config = config;
    this.policy = peerPolicy(config);
  }

  status(): BgpPeerStatus {
    const s = this.session;
    const n = s.negotiated;
    const cfg = this.config;
    return {
      address: cfg.address,
      asn: cfg.asn,
      state: s.state,
      uptimeSeconds: s.uptimeSeconds(),
      prefixesSent: this.ribOut.size,
      prefixesReceived: this.ribIn.received,
      lastError: this.silence.lastError(s),
      ...(cfg.description !== undefined ? { description: cfg.description } : {}),
      passive: cfg.passive,
      localAddress: s.localAddress ?? cfg.localAddress ?? null,
      holdTime: n ? n.holdTime : null,
      prefixesAccepted: this.ribIn.size,
      families: n ? n.families.map((f) => familyName(f.afi, f.safi)) : [],
      counters: s.counters,
      ...(this.gracefulRestart ? { gracefulRestart: this.grStatus(this.gracefulRestart) } : {}),
    };
  }

  private grStatus(local: LocalGracefulRestart): BgpPeerGracefulRestart {
    const gr = this.session.negotiated?.gracefulRestart ?? this.facts?.gracefulRestart;
    const staleRoutes = this.stale.count;
    return {
      negotiated: gr !== undefined,
      localRestartTime: local.restartTime,
      peerRestartTime: gr ? gr.peerRestartTime : null,
      notification: gr?.notification ?? false,
      helping: staleRoutes > 0,
      staleRoutes,
      staleSecondsLeft: this.stale.secondsLeft(),
      staleSwept: this.stale.swept,
    };
  }
}
