/**
 * Learned routes: which of the routes the BGP peers sent (what their `accept` policy kept) go into
 * the kernel, and through which next hops. Pure: the received paths of every peer, the node's own
 * prefixes, its pod networks and its connected prefixes in, kernel routes and one decision per path
 * out (the status view shows the decisions, like `show ip bgp`).
 *
 * RFC 4271 9.1.2: a path whose NEXT_HOP cannot be resolved (here: not on one of our connected
 * networks, or one of our own addresses) takes no part in the decision. Then, per prefix, the paths
 * left are narrowed step by step (9.1.1 degree of preference, then 9.1.2.2):
 *   LOCAL_PREF (iBGP only; eBGP paths count as 100, RFC 4271 5.1.5), (a) shortest AS_PATH (an AS_SET
 *   counts as one, confederation segments as none, RFC 5065 5.3), (b) lowest ORIGIN, (c) lowest MED
 *   among paths from the same neighbour AS, (d) eBGP over iBGP. (e) is moot: every next hop is
 *   directly connected. Every path still left is installed together, one ECMP route; (f) lowest BGP
 *   Identifier and (g) lowest peer address only name the "best" one for the status view.
 *
 * Never installed, whatever the peers say: a prefix equal to or inside one the node announces (its
 * blackhole and its pods must win), a prefix inside one of its pod networks, and anything from a
 * peer with `install: false` (kept in the Adj-RIB-In, shown in status, not in the kernel).
 *
 * IPv6 next hops: a link-local next hop (RFC 2545 3, the second MP_REACH next hop, or the only one)
 * is used through the interface that holds our end of the session; otherwise the global next hop
 * through the connected network it lies in.
 */
import { isIPv4, isIPv6 } from 'node:net';
import {
  comparePrefix,
  type Family,
  formatAddress,
  formatPrefix,
  makePrefix,
  type Prefix,
  parseAddress,
  parsePrefix,
  prefixContains,
} from '../net/prefix.js';
import type { ConnectedPrefix } from './desired.js';
import { compareNextHop, effectiveMetric, type NextHop, type Route, routeKey } from './route.js';

/** AS_PATH segment types (RFC 4271 4.3, RFC 5065 3). */
const AS_SET = 1;
const AS_SEQUENCE = 2;
/** ORIGIN values (RFC 4271 5.1.1); a path without ORIGIN ranks as INCOMPLETE. */
const ORIGIN_NAMES = ['IGP', 'EGP', 'incomplete'] as const;
const ORIGIN_INCOMPLETE = 2;
/** RFC 4271 5.1.5: LOCAL_PREF is only meaningful inside the AS; others rank at the usual default. */
const DEFAULT_LOCAL_PREF = 100;

/** One received path, as the speaker's Adj-RIB-In holds it (structurally its ReceivedRoute). */
export interface LearnedPath {
  readonly prefix: Prefix;
  readonly nextHop: string;
  readonly linkLocalNextHop?: string;
  readonly asPath: readonly { readonly type: number; readonly asns: readonly number[] }[];
  readonly localPref?: number;
  readonly med?: number;
  readonly origin?: number;
}

export interface LearnedPeer {
  /** The peer's address (any text form). */
  readonly address: string;
  readonly asn: number;
  /** The session is internal (the peer's AS is ours). */
  readonly ibgp: boolean;
  /** The peer's BGP Identifier from its OPEN (RFC 4271 4.2), for tie-break (f). */
  readonly routerId: string;
  /** Our address on the session: its interface carries link-local next hops. */
  readonly localAddress?: string | undefined;
  /** Per-peer `install`: false keeps the paths out of the kernel. */
  readonly install: boolean;
  /** Any iterable that can be walked more than once (an array, or the route table's view). */
  readonly routes: Iterable<LearnedPath>;
}

export interface LearnedInput {
  readonly peers: readonly LearnedPeer[];
  /** The pod networks (ipam networks' cidrs): nothing inside them is ever learned. */
  readonly podNetworks: readonly Prefix[];
}

