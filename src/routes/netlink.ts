/**
 * A thin typed adapter over the `netlink` package (0.3.0, rtnetlink). Converts between podroute's
 * route model (route.ts) and rtmsg + attributes, and turns the package's untyped
 * `Error("Request rejected: EEXIST")` (netlink 0.3.0 sets no `.code`) into typed errors.
 *
 * Policy rules (rule.ts) go through the same socket: fib_rule_hdr + FRA_* attributes.
 *
 * Tables above 255 do not fit rtm_table (u8): the id goes in RTA_TABLE and rtm_table says
 * RT_TABLE_COMPAT (252), as iproute2 does. The protocol tag is passed on delete too, so the kernel
 * itself refuses to delete a route that is not ours (IPv4 fib_table_delete, IPv6 ip6_route_del
 * both skip entries whose protocol differs).
 */
import { createRtNetlink, FlagsNew, type RtNetlinkSocket, rt } from 'netlink';
import { addressBits, formatAddress, makePrefix, type Prefix, parseAddress } from '../net/prefix.js';
import type { ConnectedPrefix } from './desired.js';
import type { RouteKernel } from './kernel.js';
import { decodeMultipath, encodeMultipath, RTNH_F_ONLINK } from './multipath.js';
import type { KernelRoute, NextHop, Route, RouteKind } from './route.js';
import type { KernelRule, Rule } from './rule.js';

const AF_INET = 2;
const AF_INET6 = 10;
const RT_TABLE_COMPAT = 252;
const RT_SCOPE_HOST = 254;
/** Kernel requests answer in microseconds; a stuck socket must not stall the reconcile loop forever. */
const REQUEST_TIMEOUT_MS = 5000;

/** A netlink request the kernel rejected; `code` is the errno name (EEXIST, ESRCH, ENETUNREACH, …). */
export class NetlinkError extends Error {
  constructor(
    readonly code: string,
    readonly operation: string,
  ) {
    super(`${operation}: ${code}`);
    this.name = new.target.name;
  }
}
/** EEXIST on create: a route (possibly another protocol's) already holds the key. */
export class RouteExistsError extends NetlinkError {}
/** ESRCH on delete: no such route (already gone, or not ours). */
export class RouteNotFoundError extends NetlinkError {}

/** Maps whatever the package threw onto the typed errors above; other errors keep their message as code. */
export function translateNetlinkError(err: unknown, operation: string): Error {
  const message = err instanceof Error ? err.message : String(err);
  const m = /^Request rejected: (\S+)$/.exec(message);
  if (!m) return err instanceof Error ? err : new Error(message);
  const code = m[1]!;
  if (code === 'EEXIST') return new RouteExistsError(code, operation);
  if (code === 'ESRCH' || code === 'ENOENT') return new RouteNotFoundError(code, operation);
  return new NetlinkError(code, operation);
}

const familyCode = (p: Prefix): number => (p.family === 4 ? AF_INET : AF_INET6);

/** rtmsg + attributes for a route, shared by add, replace and delete. */
export function routeMessage(
  route: Pick<Route, 'dst' | 'table' | 'metric'>,
  protocol: number,
  type: rt.RouteType,
) {
  const data: rt.Route = {
    family: familyCode(route.dst),
    dstLen: route.dst.length,
    table: route.table < 256 ? route.table : RT_TABLE_COMPAT,
    protocol: protocol as rt.RouteProtocol,
    scope: rt.RouteScope.UNIVERSE,
    type,
  };
  const attrs: rt.RouteAttrs = { table: route.table, priority: route.metric };
  if (route.dst.length > 0) attrs.dst = route.dst.bytes;
  return { data, attrs };
}

const KIND_TYPE: Record<KernelRoute['kind'], rt.RouteType> = {
  blackhole: rt.RouteType.BLACKHOLE,
  unicast: rt.RouteType.UNICAST,
  throw: rt.RouteType.THROW,
  other: rt.RouteType.UNSPEC,
};

const KIND_OF_TYPE = new Map<number, RouteKind>([
  [rt.RouteType.BLACKHOLE, 'blackhole'],
  [rt.RouteType.UNICAST, 'unicast'],
  [rt.RouteType.THROW, 'throw'],
]);

function programMessage(route: Route, protocol: number) {
  const type = KIND_TYPE[route.kind];
  const { data, attrs } = routeMessage(route, protocol, type);
  if (route.kind === 'unicast') {
    if (route.nexthops.length === 0) throw new Error(`unicast route ${route.dst.length} without next hop`);
    if (route.nexthops.length === 1) {
      const hop = route.nexthops[0]!;
      attrs.gateway = parseAddress(hop.gateway);
      attrs.oif = hop.ifindex;
      if (hop.onlink) data.flags = { __unknown: RTNH_F_ONLINK };
    } else {
      attrs.multipath = encodeMultipath(route.nexthops);
    }
  }
  return { data, attrs };
}

