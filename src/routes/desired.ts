/**
 * The desired route set: a pure function of the announced prefixes, the other nodes (addresses and
 * blocks, from the store) and this node's connected prefixes (from the kernel).
 *
 * - Every announced prefix gets a blackhole, so traffic for addresses in it that no pod holds dies
 *   here instead of following the default route back to the fabric (a loop until TTL expiry).
 * - layer2 mode: each other node's blocks are routed via that node's address, but only for nodes
 *   whose address lies in one of our connected prefixes (same link: no router in between). Romana's
 *   layer 2 mode did the same test with `RouteGet` and skipped multi-hop peers.
 *   A node with two addresses on our links (dual ToR / two NICs) gets one ECMP route per block
 *   (romana#179). No proxy ARP is involved: the next hop is the peer node itself.
 * - Routes learned from BGP peers (chosen in learned.ts) join the set as they are.
 */
import { isIPv4, isIPv6 } from 'node:net';
import {
  type Family,
  formatAddress,
  formatPrefix,
  makePrefix,
  type Prefix,
  parseAddress,
  parsePrefix,
  prefixContains,
} from '../net/prefix.js';
import { compareRoute, effectiveMetric, type NextHop, type Route, routeKey, sortNextHops } from './route.js';

/** One address of this node, with the prefix it makes on-link. */
export interface ConnectedPrefix {
  readonly ifindex: number;
  readonly ifname: string;
  /** Our own address on that link (canonical text). */
  readonly address: string;
  /** The connected network, e.g. 198.18.0.0/24 for 198.18.0.2/24. */
  readonly prefix: Prefix;
}

export interface PeerNode {
  readonly node: string;
  /** The node's addresses (IPv4 and/or IPv6 text). */
  readonly addresses: readonly string[];
  /** The blocks the store says the node holds. */
  readonly blocks: readonly Prefix[];
}

export interface DesiredOptions {
  readonly mode: 'layer3' | 'layer2';
  readonly blackholes: boolean;
  readonly table: number;
  readonly metric: number;
  /** layer2: only connected prefixes on these interfaces count; undefined = all. */
  readonly interfaces?: readonly string[] | undefined;
}

export interface DesiredInput {
  readonly announced: readonly Prefix[];
  readonly peers: readonly PeerNode[];
  readonly connected: readonly ConnectedPrefix[];
  readonly options: DesiredOptions;
  /** Routes learned from BGP peers, already selected (learned.ts). */
  readonly learned?: readonly Route[];
}

/** Why a peer (or one of its blocks) got no route; shown in status and logs, never an error. */
export interface Skipped {
  readonly node: string;
  readonly block?: string;
  readonly reason: string;
}

export interface DesiredRoutes {
  /** Sorted by table, destination, metric; one route per key. */
  readonly routes: Route[];
  readonly skipped: Skipped[];
}

/** IPv6 link-local (fe80::/10) is on every link at once, so it cannot tell us which link a node is on. */
const V6_LINK_LOCAL = parsePrefix('fe80::/10');

export function desiredRoutes(input: DesiredInput): DesiredRoutes {
  const { options } = input;
  const byKey = new Map<string, Route>();
  const skipped: Skipped[] = [];

  if (options.blackholes) {
    for (const dst of input.announced) {
      const route: Route = {
        dst,
        table: options.table,
        metric: effectiveMetric(dst.family, options.metric),
        kind: 'blackhole',
        nexthops: [],
      };
      byKey.set(routeKey(route), route);
    }
  }

  if (options.mode === 'layer2') {
    const connected = input.connected.filter(
      (c) => options.interfaces === undefined || options.interfaces.includes(c.ifname),
    );
    const ours = new Set(input.connected.map((c) => c.address));
    // Deterministic winner when two nodes claim the same block: the first by name.
    const peers = [...input.peers].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    for (const peer of peers) {
      const hops = peerNextHops(peer, connected, ours, skipped);
      for (const block of peer.blocks) {
        const familyHops = hops.get(block.family) ?? [];
        if (familyHops.length === 0) {
          skipped.push({
            node: peer.node,
            block: formatPrefix(block),
            reason: `no IPv${block.family} address of the node is on one of our links`,
          });
          continue;
        }
        const route: Route = {
          dst: block,
          table: options.table,
          metric: effectiveMetric(block.family, options.metric),
          kind: 'unicast',
          nexthops: familyHops,
        };
        const key = routeKey(route);
        const existing = byKey.get(key);
        if (existing) {
          skipped.push({
            node: peer.node,
            block: formatPrefix(block),
            reason:
              existing.kind === 'blackhole'
                ? 'the block is one of our own announced prefixes'
                : 'another node already holds the same block',
          });
          continue;
        }
        byKey.set(key, route);
      }
    }
  }

  // Learned routes come last and never displace a blackhole or a layer 2 route: learned.ts keeps
  // out the node's own prefixes and its pod networks, which is where those routes live.
  for (const route of input.learned ?? []) {
    const key = routeKey(route);
    if (!byKey.has(key)) byKey.set(key, route);
  }

  return { routes: [...byKey.values()].sort(compareRoute), skipped };
}

/**
 * The next hops towards a peer, per family: each of its addresses that lies in one of our connected
 * prefixes, through the interface of the longest such prefix (lowest ifindex on a tie).
 */
function peerNextHops(
  peer: PeerNode,
  connected: readonly ConnectedPrefix[],
  ours: ReadonlySet<string>,
  skipped: Skipped[],
): Map<Family, NextHop[]> {
  const out = new Map<Family, NextHop[]>();
  for (const text of peer.addresses) {
    if (!isIPv4(text) && !isIPv6(text)) {
      skipped.push({ node: peer.node, reason: `${JSON.stringify(text)} is not an IP address` });
      continue;
    }
    const bytes = parseAddress(text);
    const gateway = formatAddress(bytes);
    const host = makePrefix(bytes, bytes.length * 8);
    if (ours.has(gateway)) {
      skipped.push({ node: peer.node, reason: `${gateway} is one of our own addresses` });
      continue;
    }
    if (prefixContains(V6_LINK_LOCAL, host)) {
      skipped.push({ node: peer.node, reason: `${gateway} is link-local` });
      continue;
    }
    const link = bestConnected(host, connected);
    if (!link) continue;
    const list = out.get(host.family) ?? [];
    if (!list.some((h) => h.gateway === gateway)) list.push({ gateway, ifindex: link.ifindex });
    out.set(host.family, list);
  }
  for (const [family, list] of out) out.set(family, sortNextHops(list));
  return out;
}

function bestConnected(host: Prefix, connected: readonly ConnectedPrefix[]): ConnectedPrefix | undefined {
  let best: ConnectedPrefix | undefined;
  for (const c of connected) {
    if (!prefixContains(c.prefix, host)) continue;
    // A /32 or /128 "connected prefix" is only ourselves (or a point-to-point peer address we
    // already excluded as ours); it says nothing about a shared link.
    if (c.prefix.length === host.length) continue;
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
