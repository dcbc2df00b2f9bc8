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
 *
 * Change journal: while `track(true)` is on (a peer whose routes go to the kernel), every prefix
 * whose stored route changed is noted, so the route programmer gets the difference
 * (`takeChanges`), not the whole table each time. Untracked (the default, and `install: false`) it
 * costs nothing.
 */
import { comparePrefix, type Prefix } from '../net/prefix.js';
import type { AsPathSegment, UpdateMessage } from './message/types.js';
import { type AcceptPolicy, accepts } from './policy/accept.js';
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
  /** Prefixes whose stored route changed since the last `takeChanges`, while tracked. */
  private journal: PrefixMap<true> | undefined;
  /** Emptied at once while tracked: the next `takeChanges` says "start over". */
  private journalLost = false;
  /** Bumped on every change of the stored routes (caches of views compare it). */
  private changes = 0;
  /**
   * The last `first(limit)`, kept until a change at or below its highest prefix (`bound`; IPv4 as
   * address * 64 + length, an IPv6 bound as a Prefix): a status poll during a full table in prefix
   * order walks the table once, not at every poll.
   */
  private low:
    | { limit: number; routes: ReceivedRoute[]; bound4: number; bound6: Prefix | undefined }
    | undefined;

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

  /** Changes so far of the stored routes: equal numbers, same routes. */
  get version(): number {
    return this.changes;
  }

  /** Starts (from an empty journal) or stops noting which stored routes change. */
  track(on: boolean): void {
    this.journal = on ? new PrefixMap<true>() : undefined;
    this.journalLost = false;
  }

  /**
   * What changed since the last call (or `track(true)`): `set` the prefixes stored now with their
   * new attributes, `withdrawn` those gone; `reset` when the table was emptied at once (take all).
   */
  takeChanges(): { reset: true } | { reset: false; set: ReceivedRoute[]; withdrawn: Prefix[] } {
    const journal = this.journal;
    if (!journal || this.journalLost) {
      this.track(journal !== undefined);
      return { reset: true };
    }
    const set: ReceivedRoute[] = [];
    const withdrawn: Prefix[] = [];
    for (const [prefix] of journal.entries()) {
      const attrs = this.accepted.get(prefix);
      if (attrs) set.push({ prefix, ...attrs });
      else withdrawn.push(prefix);
    }
    journal.clear();
    return { reset: false, set, withdrawn };
  }

  /** The first `limit` stored routes in prefix order (the status view). */
  first(limit: number): ReceivedRoute[] {
    if (this.low?.limit !== limit) {
      const routes = this.accepted.first(limit).map((prefix) => ({ prefix, ...this.accepted.get(prefix)! }));
      const last = routes.length === limit ? routes[limit - 1]!.prefix : undefined;
      // Fewer than `limit`: any new route belongs in the list (bound +Infinity).
      const bound4 = !last
        ? Number.POSITIVE_INFINITY
        : last.family === 4
          ? v4Number(last)
          : Number.POSITIVE_INFINITY;
      this.low = { limit, routes, bound4, bound6: last?.family === 6 ? last : undefined };
    }
    return this.low.routes;
  }

  /** Prefixes stored in any of `ribs`, each counted once. */
  static distinctPrefixes(ribs: readonly AdjRibIn[]): number {
    return PrefixMap.distinctCount(ribs.map((r) => r.accepted));
  }

  /** A stored route changed (or went). */
  private noted(p: Prefix): void {
    this.changes++;
    this.journal?.set(p, true);
    const low = this.low;
    if (!low) return;
    const below =
      p.family === 4
        ? v4Number(p) <= low.bound4
        : low.bound4 === Number.POSITIVE_INFINITY && (!low.bound6 || comparePrefix(p, low.bound6) <= 0);
    if (below) this.low = undefined;
  }

  /**
   * Applies one UPDATE: withdrawals (legacy and MP_UNREACH), then announcements (legacy NLRI with
   * NEXT_HOP, MP_REACH). RFC 7606 2: with a treat-as-withdraw error every announced prefix is
   * handled as withdrawn.
   */
  apply(u: UpdateMessage): ApplyResult {
    let withdrawn = 0;
    const a = u.attributes;
    // The size checks skip a map lookup per prefix in the usual case (no restart, nothing refused).
    const remove = (p: Prefix): void => {
      if (this.stale.size > 0) this.stale.delete(p);
      if (this.accepted.delete(p)) {
        this.noted(p);
        withdrawn++;
      } else if (this.refused.size > 0 && this.refused.delete(p)) withdrawn++;
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
      if (this.stale.size > 0) this.stale.delete(p);
      const keep = typeof this.policy === 'function' ? this.policy(p) : accepts(this.policy, p);
      if (!looped && keep) {
        if (this.refused.size > 0) this.refused.delete(p);
        this.accepted.set(p, attrs);
        this.noted(p);
      } else {
        if (this.accepted.delete(p)) this.noted(p);
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
      if (this.accepted.delete(p)) {
        this.noted(p);
        gone++;
      }
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
      this.noted(p);
      this.stale.delete(p);
      this.refused.set(p, true);
      gone++;
    }
    return gone;
  }

  clear(): void {
    if (this.accepted.size > 0) {
      this.changes++;
      this.journalLost = this.journal !== undefined;
      this.journal?.clear();
    }
    this.low = undefined;
    this.accepted.clear();
    this.refused.clear();
    this.stale.clear();
  }
}

/** An IPv4 prefix as one number ordered as comparePrefix: address * 64 + length. */
function v4Number(p: Prefix): number {
  return p.bytes.readUInt32BE(0) * 64 + p.length;
}