/** fib_rule_hdr + attributes for "from SRC lookup TABLE" at a preference, tagged with FRA_PROTOCOL. */
export function ruleMessage(rule: Rule, protocol: number) {
  const data: rt.Rule = {
    family: familyCode(rule.src),
    srcLen: rule.src.length,
    table: rule.table < 256 ? rule.table : RT_TABLE_COMPAT,
    action: rt.RuleAction.toTbl,
    ...(rule.dst ? { dstLen: rule.dst.length } : {}),
  };
  const attrs: rt.RuleAttrs = { priority: rule.priority, table: rule.table, protocol };
  if (rule.src.length > 0) attrs.src = rule.src.bytes;
  if (rule.dst && rule.dst.length > 0) attrs.dst = rule.dst.bytes;
  if (rule.iif !== undefined) attrs.iifname = rule.iif;
  return { data, attrs };
}

/** Reads one dumped rule; undefined for rules podroute never writes (other actions, selectors). */
export function parseKernelRule(msg: rt.RuleMessage): KernelRule | undefined {
  const { data, attrs } = msg;
  const family = data.family === AF_INET ? 4 : data.family === AF_INET6 ? 6 : undefined;
  if (family === undefined) return undefined;
  if (enumNumber(rt.RuleAction, data.action) !== rt.RuleAction.toTbl) return undefined;
  const srcBytes = attrs.src ?? Buffer.alloc(family === 4 ? 4 : 16);
  const srcLen = data.srcLen ?? 0;
  if (srcBytes.length * 8 !== addressBits(family) || srcLen > addressBits(family)) return undefined;
  const dstLen = data.dstLen ?? 0;
  const dstBytes = attrs.dst ?? Buffer.alloc(family === 4 ? 4 : 16);
  if (dstBytes.length * 8 !== addressBits(family) || dstLen > addressBits(family)) return undefined;
  const out: KernelRule = {
    priority: attrs.priority ?? 0,
    src: makePrefix(srcBytes, srcLen),
    table: attrs.table ?? data.table ?? 0,
    protocol: attrs.protocol ?? 0,
    ...(attrs.iifname !== undefined ? { iif: attrs.iifname } : {}),
    ...(dstLen > 0 ? { dst: makePrefix(dstBytes, dstLen) } : {}),
  };
  return out;
}

/** Reads one dumped route into the model; undefined for cache clones and other noise. */
export function parseKernelRoute(msg: rt.RouteMessage): KernelRoute | undefined {
  const { data, attrs } = msg;
  if (data.flags?.cloned) return undefined;
  const family = data.family === AF_INET ? 4 : data.family === AF_INET6 ? 6 : undefined;
  if (family === undefined) return undefined;
  const dstBytes = attrs.dst ?? Buffer.alloc(family === 4 ? 4 : 16);
  const dstLen = data.dstLen ?? 0;
  if (dstBytes.length * 8 !== addressBits(family) || dstLen > addressBits(family)) return undefined;
  const protocol = enumNumber(rt.RouteProtocol, data.protocol);
  const type = enumNumber(rt.RouteType, data.type);
  const kind = KIND_OF_TYPE.get(type) ?? 'other';
  let nexthops: NextHop[] = [];
  if (attrs.multipath) {
    nexthops = decodeMultipath(attrs.multipath);
  } else if (attrs.gateway) {
    const onlink = ((data.flags?.__unknown ?? 0) & RTNH_F_ONLINK) !== 0;
    const hop = { gateway: formatAddress(attrs.gateway), ifindex: attrs.oif ?? 0 };
    nexthops = [onlink ? { ...hop, onlink } : hop];
  }
  return {
    dst: makePrefix(dstBytes, dstLen),
    table: attrs.table ?? data.table ?? 0,
    metric: attrs.priority ?? 0,
    kind,
    nexthops,
    protocol,
  };
}

/** The package decodes known enum values to names and leaves unknown ones as numbers. */
function enumNumber(mapping: Record<string, string | number>, v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && typeof mapping[v] === 'number') return mapping[v] as number;
  return -1;
}

export class NetlinkKernel implements RouteKernel {
  private readonly sock: RtNetlinkSocket;

  constructor(sock?: RtNetlinkSocket) {
    this.sock = sock ?? createRtNetlink();
  }

