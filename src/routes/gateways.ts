/**
 * The node's default gateways, read from the kernel over rtnetlink (the same `netlink` package
 * and route parser as netlink.ts): every next hop of every IPv4 and IPv6 default route in the
 * main table, ECMP next hops included. `address: gateway` BGP peers are these (in a routed
 * fabric the leaf is the node's next hop; config/peer-selection.ts). Read once at start and on
 * each reload; a route that changes later does not move a session.
 */
import { createRtNetlink, type RtNetlinkSocket } from 'netlink';
import type { Gateway } from '../config/peer-selection.js';
import { parseKernelRoute, translateNetlinkError } from './netlink.js';
import type { KernelRoute } from './route.js';

const AF_INET = 2;
const AF_INET6 = 10;
const RT_TABLE_MAIN = 254;
const REQUEST_TIMEOUT_MS = 5000;

/**
 * Pure: the default routes' next hops, in kernel order, without duplicates. `interfaces`
 * (routes.interfaces) limits them to the uplinks when set.
 */
export function defaultGateways(
  routes: readonly KernelRoute[],
  ifnames: ReadonlyMap<number, string>,
  interfaces?: readonly string[],
): Gateway[] {
  const out: Gateway[] = [];
  const seen = new Set<string>();
  for (const r of routes) {
    if (r.dst.length !== 0 || r.table !== RT_TABLE_MAIN || r.kind !== 'unicast') continue;
    for (const hop of r.nexthops) {
      if (!hop.gateway) continue;
      const ifname = ifnames.get(hop.ifindex) ?? `ifindex ${hop.ifindex}`;
      if (interfaces && !interfaces.includes(ifname)) continue;
      const key = `${hop.gateway.toLowerCase()}%${ifname}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ address: hop.gateway, family: r.dst.family, interface: ifname });
    }
  }
  return out;
}

/** Reads the default gateways from the kernel (this network namespace). */
export async function readDefaultGateways(
  interfaces?: readonly string[],
  sock: RtNetlinkSocket = createRtNetlink(),
): Promise<Gateway[]> {
  try {
    const links = await sock.getLinks(undefined, undefined, { timeout: REQUEST_TIMEOUT_MS });
    const names = new Map<number, string>();
    for (const l of links) if (l.data.index !== undefined) names.set(l.data.index, l.attrs.ifname ?? '');
    const routes: KernelRoute[] = [];
    for (const family of [AF_INET, AF_INET6]) {
      let msgs: Awaited<ReturnType<RtNetlinkSocket['getRoutes']>>;
      try {
        msgs = await sock.getRoutes({ family }, undefined, { timeout: REQUEST_TIMEOUT_MS });
      } catch (e) {
        // A kernel without IPv6 answers the IPv6 dump with EAFNOSUPPORT: no IPv6 gateway then.
        if (family === AF_INET6 && /EAFNOSUPPORT/.test((e as Error).message)) continue;
        throw e;
      }
      for (const m of msgs) {
        const r = parseKernelRoute(m);
        if (r) routes.push(r);
      }
    }
    return defaultGateways(routes, names, interfaces);
  } catch (e) {
    throw translateNetlinkError(e, 'read default gateways');
  } finally {
    sock.socket.close();
  }
}
