/**
 * The status view of the learned routes (`routes.learned` in the status document), in the manner
 * of `show ip bgp`: one row per received path with its next hop, peer, AS path, whether it is the
 * best or an ECMP member, and whether its route is in the kernel (or why not).
 *
 * Bounded: the counts always cover every path, the list holds at most `LEARNED_VIEW_LIMIT` rows
 * (by prefix), and `omitted` says how many more there are, so a full table from a peer cannot make
 * every status call (and every metrics scrape) carry a million rows.
 *
 * Peers with `install: false` never reach route selection (nothing of theirs is copied to the route
 * programmer): their paths join the view here, read when the status is asked — only the first rows
 * go through selection (for `via` and `reason`), the counts come from where the paths are kept.
 */
import type { Prefix } from '../net/prefix.js';
import { comparePrefix, formatPrefix } from '../net/prefix.js';
import type { ConnectedPrefix } from './desired.js';
import {
  type LearnedPeer,
  type LearnedSelection,
  type PathDecision,
  type SelectOptions,
  selectLearned,
} from './learned.js';
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

/** Paths kept from peers with `install: false`, read only when the status is asked. */
export interface ShownOnlyRoutes {
  /** How many such paths are kept now. */
  paths(): number;
  /** Distinct prefixes kept from every peer, installed or not. */
  prefixes(): number;
  /** Each such peer with its first `limit` paths by prefix. */
  first(limit: number): LearnedPeer[];
}

/** The `install: false` peers' part of the view (`shownPaths`). */
export interface ShownPaths {
  /** Their paths kept now. */
  readonly paths: number;
  /** Distinct prefixes over every peer's paths, installed or not. */
  readonly prefixes: number;
  /** Decisions for their first rows, by prefix. */
  readonly decisions: readonly PathDecision[];
}

/** Reads the `install: false` peers' first `limit` paths and decides them (reason, via) for the view. */
export function shownPaths(
  shown: ShownOnlyRoutes | undefined,
  ctx: {
    own: readonly Prefix[];
    connected: readonly ConnectedPrefix[];
    podNetworks: readonly Prefix[];
    options: SelectOptions;
  },
  limit = LEARNED_VIEW_LIMIT,
): ShownPaths | undefined {
  const paths = shown?.paths() ?? 0;
  if (!shown || paths === 0) return undefined;
  const peers = shown.first(limit);
  const sel = selectLearned({ peers, podNetworks: ctx.podNetworks }, ctx.own, ctx.connected, ctx.options);
  return { paths, prefixes: shown.prefixes(), decisions: sel.paths };
}

/**
 * `inKernel(key)`: whether the route with that key is installed now; `pendingReason(key)`: why it
 * is not (a foreign route holds it, a netlink error), else undefined.
 */
export function learnedStatus(
  selection: LearnedSelection,
  inKernel: (key: string) => boolean,
  pendingReason: (key: string) => string | undefined,
  limit = LEARNED_VIEW_LIMIT,
  shown?: ShownPaths,
): LearnedStatus {
  const installed = selection.routes.filter((r) => inKernel(routeKey(r))).length;
  const listed = shown ? merge(selection.paths, shown.decisions, limit) : selection.paths.slice(0, limit);
  const paths = selection.paths.length + (shown?.paths ?? 0);
  return {
    paths,
    prefixes: shown ? shown.prefixes : selection.prefixes,
    installed,
    routes: listed.map((p) => row(p, inKernel, pendingReason)),
    omitted: Math.max(0, paths - limit),
  };
}

/** The first `limit` of two lists sorted by prefix; on the same prefix the installable peers' first. */
function merge(a: readonly PathDecision[], b: readonly PathDecision[], limit: number): PathDecision[] {
  const out: PathDecision[] = [];
  let i = 0;
  let j = 0;
  while (out.length < limit && (i < a.length || j < b.length)) {
    if (j >= b.length || (i < a.length && comparePrefix(a[i]!.prefix, b[j]!.prefix) <= 0)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
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
