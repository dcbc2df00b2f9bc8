/**
 * The status view of the learned routes (`routes.learned` in the status document), in the manner
 * of `show ip bgp`: one row per received path with its next hop, peer, AS path, whether it is the
 * best or an ECMP member, and whether its route is in the kernel (or why not).
 *
 * Bounded: the counts always cover every path, the list holds at most `LEARNED_VIEW_LIMIT` rows
 * (by prefix), and `omitted` says how many more there are, so a full table from a peer cannot make
 * every status call (and every metrics scrape) carry a million rows.
 */
import { formatPrefix } from '../net/prefix.js';
import type { LearnedSelection, PathDecision } from './learned.js';
import { routeKey } from './route.js';

export const LEARNED_VIEW_LIMIT = 100;

export interface LearnedPathStatus {
  readonly prefix: string;
  readonly peer: string;
  /** The NEXT_HOP as received (IPv6: the global and the link-local one). */
  readonly nextHop: string;
  /** The kernel next hop it resolves to ("fe80::1 dev eth1"); null when it does not resolve. */
  readonly via: string | null;
  readonly asPath: string;
  readonly origin: string;
  readonly med?: number;
  readonly localPref?: number;
  /** best: the path the tie-break names; multipath: installed beside it (ECMP); null: neither. */
  readonly selected: 'best' | 'multipath' | null;
  /** The path's route is in the kernel now. */
  readonly installed: boolean;
  /** Why not, when not installed. */
  readonly reason: string | null;
}

export interface LearnedStatus {
  /** Paths kept from every peer (after their accept policy). */
  readonly paths: number;
  /** Distinct prefixes among them. */
  readonly prefixes: number;
  /** Learned routes in the kernel now (an ECMP route counts once). */
  readonly installed: number;
  /** The first LEARNED_VIEW_LIMIT paths by prefix. */
  readonly routes: LearnedPathStatus[];
  /** Paths not listed (all are counted above). */
  readonly omitted: number;
}

export const emptyLearnedStatus: LearnedStatus = {
  paths: 0,
  prefixes: 0,
  installed: 0,
  routes: [],
  omitted: 0,
};

/**
 * `inKernel(key)`: whether the route with that key is installed now; `pendingReason(key)`: why it
 * is not (a foreign route holds it, a netlink error), else undefined.
 */
export function learnedStatus(
  selection: LearnedSelection,
  inKernel: (key: string) => boolean,
  pendingReason: (key: string) => string | undefined,
  limit = LEARNED_VIEW_LIMIT,
): LearnedStatus {
  const installed = selection.routes.filter((r) => inKernel(routeKey(r))).length;
  const rows = selection.paths.slice(0, limit).map((p) => row(p, inKernel, pendingReason));
  return {
    paths: selection.paths.length,
    prefixes: selection.prefixes,
    installed,
    routes: rows,
    omitted: Math.max(0, selection.paths.length - limit),
  };
}

function row(
  p: PathDecision,
  inKernel: (key: string) => boolean,
  pendingReason: (key: string) => string | undefined,
): LearnedPathStatus {
  const installed = p.routeKey !== null && inKernel(p.routeKey);
  const reason = installed
    ? null
    : (p.reason ?? (p.routeKey !== null ? pendingReason(p.routeKey) : undefined) ?? 'not programmed yet');
  return {
    prefix: formatPrefix(p.prefix),
    peer: p.peer,
    nextHop: p.nextHop,
    via: p.via,
    asPath: p.asPath,
    origin: p.origin,
    ...(p.med !== undefined ? { med: p.med } : {}),
    ...(p.localPref !== undefined ? { localPref: p.localPref } : {}),
    selected: p.selected,
    installed,
    reason,
  };
}