export interface SelectOptions {
  readonly table: number;
  readonly metric: number;
}

/** What became of one received path. */
export interface PathDecision {
  readonly prefix: Prefix;
  readonly peer: string;
  readonly nextHop: string;
  /** The kernel next hop it resolved to, e.g. "fe80::1 dev eth1"; null when unresolved. */
  readonly via: string | null;
  /** AS_PATH as `show ip bgp` prints it: "65000 {65001,65002}". */
  readonly asPath: string;
  readonly origin: (typeof ORIGIN_NAMES)[number];
  readonly med?: number;
  readonly localPref?: number;
  /** best: the path (f)/(g) names; multipath: installed beside it; null: not selected. */
  readonly selected: 'best' | 'multipath' | null;
  /** Why the path is not selected; null when it is. */
  readonly reason: string | null;
  /** Key of the kernel route the path is part of (with routeKey), when selected. */
  readonly routeKey: string | null;
}

export interface LearnedSelection {
  /** One route per prefix, sorted; ECMP when several paths tie. */
  readonly routes: Route[];
  /** Every path, by prefix, the best first, then the other selected ones, then the rest. */
  readonly paths: PathDecision[];
  /** Distinct prefixes received (selected or not). */
  readonly prefixes: number;
}

interface Candidate {
  readonly peer: LearnedPeer;
  readonly peerAddress: string;
  readonly path: LearnedPath;
  readonly hop: (NextHop & { readonly ifname: string }) | undefined;
  reason: string | null;
}

const V6_LINK_LOCAL = parsePrefix('fe80::/10');

export function selectLearned(
  input: LearnedInput,
  own: readonly Prefix[],
  connected: readonly ConnectedPrefix[],
  options: SelectOptions,
): LearnedSelection {
  const ours = new Set(connected.map((c) => c.address));
  const byPrefix = new Map<string, Candidate[]>();
  for (const peer of input.peers) {
    const peerAddress = canonical(peer.address);
    const local = peer.localAddress === undefined ? undefined : canonical(peer.localAddress);
    const sessionLink = connected.find((c) => c.address === local);
    for (const path of peer.routes) {
      const hop = resolveNextHop(path, sessionLink, connected, ours);
      const reason =
        excluded(path.prefix, own, input.podNetworks) ??
        (peer.install ? null : 'install: false') ??
        hop.reason;
      const c: Candidate = { peer, peerAddress, path, hop: hop.hop, reason };
      const key = formatPrefix(path.prefix);
      const list = byPrefix.get(key);
      if (list) list.push(c);
      else byPrefix.set(key, [c]);
    }
  }

  const routes: Route[] = [];
  const paths: PathDecision[] = [];
  const prefixes = [...byPrefix.values()].sort((a, b) => comparePrefix(a[0]!.path.prefix, b[0]!.path.prefix));
  for (const candidates of prefixes) {
    const dst = candidates[0]!.path.prefix;
    const chosen = decide(candidates.filter((c) => c.reason === null));
    let key: string | null = null;
    if (chosen.length > 0) {
      const hops = new Map<string, NextHop>();
      for (const c of chosen) hops.set(`${c.hop!.gateway} ${c.hop!.ifindex}`, bareHop(c.hop!));
      const route: Route = {
        dst,
        table: options.table,
        metric: effectiveMetric(dst.family, options.metric),
        kind: 'unicast',
        nexthops: [...hops.values()].sort(compareNextHop),
      };
      key = routeKey(route);
      routes.push(route);
    }
    const rank = (c: Candidate): number => (c === chosen[0] ? 0 : chosen.includes(c) ? 1 : 2);
    for (const c of [...candidates].sort((a, b) => rank(a) - rank(b))) {
      const r = rank(c);
      paths.push(decision(c, r === 0 ? 'best' : r === 1 ? 'multipath' : null, r < 2 ? key : null));
    }
  }
  return { routes, paths, prefixes: byPrefix.size };
}

