/**
 * VLAN-aware forwarding for a node with a leg in several VLANs (eth0.10, eth0.20, ...), each with its
 * own gateway (the router or firewall between VLANs). Pod networks are bound to a VLAN; traffic from
 * them must reach other VLANs through their VLAN's gateway and never be routed straight across the
 * node, which would bypass the gateway's policy. Romana documented this ("forwarded instead to the
 * gateway device") but never implemented it; here it is `ip rule from <net> lookup <table>`.
 *
 * Per VLAN, with table T and preference P:
 *   ip rule:  P  from <each pod network of the VLAN> lookup T
 *   table T:  default via <VLAN gateway> dev <VLAN interface>   (onlink if no connected prefix covers it)
 *             throw <each announced prefix>      -> local pods: back to the next rule (main)
 *             throw <each connected prefix of the VLAN interface> -> hosts in the VLAN: direct
 *             <same-VLAN peer block> via <peer>  (layer2 mode: nodes on this VLAN's link, ECMP as usual)
 * Everything else from those sources, including blocks of nodes in other VLANs that the node could
 * reach directly over another leg, goes to the gateway. Pure: the manager programs the result.
 */
import type { VlanConfig } from '../config/routes.js';
import {
  type Family,
  formatAddress,
  makePrefix,
  type Prefix,
  parseAddress,
  parsePrefix,
  prefixContains,
} from '../net/prefix.js';
import { type ConnectedPrefix, desiredRoutes, type PeerNode } from './desired.js';
import { compareRoute, effectiveMetric, type Route, routeKey } from './route.js';
import { compareRule, type Rule } from './rule.js';

export interface VlanSpec {
  readonly interface: string;
  readonly gateway?: string | undefined;
  readonly gateway6?: string | undefined;
  readonly networks: readonly Prefix[];
  readonly table: number;
  readonly priority: number;
}

/** The `routes.vlans` entries as specs; a VLAN without `priority` gets 1000 + its index. */
export function vlanSpecs(vlans: readonly VlanConfig[]): VlanSpec[] {
  return vlans.map((v, i) => ({
    interface: v.interface,
    gateway: v.gateway,
    gateway6: v.gateway6,
    networks: v.networks.map((n) => parsePrefix(n)),
    table: v.table,
    priority: v.priority ?? 1000 + i,
  }));
}

export interface VlanPolicyInput {
  readonly vlans: readonly VlanSpec[];
  readonly announced: readonly Prefix[];
  readonly peers: readonly PeerNode[];
  readonly connected: readonly ConnectedPrefix[];
  readonly mode: 'layer3' | 'layer2';
  readonly metric: number;
}

export interface VlanPolicy {
  readonly routes: Route[];
  readonly rules: Rule[];
  /** VLANs (or one family of one) left unprogrammed, with the reason. */
  readonly issues: string[];
}

const DEFAULT: Record<Family, Prefix> = {
  4: makePrefix(Buffer.alloc(4), 0),
  6: makePrefix(Buffer.alloc(16), 0),
};

export function vlanPolicy(input: VlanPolicyInput): VlanPolicy {
  const routes: Route[] = [];
  const rules: Rule[] = [];
  const issues: string[] = [];
  for (const vlan of input.vlans) {
    const links = input.connected.filter((c) => c.ifname === vlan.interface);
    if (links.length === 0) {
      // Without the interface there is no path to the gateway; installing only the rule would let
      // the VLAN's traffic fall through to the main table, across VLANs, so nothing is installed.
      issues.push(`${vlan.interface}: no such interface or no address on it; VLAN policy not installed`);
      continue;
    }
    const ifindex = links[0]!.ifindex;
    const byKey = new Map<string, Route>();
    const families = new Set(vlan.networks.map((n) => n.family));
    const ready = new Set<Family>();
    for (const family of families) {
      const gwText = family === 4 ? vlan.gateway : vlan.gateway6;
      if (!gwText) {
        issues.push(`${vlan.interface}: no IPv${family} gateway; IPv${family} networks not policy-routed`);
        continue;
      }
      const gwBytes = parseAddress(gwText);
      const gwHost = makePrefix(gwBytes, gwBytes.length * 8);
      // A gateway outside every connected prefix of the VLAN link is still on that link by
      // configuration: RTNH_F_ONLINK tells the kernel not to look for a route to it.
      const onlink = !links.some((l) => prefixContains(l.prefix, gwHost));
      const metric = effectiveMetric(family, input.metric);
      const gateway = formatAddress(gwBytes);
      const def: Route = {
        dst: DEFAULT[family],
        table: vlan.table,
        metric,
        kind: 'unicast',
        nexthops: [onlink ? { gateway, ifindex, onlink: true } : { gateway, ifindex }],
      };
      byKey.set(routeKey(def), def);
      const throwTo = [
        ...input.announced.filter((p) => p.family === family),
        ...links
          .filter((l) => l.prefix.family === family && l.prefix.length < l.prefix.bytes.length * 8)
          .map((l) => l.prefix),
      ];
      for (const dst of throwTo) {
        const r: Route = { dst, table: vlan.table, metric, kind: 'throw', nexthops: [] };
        byKey.set(routeKey(r), r);
      }
      ready.add(family);
    }
    if (input.mode === 'layer2') {
      const peers = desiredRoutes({
        announced: [],
        peers: input.peers,
        connected: input.connected,
        options: {
          mode: 'layer2',
          blackholes: false,
          table: vlan.table,
          metric: input.metric,
          interfaces: [vlan.interface],
        },
      });
      for (const r of peers.routes) {
        if (ready.has(r.dst.family) && !byKey.has(routeKey(r))) byKey.set(routeKey(r), r);
      }
    }
    routes.push(...byKey.values());
    for (const src of vlan.networks) {
      if (ready.has(src.family)) rules.push({ priority: vlan.priority, src, table: vlan.table });
    }
  }
  return { routes: routes.sort(compareRoute), rules: rules.sort(compareRule), issues };
}
