/**
 * Per-node peer selection: one cluster-wide `bgp:` section (a DaemonSet's one ConfigMap) becomes
 * this node's effective BGP configuration. A pure function of (configured peers, node labels,
 * default gateways), so start and reload compute the same thing:
 *
 *  - a peer entry with `nodeSelector` applies only when every label matches; without one it
 *    applies everywhere;
 *  - `address: gateway` becomes one peer per default gateway of the node's uplinks (IPv4 and
 *    IPv6, each ECMP next hop), since in a routed fabric the leaf is the node's next hop. An IPv6
 *    link-local gateway (fe80::/10, RFC 4291 2.5.6) is peered with as `fe80::…%uplink`: the zone
 *    (RFC 4007 11) scopes the connection to the uplink. Its IPv6 next hop (RFC 2545 3) is the
 *    entry's `ipv6NextHop`, else the uplink's global address, with the session's own link-local
 *    address as the second one. TCP MD5 and GTSM sockets are opened without a zone, so an entry
 *    with `password`/`passwordFile`/`ttlSecurity` still skips link-local gateways;
 *  - the local ASN is the first matching `asnOverrides` entry, else the `asnFromLabel` label
 *    (which must be there and be a number), else `asn`.
 *
 * Every entry gets a line saying whether it applied and why, for `podroute status` and the logs.
 */
import type { BgpConfig, BgpPeerConfig } from './bgp.js';
import { asn as asnRule } from './rules.js';

/** A default route's next hop (src/routes/gateways.ts reads them from the kernel). */
export interface Gateway {
  readonly address: string;
  readonly family: 4 | 6;
  /** The interface the route goes out of (the uplink). */
  readonly interface: string;
  /** The uplink's global IPv6 address: the next hop announced to a link-local gateway. */
  readonly global6?: string;
}

export interface NodeFacts {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly gateways: readonly Gateway[];
}

/** One configured peer entry, as `podroute status` shows it. */
export interface PeerSelectionEntry {
  /** Index in bgp.peers. */
  entry: number;
  /** As configured: an address or `gateway`. */
  address: string;
  applied: boolean;
  reason: string;
  /** `address: gateway`: the peer addresses it became. */
  resolved?: string[];
}

/** The node's BGP configuration: a concrete ASN and concrete peer addresses. */
export type NodeBgpConfig = Omit<BgpConfig, 'asn'> & { asn: number };

export interface NodeBgpSelection {
  bgp: NodeBgpConfig;
  selection: PeerSelectionEntry[];
  /** Where the local ASN came from, for the log. */
  asnSource: string;
}

/** The node cannot get a local ASN: `key.path: why` lines like the config loader's. */
export class PeerSelectionError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'PeerSelectionError';
  }
}

const describe = (sel: Readonly<Record<string, string>>): string =>
  Object.entries(sel)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** Undefined when every label matches; else the first mismatch in words. */
export function selectorMismatch(
  selector: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>,
): string | undefined {
  for (const [k, v] of Object.entries(selector)) {
    const have = labels[k];
    if (have !== v) return have === undefined ? `node has no label ${k}` : `node has ${k}=${have}`;
  }
  return undefined;
}

function localAsn(bgp: BgpConfig, node: NodeFacts): { asn: number; source: string } {
  for (const [i, o] of (bgp.asnOverrides ?? []).entries()) {
    if (selectorMismatch(o.nodeSelector, node.labels) === undefined)
      return { asn: o.asn, source: `bgp.asnOverrides[${i}] (${describe(o.nodeSelector)})` };
  }
  if (bgp.asnFromLabel !== undefined) {
    const label = bgp.asnFromLabel;
    const value = node.labels[label];
    if (value === undefined)
      throw new PeerSelectionError([`bgp.asnFromLabel: node ${node.name} has no label ${label}`]);
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!asnRule.safeParse(n).success)
      throw new PeerSelectionError([
        `bgp.asnFromLabel: node ${node.name} label ${label}=${JSON.stringify(value)} is not a valid ASN (0..4294967295)`,
      ]);
    return { asn: n, source: `node label ${label}` };
  }
  if (bgp.asn === undefined) throw new PeerSelectionError(['bgp.asn: is required (or bgp.asnFromLabel)']);
  return { asn: bgp.asn, source: 'bgp.asn' };
}

