/**
 * Adj-RIB-In (RFC 4271 3.2) of one peer, kept compact so a full table fits: prefixes are keys of
 * a PrefixMap (small integers for IPv4), and every route of one UPDATE shares one attribute object
 * (no Prefix objects or Buffers kept per route).
 *
 * `received` counts every prefix the peer currently announces (before policy); only prefixes the
 * accept policy allows are stored with their attributes, the others only as keys (for the count
 * and for `maxPrefixes`).
 */
import type { Prefix } from '../net/prefix.js';
import type { AsPathSegment, UpdateMessage } from './message/types.js';
import { type AcceptPolicy, accepts } from './policy.js';
import { PrefixMap } from './prefix-map.js';

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

  /**
   * `localAsn`: routes whose AS_PATH already holds it are looped (RFC 4271 9.1.2) and never
   * stored, whatever the policy (a leaf may send our own prefixes back).
   */
  constructor(
    private readonly policy: AcceptPolicy,
    private readonly localAsn?: number,
  ) {}

  /** Prefixes the peer announces now, before policy. */
  get received(): number {
    return this.accepted.size + this.refused.size;
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
      if (!looped && accepts(this.policy, p)) {
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

  clear(): void {
    this.accepted.clear();
    this.refused.clear();
  }
}
