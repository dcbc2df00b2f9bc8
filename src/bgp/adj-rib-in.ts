/**
 * Adj-RIB-In (RFC 4271 3.2) of one peer, kept compact so a full table fits: prefixes are keys of
 * a PrefixMap (small integers for IPv4), and every route of one UPDATE shares one attribute object
 * (no Prefix objects or Buffers kept per route).
 *
 * `received` counts every prefix the peer currently announces (before policy); only prefixes the
 * accept policy allows are stored with their attributes, the others only as keys (for the count
 * and for `maxPrefixes`).
 *
 * Graceful restart (RFC 4724 4.2): when the peer restarts, its routes stay and are marked stale; a
 * route it announces or withdraws again loses the mark, and what is still stale at its End-of-RIB
 * (or when its time runs out) is swept.
 */
import type { Prefix } from '../net/prefix.js';
import type { AsPathSegment, UpdateMessage } from './message/types.js';
import { type AcceptPolicy, accepts } from './policy.js';
import { PrefixMap } from './prefix-map.js';

/** Which announced prefixes are kept: an `accept` setting, or a peer's whole import policy. */
export type ImportFilter = AcceptPolicy | ((p: Prefix) => boolean);

/** What we keep of a route's path attributes. */
export interface RouteAttributes {
  readonly nextHop: string;
  readonly linkLocalNextHop?: string;
  readonly asPath: readonly AsPathSegment[];
  readonly localPref?: number;
  readonly med?: number;
  readonly origin?: number;
}

export interface ReceivedRoute extends RouteAttributes {
  readonly prefix: Prefix;
}

export interface ApplyResult {
  readonly announced: number;
  readonly withdrawn: number;
}

export class AdjRibIn {
  private readonly accepted = new PrefixMap<RouteAttributes>();
  /** Announced but refused by policy: keys only. */
  private readonly refused = new PrefixMap<true>();
  /** Accepted routes kept from before the peer restarted, not re-sent yet. */
  private readonly stale = new PrefixMap<true>();

  /**
   * `localAsn`: routes whose AS_PATH already holds it are looped (RFC 4271 9.1.2) and never
   * stored, whatever the policy (a leaf may send our own prefixes back).
   */
  constructor(
    private readonly policy: ImportFilter,
    private readonly localAsn?: number,
  ) {}

  /** Prefixes the peer announces now, before policy. */
  get received(): number {
    return this.accepted.size + this.refused.size;
  }

  /** Stored routes still stale (graceful restart). */
  get staleCount(): number {
    return this.stale.size;
  }

  /** Prefixes stored (accepted by policy). */
  get size(): number {
    return this.accepted.size;
  }

  /**
   * Applies one UPDATE: withdrawals (legacy and MP_UNREACH), then announcements (legacy NLRI with
   * NEXT_HOP, MP_REACH). RFC 7606 2: with a treat-as-withdraw error every announced prefix is
   * handled as withdrawn.
   */
  apply(u: UpdateMessage): ApplyResult {
    let withdrawn = 0;
    const a = u.attributes;
    const remove = (p: Prefix): void => {
      this.stale.delete(p);
      if (this.accepted.delete(p) || this.refused.delete(p)) withdrawn++;
    };
    u.withdrawn.forEach(remove);
    a.mpUnreach?.withdrawn.forEach(remove);
    const treatAsWithdraw = u.errors?.some((e) => e.action === 'treat-as-withdraw') ?? false;
    if (treatAsWithdraw) {
      u.nlri.forEach(remove);
      a.mpReach?.nlri.forEach(remove);
      return { announced: 0, withdrawn };
    }
    let announced = 0;
    const common = {
      asPath: a.asPath ?? [],
      ...(a.localPref !== undefined ? { localPref: a.localPref } : {}),
      ...(a.med !== undefined ? { med: a.med } : {}),
      ...(a.origin !== undefined ? { origin: a.origin } : {}),
    };
    const looped =
      this.localAsn !== undefined && (a.asPath ?? []).some((seg) => seg.asns.includes(this.localAsn!));
    const add = (p: Prefix, attrs: RouteAttributes): void => {
      announced++;
      this.stale.delete(p);
      const keep = typeof this.policy === 'function' ? this.policy(p) : accepts(this.policy, p);
      if (!looped && keep) {
        this.refused.delete(p);
        this.accepted.set(p, attrs);
      } else {
        this.accepted.delete(p);
        this.refused.set(p, true);
      }
    };
    if (u.nlri.length > 0) {
      // The codec rejects NLRI without NEXT_HOP (RFC 4271 6.3, 3/3); '' guards a hand-made message.
      const attrs: RouteAttributes = { ...common, nextHop: a.nextHop ?? '' };
      for (const p of u.nlri) add(p, attrs);
    }
    if (a.mpReach && a.mpReach.nlri.length > 0) {
      const attrs: RouteAttributes = {
        ...common,
        nextHop: a.mpReach.nextHop,
        ...(a.mpReach.linkLocalNextHop ? { linkLocalNextHop: a.mpReach.linkLocalNextHop } : {}),
      };
      for (const p of a.mpReach.nlri) add(p, attrs);
    }
    return { announced, withdrawn };
  }

  /** The stored routes, materialized (for status and route programming). */
  routes(): ReceivedRoute[] {
    const out: ReceivedRoute[] = [];
    for (const [prefix, attrs] of this.accepted.entries()) out.push({ prefix, ...attrs });
    return out;
  }

  /**
   * RFC 4724 4.2: the peer restarted; every stored route becomes stale (and stays usable). Refused
   * prefixes are forgotten: the peer re-sends what it still has. Returns the stale count.
   */
  markStale(): number {
    this.refused.clear();
    for (const [p] of this.accepted.entries()) this.stale.set(p, true);
    return this.stale.size;
  }

  /** Deletes the routes still stale, of one address family or all; returns how many went. */
  sweepStale(family?: 4 | 6): number {
    let gone = 0;
    for (const [p] of [...this.stale.entries()]) {
      if (family !== undefined && p.family !== family) continue;
      this.stale.delete(p);
      if (this.accepted.delete(p)) gone++;
    }
    return gone;
  }

  /**
   * The import policy changed (reload): stored routes it no longer allows become refused (keys
   * only). Routes it now allows were not kept with their attributes: the peer must send them again
   * (RFC 2918 route refresh). Returns how many stored routes went.
   */
  refilter(): number {
    if (typeof this.policy !== 'function') return 0;
    let gone = 0;
    for (const [p] of [...this.accepted.entries()]) {
      if (this.policy(p)) continue;
      this.accepted.delete(p);
      this.stale.delete(p);
      this.refused.set(p, true);
      gone++;
    }
    return gone;
  }

  clear(): void {
    this.accepted.clear();
    this.refused.clear();
    this.stale.clear();
  }
}