  async listRoutes(protocol: number): Promise<KernelRoute[]> {
    const out: KernelRoute[] = [];
    for (const family of [AF_INET, AF_INET6]) {
      let msgs: rt.RouteMessage[];
      try {
        msgs = await this.sock.getRoutes({ family }, undefined, { timeout: REQUEST_TIMEOUT_MS });
      } catch (e) {
        // A kernel without IPv6 answers the IPv6 dump with EAFNOSUPPORT: nothing of ours there.
        const err = translateNetlinkError(e, 'list routes');
        if (err instanceof NetlinkError && err.code === 'EAFNOSUPPORT') continue;
        throw err;
      }
      for (const m of msgs) {
        const r = parseKernelRoute(m);
        if (r && r.protocol === protocol) out.push(r);
      }
    }
    return out;
  }

  async listConnected(): Promise<ConnectedPrefix[]> {
    let links: rt.LinkMessage[];
    let addrs: rt.AddressMessage[];
    try {
      links = await this.sock.getLinks(undefined, undefined, { timeout: REQUEST_TIMEOUT_MS });
      addrs = await this.sock.getAddresses(undefined, undefined, { timeout: REQUEST_TIMEOUT_MS });
    } catch (e) {
      throw translateNetlinkError(e, 'list addresses');
    }
    const names = new Map<number, string>();
    for (const l of links) if (l.data.index !== undefined) names.set(l.data.index, l.attrs.ifname ?? '');
    const out: ConnectedPrefix[] = [];
    for (const a of addrs) {
      if (a.data.scope === RT_SCOPE_HOST || a.data.index === undefined) continue;
      // IFA_LOCAL is our address; IFA_ADDRESS is the peer's on point-to-point links.
      const local = a.attrs.local ?? a.attrs.address;
      if (!local || (local.length !== 4 && local.length !== 16)) continue;
      const len = a.data.prefixlen ?? local.length * 8;
      const base =
        a.attrs.address && a.attrs.local && !a.attrs.address.equals(a.attrs.local) ? a.attrs.address : local;
      out.push({
        ifindex: a.data.index,
        ifname: names.get(a.data.index) ?? '',
        address: formatAddress(local),
        prefix: makePrefix(base, len),
      });
    }
    return out;
  }

  async addRoute(route: Route, protocol: number): Promise<void> {
    const { data, attrs } = programMessage(route, protocol);
    try {
      await this.sock.newRoute(data, attrs, {
        flags: FlagsNew.CREATE | FlagsNew.EXCL,
        timeout: REQUEST_TIMEOUT_MS,
      });
    } catch (e) {
      throw translateNetlinkError(e, 'add route');
    }
  }

  async replaceRoute(route: Route, protocol: number): Promise<void> {
    const { data, attrs } = programMessage(route, protocol);
    try {
      await this.sock.newRoute(data, attrs, {
        flags: FlagsNew.CREATE | FlagsNew.REPLACE,
        timeout: REQUEST_TIMEOUT_MS,
      });
    } catch (e) {
      throw translateNetlinkError(e, 'replace route');
    }
  }

  async deleteRoute(
    route: Pick<KernelRoute, 'dst' | 'table' | 'metric' | 'kind'>,
    protocol: number,
  ): Promise<void> {
    const { data, attrs } = routeMessage(route, protocol, KIND_TYPE[route.kind]);
    try {
      await this.sock.delRoute(data, attrs, { timeout: REQUEST_TIMEOUT_MS });
    } catch (e) {
      throw translateNetlinkError(e, 'delete route');
    }
  }

  async listRules(protocol: number): Promise<KernelRule[]> {
    const out: KernelRule[] = [];
    for (const family of [AF_INET, AF_INET6]) {
      let msgs: rt.RuleMessage[];
      try {
        msgs = await this.sock.getRules({ family }, undefined, { timeout: REQUEST_TIMEOUT_MS });
      } catch (e) {
        const err = translateNetlinkError(e, 'list rules');
        if (err instanceof NetlinkError && err.code === 'EAFNOSUPPORT') continue;
        throw err;
      }
      for (const m of msgs) {
        const r = parseKernelRule(m);
        if (r && r.protocol === protocol) out.push(r);
      }
    }
    return out;
  }

  async addRule(rule: Rule, protocol: number): Promise<void> {
    const { data, attrs } = ruleMessage(rule, protocol);
    try {
      await this.sock.newRule(data, attrs, {
        flags: FlagsNew.CREATE | FlagsNew.EXCL,
        timeout: REQUEST_TIMEOUT_MS,
      });
    } catch (e) {
      throw translateNetlinkError(e, 'add rule');
    }
  }

  async deleteRule(rule: Rule, protocol: number): Promise<void> {
    const { data, attrs } = ruleMessage(rule, protocol);
    try {
      await this.sock.delRule(data, attrs, { timeout: REQUEST_TIMEOUT_MS });
    } catch (e) {
      throw translateNetlinkError(e, 'delete rule');
    }
  }

  close(): void {
    this.sock.socket.close();
  }
}
