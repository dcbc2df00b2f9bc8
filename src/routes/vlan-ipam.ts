/**
 * The VLAN data plane derived from IPAM: for every IPAM network with a `vlan`, a `gateway` and an
 * `interface` of which this node holds a block, pods of that network reach
 *   - their own VLAN directly: local pods of the VLAN through the main table, other nodes' blocks
 *     of the VLAN via those nodes' addresses on the VLAN interface (their store node records),
 *     hosts of the VLAN on-link;
 *   - everything else through the VLAN's gateway, including pods of another VLAN on this same
 *     host, so traffic between VLANs always crosses the gateway (where the security devices sit).
 *
 * Per VLAN (table T = VLAN_TABLE_BASE + vlan id):
 *   ip rule  VLAN_IIF_PRIORITY   iif <vlan interface> to <each range of the network> lookup main
 *   ip rule  VLAN_FROM_PRIORITY  from <each range of the network> lookup T
 *   table T: default via <gateway> dev <vlan interface>   (onlink when no connected prefix holds it)
 *            throw <each connected prefix of the interface>   -> hosts of the VLAN: main, on-link
 *            throw <each of this node's blocks of the network> -> local pods of the VLAN: main
 *            <same-VLAN peer block> via <peer address> dev <vlan interface>  (ECMP as usual)
 * The `iif` rule comes first: a packet arriving on the VLAN's own segment (from a same-VLAN node,
 * or forwarded by the gateway from another VLAN) addressed to the VLAN is delivered by the main
 * table; without it the gateway's packet from VLAN B to a local VLAN A pod would match VLAN B's
 * `from` rule and be sent back to the gateway. Peer routes only ever cover blocks of the table's
 * own network: another VLAN's block, even one reachable over this interface, goes to the gateway.
 * Pure: the routes manager diffs the result against the kernel with the rest of its routes.
 */
import {
  formatAddress,
  makePrefix,
  type Prefix,
  parseAddress,
  prefixContains,
  prefixEquals,
} from '../net/prefix.js';
import { type ConnectedPrefix, desiredRoutes, type PeerNode } from './desired.js';
import { compareRoute, effectiveMetric, type Route, routeKey } from './route.js';
import { compareRule, type Rule } from './rule.js';
import type { VlanPolicy } from './vlan.js';

/** Table of VLAN n: 10000 + n (10001..14094), clear of the tables people pick by hand. */
export const VLAN_TABLE_BASE = 10000;
/** Preference of the delivery rules (iif <vlan interface> to <network> lookup main). */
export const VLAN_IIF_PRIORITY = 900;
/** Preference of the source rules (from <network> lookup <VLAN table>). */
export const VLAN_FROM_PRIORITY = 901;
/** The main table, where the runtime's routes to local pods (ptp: <pod>/32 dev veth) live. */
const MAIN_TABLE = 254;

/** One VLAN network present on this node (IPAM network with vlan, gateway, interface, a block here). */
export interface IpamVlan {
  /** The IPAM network's name. */
  readonly network: string;
  readonly vlan: number;
  readonly interface: string;
  readonly gateway: string;
  /** The network's ranges (the VLAN's subnets). */
  readonly ranges: readonly Prefix[];
  /** This node's blocks of the network. */
  readonly blocks: readonly Prefix[];
}

export interface IpamVlanInput {
  readonly vlans: readonly IpamVlan[];
  readonly peers: readonly PeerNode[];
  readonly connected: readonly ConnectedPrefix[];
  readonly metric: number;
}

export function vlanTable(vlan: number): number {
  return VLAN_TABLE_BASE + vlan;
}

export function ipamVlanPolicy(input: IpamVlanInput): VlanPolicy {
  const routes: Route[] = [];
  const rules: Rule[] = [];
  const issues: string[] = [];
  for (const v of input.vlans) {
    const gwBytes = parseAddress(v.gateway);
    const family = gwBytes.length === 4 ? 4 : 6;
    const links = input.connected.filter((c) => c.ifname === v.interface && c.prefix.family === family);
    if (links.length === 0) {
      // No path to the gateway: a rule alone would let the VLAN's traffic fall through to the main
      // table, across VLANs, so nothing of this VLAN is installed.
      issues.push(
        `${v.network} (vlan ${v.vlan}): ${v.interface} missing or without an IPv${family} address; VLAN routes not installed`,
      );
      continue;
    }
    const table = vlanTable(v.vlan);
    const ifindex = links[0]!.ifindex;
    const metric = effectiveMetric(family, input.metric);
    const gwHost = makePrefix(gwBytes, gwBytes.length * 8);
    const onlink = !links.some((l) => prefixContains(l.prefix, gwHost));
    const gateway = formatAddress(gwBytes);
    const byKey = new Map<string, Route>();
    const put = (r: Route): void => {
      if (!byKey.has(routeKey(r))) byKey.set(routeKey(r), r);
    };
    put({
      dst: makePrefix(Buffer.alloc(gwBytes.length), 0),
      table,
      metric,
      kind: 'unicast',
      nexthops: [onlink ? { gateway, ifindex, onlink: true } : { gateway, ifindex }],
    });
    const onLink = links
      .filter((l) => l.prefix.length < l.prefix.bytes.length * 8)
      .map((l) => l.prefix)
      .filter((p, i, all) => all.findIndex((q) => prefixEquals(p, q)) === i);
    for (const dst of [...onLink, ...v.blocks.filter((b) => b.family === family)]) {
      put({ dst, table, metric, kind: 'throw', nexthops: [] });
    }
    const inVlan = (p: Prefix): boolean => v.ranges.some((r) => prefixContains(r, p));
    const peers = desiredRoutes({
      announced: [],
      peers: input.peers.map((p) => ({ ...p, blocks: p.blocks.filter(inVlan) })),
      connected: input.connected,
      options: { mode: 'layer2', blackholes: false, table, metric: input.metric, interfaces: [v.interface] },
    });
    for (const r of peers.routes) if (r.dst.family === family) put(r);
    routes.push(...byKey.values());
    const any = makePrefix(Buffer.alloc(gwBytes.length), 0);
    for (const range of v.ranges.filter((r) => r.family === family)) {
      rules.push({ priority: VLAN_IIF_PRIORITY, src: any, iif: v.interface, dst: range, table: MAIN_TABLE });
      rules.push({ priority: VLAN_FROM_PRIORITY, src: range, table });
    }
  }
  return { routes: routes.sort(compareRoute), rules: rules.sort(compareRule), issues };
}