/**
 * The paths installed together, best first: RFC 4271 9.1.1 and 9.1.2.2 (a)-(d) remove paths, each
 * loser getting its reason; (f) and (g) only order what is left.
 */
function decide(live: Candidate[]): Candidate[] {
  const keep = (list: Candidate[], better: (c: Candidate) => boolean, reason: string): Candidate[] => {
    const out: Candidate[] = [];
    for (const c of list) {
      if (better(c)) out.push(c);
      else c.reason = reason;
    }
    return out;
  };
  let left = live;
  const pref = (c: Candidate): number =>
    c.peer.ibgp ? (c.path.localPref ?? DEFAULT_LOCAL_PREF) : DEFAULT_LOCAL_PREF;
  const maxPref = Math.max(...left.map(pref));
  left = keep(left, (c) => pref(c) === maxPref, 'lower LOCAL_PREF');
  const minLen = Math.min(...left.map((c) => asPathLength(c.path)));
  left = keep(left, (c) => asPathLength(c.path) === minLen, 'longer AS path');
  const origin = (c: Candidate): number => c.path.origin ?? ORIGIN_INCOMPLETE;
  const minOrigin = Math.min(...left.map(origin));
  left = keep(left, (c) => origin(c) === minOrigin, 'higher origin');
  // (c) MED counts only between paths from the same neighbour AS; a missing MED is the lowest.
  const minMed = new Map<number, number>();
  for (const c of left) {
    const as = neighbourAs(c);
    minMed.set(as, Math.min(minMed.get(as) ?? Number.POSITIVE_INFINITY, c.path.med ?? 0));
  }
  left = keep(left, (c) => (c.path.med ?? 0) === minMed.get(neighbourAs(c)), 'higher MED');
  if (left.some((c) => !c.peer.ibgp)) left = keep(left, (c) => !c.peer.ibgp, 'iBGP (an eBGP path exists)');
  return left.sort(
    (a, b) =>
      compareAddress(a.peer.routerId, b.peer.routerId) || compareAddress(a.peerAddress, b.peerAddress),
  );
}

/** RFC 4271 9.1.2.2 (a): an AS_SET counts as one AS; confederation segments count as none. */
export function asPathLength(path: Pick<LearnedPath, 'asPath'>): number {
  let n = 0;
  for (const seg of path.asPath) {
    if (seg.type === AS_SEQUENCE) n += seg.asns.length;
    else if (seg.type === AS_SET) n += 1;
  }
  return n;
}

/** RFC 4271 9.1.2.2 (c): the AS the path came from, the leftmost of AS_PATH (ours when empty). */
function neighbourAs(c: Candidate): number {
  const first = c.path.asPath.find((s) => s.type === AS_SEQUENCE || s.type === AS_SET);
  return first?.asns[0] ?? (c.peer.ibgp ? c.peer.asn : -1);
}

export function formatAsPath(path: Pick<LearnedPath, 'asPath'>): string {
  return path.asPath
    .map((s) => (s.type === AS_SET ? `{${s.asns.join(',')}}` : s.asns.join(' ')))
    .filter((s) => s !== '')
    .join(' ');
}

/** Why a prefix may never be learned, or null. */
function excluded(p: Prefix, own: readonly Prefix[], pods: readonly Prefix[]): string | null {
  const mine = own.find((o) => prefixContains(o, p));
  if (mine) {
    return comparePrefix(mine, p) === 0
      ? 'the node announces this prefix'
      : `inside ${formatPrefix(mine)}, which the node announces`;
  }
  const pod = pods.find((o) => prefixContains(o, p));
  return pod ? `inside pod network ${formatPrefix(pod)}` : null;
}

type Resolved = { hop: (NextHop & { ifname: string }) | undefined; reason: string | null };

