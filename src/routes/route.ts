/**
 * The route model shared by the desired-set computation, the diff and the kernel adapter.
 *
 * A route is identified the way the kernel identifies it: family, destination, table and metric
 * (IPv4 fib_table_insert matches on dst/tos/priority; IPv6 fib6_add_rt2 on dst/metric). Two routes
 * with the same key are the same kernel entry, so a change of next hops is a replace, while a change
 * of metric is a delete plus an add.
 */
import { comparePrefix, type Family, formatPrefix, type Prefix } from '../net/prefix.js';

export interface NextHop {
  /** Canonical text (formatAddress), so equal addresses compare equal as strings. */
  readonly gateway: string;
  /** Output interface index; the kernel always reports one for a gateway route. */
  readonly ifindex: number;
  /** RTNH_F_ONLINK: the gateway is on the link even though no connected prefix covers it. */
  readonly onlink?: boolean;
}

/**
 * blackhole: drop. unicast: forward via next hops. throw: end the lookup in this table and let the
 * next ip rule decide (RTN_THROW), which the VLAN policy tables use to hand some destinations back
 * to the main table.
 */
export type RouteKind = 'blackhole' | 'unicast' | 'throw';

export interface Route {
  readonly dst: Prefix;
  readonly table: number;
  readonly metric: number;
  readonly kind: RouteKind;
  /** Empty unless unicast; one entry for a plain gateway route; two or more = ECMP (RTA_MULTIPATH). */
  readonly nexthops: readonly NextHop[];
}

/** A route read back from the kernel: its protocol tag and any type we do not program. */
export interface KernelRoute extends Omit<Route, 'kind'> {
  readonly kind: RouteKind | 'other';
  readonly protocol: number;
}

/** IPv6 stores metric 0 as 1024 (IP6_RT_PRIO_USER), so desired routes carry the stored value. */
export function effectiveMetric(family: Family, metric: number): number {
  return family === 6 && metric === 0 ? 1024 : metric;
}

export function routeKey(r: Pick<Route, 'dst' | 'table' | 'metric'>): string {
  return `${r.table} ${formatPrefix(r.dst)} ${r.metric}`;
}

export function compareNextHop(a: NextHop, b: NextHop): number {
  if (a.gateway !== b.gateway) return a.gateway < b.gateway ? -1 : 1;
  return a.ifindex - b.ifindex;
}

/** Next hops in the order the diff and the tests rely on. */
export function sortNextHops(hops: readonly NextHop[]): NextHop[] {
  return [...hops].sort(compareNextHop);
}

/**
 * Same kernel effect: same kind and same next-hop set. The onlink flag is not compared: the kernel
 * reports it in rtm_flags for single-path routes, and podroute only sets it where no connected
 * prefix covers the gateway, which the gateway choice already pins.
 */
export function sameForwarding(
  a: Pick<KernelRoute, 'kind' | 'nexthops'>,
  b: Pick<Route, 'kind' | 'nexthops'>,
): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind !== 'unicast') return true;
  if (a.nexthops.length !== b.nexthops.length) return false;
  const x = sortNextHops(a.nexthops);
  const y = sortNextHops(b.nexthops);
  return x.every((h, i) => compareNextHop(h, y[i]!) === 0);
}

export function compareRoute(
  a: Pick<Route, 'dst' | 'table' | 'metric'>,
  b: Pick<Route, 'dst' | 'table' | 'metric'>,
): number {
  return a.table - b.table || comparePrefix(a.dst, b.dst) || a.metric - b.metric;
}

/** One line for logs and status: "198.19.1.0/24 blackhole", "198.19.2.0/26 via 198.18.0.3 dev 2 via …". */
export function describeRoute(r: Pick<KernelRoute, 'dst' | 'kind' | 'nexthops'>): string {
  if (r.kind !== 'unicast') return `${formatPrefix(r.dst)} ${r.kind}`;
  const hops = r.nexthops.map((h) => `via ${h.gateway} dev ${h.ifindex}${h.onlink ? ' onlink' : ''}`);
  return `${formatPrefix(r.dst)} ${hops.join(' ')}`;
}