const isLinkLocal6 = (a: string): boolean => /^fe[89ab][0-9a-f]:/i.test(a);

export function selectNodeBgp(bgp: BgpConfig, node: NodeFacts): NodeBgpSelection {
  const { asn, source } = localAsn(bgp, node);
  const peers: BgpPeerConfig[] = [];
  const taken = new Map<string, number>();
  const take = (entry: number, peer: BgpPeerConfig): boolean => {
    const key = peer.address.toLowerCase();
    if (taken.has(key)) return false;
    taken.set(key, entry);
    peers.push(peer);
    return true;
  };
  const selection = bgp.peers.map((configured, entry): PeerSelectionEntry => {
    const { nodeSelector, ...peer } = configured;
    const base = { entry, address: configured.address };
    const mismatch = nodeSelector ? selectorMismatch(nodeSelector, node.labels) : undefined;
    if (nodeSelector && mismatch !== undefined)
      return { ...base, applied: false, reason: `nodeSelector ${describe(nodeSelector)}: ${mismatch}` };
    const why =
      nodeSelector && Object.keys(nodeSelector).length > 0
        ? `nodeSelector ${describe(nodeSelector)} matches`
        : 'no nodeSelector (every node)';
    if (configured.address !== 'gateway') {
      if (!take(entry, peer))
        return {
          ...base,
          applied: false,
          reason: `${why}; same address as entry ${taken.get(peer.address.toLowerCase())}`,
        };
      return { ...base, applied: true, reason: why };
    }
    const resolved: string[] = [];
    const notes: string[] = [];
    for (const gw of node.gateways) {
      const description = peer.description ?? `gateway via ${gw.interface}`;
      let concrete: BgpPeerConfig = { ...peer, address: gw.address, description };
      if (gw.family === 6 && isLinkLocal6(gw.address)) {
        if (peer.password !== undefined || peer.passwordFile !== undefined || peer.ttlSecurity) {
          notes.push(
            `link-local gateway ${gw.address} on ${gw.interface} skipped (TCP MD5 and GTSM need a global address)`,
          );
          continue;
        }
        const nextHop = peer.ipv6NextHop ?? gw.global6;
        concrete = { ...concrete, address: `${gw.address}%${gw.interface}` };
        if (nextHop) concrete.ipv6NextHop = nextHop;
        else
          notes.push(
            `no global IPv6 address on ${gw.interface}: no IPv6 prefix can be announced to ${gw.address}`,
          );
      }
      if (take(entry, concrete)) resolved.push(concrete.address);
      else
        notes.push(
          `gateway ${concrete.address} is already entry ${taken.get(concrete.address.toLowerCase())}`,
        );
    }
    if (resolved.length === 0) {
      const none = node.gateways.length === 0 ? 'no default gateway on the node' : notes.join('; ');
      return { ...base, applied: false, reason: `${why}; ${none}`, resolved };
    }
    const found = `default gateway${resolved.length > 1 ? 's' : ''} ${resolved.join(', ')}`;
    return { ...base, applied: true, reason: [`${why}; ${found}`, ...notes].join('; '), resolved };
  });
  return { bgp: { ...bgp, asn, peers }, selection, asnSource: source };
}

/** Whether any applying entry needs the gateways (so a node without `gateway` peers never reads them). */
export function needsGateways(bgp: BgpConfig, labels: Readonly<Record<string, string>>): boolean {
  return bgp.peers.some(
    (p) =>
      p.address === 'gateway' && (!p.nodeSelector || selectorMismatch(p.nodeSelector, labels) === undefined),
  );
}