function resolveNextHop(
  path: LearnedPath,
  sessionLink: ConnectedPrefix | undefined,
  connected: readonly ConnectedPrefix[],
  ours: ReadonlySet<string>,
): Resolved {
  const family = path.prefix.family;
  const linkLocal = [path.linkLocalNextHop, path.nextHop].find((a) => a !== undefined && isLinkLocal(a));
  if (family === 6 && linkLocal !== undefined && sessionLink) {
    const gateway = canonical(linkLocal);
    return { hop: { gateway, ifindex: sessionLink.ifindex, ifname: sessionLink.ifname }, reason: null };
  }
  const text = path.nextHop;
  if (!isIPv4(text) && !isIPv6(text)) return { hop: undefined, reason: `next hop ${text} is not an address` };
  const gateway = canonical(text);
  if ((isIPv4(gateway) ? 4 : 6) !== family) {
    return { hop: undefined, reason: `next hop ${gateway} is not an IPv${family} address` };
  }
  if (ours.has(gateway)) return { hop: undefined, reason: `next hop ${gateway} is our own address` };
  const link = onLink(parseAddress(gateway), family, connected);
  if (!link) return { hop: undefined, reason: `next hop ${gateway} is not on a connected network` };
  return { hop: { gateway, ifindex: link.ifindex, ifname: link.ifname }, reason: null };
}

/** The connected network the address lies in (the longest; lowest ifindex on a tie). */
function onLink(bytes: Buffer, family: Family, connected: readonly ConnectedPrefix[]) {
  const host = makePrefix(bytes, family === 4 ? 32 : 128);
  if (prefixContains(V6_LINK_LOCAL, host)) return undefined;
  let best: ConnectedPrefix | undefined;
  for (const c of connected) {
    // A host-length "network" (/32, /128) is only ourselves: it makes nothing else on-link.
    if (c.prefix.length === host.length || !prefixContains(c.prefix, host)) continue;
    if (
      !best ||
      c.prefix.length > best.prefix.length ||
      (c.prefix.length === best.prefix.length && c.ifindex < best.ifindex)
    ) {
      best = c;
    }
  }
  return best;
}

function decision(c: Candidate, selected: PathDecision['selected'], key: string | null): PathDecision {
  const p = c.path;
  return {
    prefix: p.prefix,
    peer: c.peerAddress,
    nextHop: p.linkLocalNextHop ? `${p.nextHop} ${p.linkLocalNextHop}` : p.nextHop,
    via: c.hop ? `${c.hop.gateway} dev ${c.hop.ifname}` : null,
    asPath: formatAsPath(p),
    origin: ORIGIN_NAMES[p.origin ?? ORIGIN_INCOMPLETE] ?? 'incomplete',
    ...(p.med !== undefined ? { med: p.med } : {}),
    ...(p.localPref !== undefined ? { localPref: p.localPref } : {}),
    selected,
    reason: selected ? null : c.reason,
    routeKey: key,
  };
}

function bareHop(h: NextHop): NextHop {
  return { gateway: h.gateway, ifindex: h.ifindex };
}

function isLinkLocal(text: string): boolean {
  return isIPv6(text) && prefixContains(V6_LINK_LOCAL, makePrefix(parseAddress(text), 128));
}

/** Canonical text; an IPv4-mapped IPv6 address (a dual-stack socket's view) as plain IPv4. */
function canonical(text: string): string {
  const bare = text.replace(/%.*$/, '');
  if (!isIPv4(bare) && !isIPv6(bare)) return text;
  const b = parseAddress(bare);
  const mapped =
    b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return formatAddress(mapped ? b.subarray(12) : b);
}

function compareAddress(a: string, b: string): number {
  const x = isIPv4(a) || isIPv6(a) ? parseAddress(a) : Buffer.from(a);
  const y = isIPv4(b) || isIPv6(b) ? parseAddress(b) : Buffer.from(b);
  return x.length - y.length || Buffer.compare(x, y);
}
