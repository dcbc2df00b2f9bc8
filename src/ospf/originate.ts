/**
 * What this router originates, as pure functions of interface and neighbor state: the LSA bodies
 * (RFC 2328 12.4.1 router-LSA, 12.4.2 network-LSA, 12.4.4 AS-external-LSA) and the whole set of
 * LSAs wanted at a moment (12.4: one router-LSA per area, a network-LSA per segment we are DR
 * of, AS-external-LSAs for the node's prefixes when announced as external). When and how they go
 * out is origination.ts.
 *
 * A node is never a transit router (RFC 6987 stub router, always on): a dual-homed node has
 * cheap links to two leafs, and with their configured cost the leafs' shortest path to each
 * other could run through the node. So the router-LSA's transit links — point-to-point links to
 * a neighbor (type 1, RFC 2328 12.4.1.1) and links to a transit network (type 2, 12.4.1.2) —
 * carry MaxLinkMetric 0xFFFF (RFC 6987 2: every link of a type other than 3), while the stub
 * links (type 3: the interface subnets and the node's announced prefixes) keep their cost, so
 * the fabric still reaches the node's own addresses the cheap way. The network-LSA we originate
 * as DR has no metric (RFC 2328 A.4.3); traffic across such a segment does not pass the node.
 */
import type { OspfConfig } from '../config/ospf.js';
import { formatAddress, type Prefix } from '../net/prefix.js';
import { LinkType, LsType, MAX_LINK_METRIC, Options } from './constants.js';
import type { Area } from './context.js';
import { ipToNum, lengthToMask, numToIp } from './ip.js';
import type { ExternalLsaBody } from './lsa/external.js';
import type { LsaBody } from './lsa/lsa.js';
import type { NetworkLsaBody } from './lsa/network.js';
import type { RouterLink, RouterLsaBody } from './lsa/router.js';
import type { InterfaceState, NeighborState } from './states.js';

/** What origination reads of an interface (OriginatingInterface has it; tests build it by hand). */
export interface OriginatingInterface {
  readonly state: InterfaceState;
  readonly broadcast: boolean;
  readonly address: string;
  readonly mask: string;
  readonly dr: string;
  readonly config: { readonly cost: number };
  readonly neighbors: ReadonlyMap<
    string,
    { readonly routerId: string; readonly address: string; readonly state: NeighborState }
  >;
}

/** Router-LSA flags (RFC 2328 A.4.2). */
const FLAG_E = 0x02;

function subnetLink(iface: OriginatingInterface): RouterLink {
  const m = ipToNum(iface.mask);
  return {
    linkId: numToIp((ipToNum(iface.address) & m) >>> 0),
    linkData: iface.mask,
    type: LinkType.Stub,
    metric: iface.config.cost,
  };
}

/**
 * RFC 2328 12.4.1.1 (point-to-point) and 12.4.1.2 (broadcast) links of one interface; the links
 * to a neighbor or transit network at MaxLinkMetric (RFC 6987 2), the subnet stub at its cost.
 */
export function interfaceLinks(iface: OriginatingInterface): RouterLink[] {
  if (iface.state === 'Down') return [];
  const links: RouterLink[] = [];
  if (!iface.broadcast) {
    for (const n of iface.neighbors.values()) {
      if (n.state === 'Full') {
        links.push({
          linkId: n.routerId,
          linkData: iface.address,
          type: LinkType.PointToPoint,
          metric: MAX_LINK_METRIC,
        });
      }
    }
    // Option 1 of 12.4.1.1: the link's subnet as a stub (not for /32 unnumbered-style links).
    if (iface.mask !== '255.255.255.255') links.push(subnetLink(iface));
    return links;
  }
  // 12.4.1.2: a transit link once fully adjacent to the DR (or DR ourselves with a full neighbor).
  const full = [...iface.neighbors.values()].filter((n) => n.state === 'Full');
  const drIsFull = full.some((n) => n.address === iface.dr);
  const weAreDr = iface.state === 'DR' && full.length > 0;
  if (iface.state !== 'Waiting' && iface.dr !== '0.0.0.0' && (drIsFull || weAreDr)) {
    links.push({
      linkId: iface.dr,
      linkData: iface.address,
      type: LinkType.Transit,
      metric: MAX_LINK_METRIC,
    });
  } else {
    links.push(subnetLink(iface));
  }
  return links;
}

export function stubLinks(prefixes: readonly Prefix[], metric: number): RouterLink[] {
  return prefixes
    .filter((p) => p.family === 4)
    .map((p) => ({
      linkId: formatAddress(p.bytes),
      linkData: lengthToMask(p.length),
      type: LinkType.Stub,
      metric,
    }));
}

export function routerLsaBody(
  ifaces: readonly OriginatingInterface[],
  stubPrefixes: readonly Prefix[],
  metric: number,
  asbr: boolean,
): RouterLsaBody {
  const links = ifaces.flatMap(interfaceLinks);
  const seen = new Set(links.map((l) => `${l.type}/${l.linkId}/${l.linkData}`));
  for (const l of stubLinks(stubPrefixes, metric)) {
    const k = `${l.type}/${l.linkId}/${l.linkData}`;
    if (!seen.has(k)) {
      seen.add(k);
      links.push(l);
    }
  }
  return { kind: 'router', flags: asbr ? FLAG_E : 0, links };
}

/** RFC 2328 12.4.2: only the DR with at least one fully adjacent neighbor originates one. */
export function networkLsaBody(iface: OriginatingInterface, routerId: string): NetworkLsaBody | undefined {
  if (!iface.broadcast || iface.state !== 'DR') return undefined;
  const full = [...iface.neighbors.values()].filter((n) => n.state === 'Full').map((n) => n.routerId);
  if (full.length === 0) return undefined;
  return { kind: 'network', mask: iface.mask, routers: [routerId, ...full] };
}

export function externalLsaBody(p: Prefix, metric: number, metricType: 1 | 2, tag: number): ExternalLsaBody {
  return {
    kind: 'external',
    mask: lengthToMask(p.length),
    metricType,
    metric,
    forwardingAddress: '0.0.0.0',
    tag,
  };
}

/** One LSA this router wants in its LSDBs: where, which, and its contents. */
export interface DesiredLsa {
  /** Area ID, or null for AS scope. */
  area: string | null;
  type: number;
  id: string;
  options: number;
  body: LsaBody;
}

export type OriginationConfig = Pick<
  OspfConfig,
  'announceAs' | 'metric' | 'externalMetricType' | 'externalTag'
>;

/**
 * Every LSA this router originates now (RFC 2328 12.4), given its areas with their interfaces in
 * configuration order and the prefixes to announce (none while draining). We are an AS boundary
 * router (E bit, 12.4.1) when announcing as external through at least one non-stub area.
 */
export function desiredLsas(
  routerId: string,
  config: OriginationConfig,
  areas: readonly { area: Pick<Area, 'id' | 'stub'>; interfaces: readonly OriginatingInterface[] }[],
  prefixes: readonly Prefix[],
): DesiredLsa[] {
  const out: DesiredLsa[] = [];
  const external = config.announceAs === 'external';
  const asbr = external && areas.some(({ area }) => !area.stub);
  for (const { area, interfaces } of areas) {
    const options = area.stub ? 0 : Options.E;
    out.push({
      area: area.id,
      type: LsType.Router,
      id: routerId,
      options,
      body: routerLsaBody(interfaces, external ? [] : prefixes, config.metric, asbr && !area.stub),
    });
    for (const i of interfaces) {
      const body = networkLsaBody(i, routerId);
      if (body) out.push({ area: area.id, type: LsType.Network, id: i.address, options, body });
    }
  }
  if (asbr) {
    for (const p of prefixes) {
      out.push({
        area: null,
        type: LsType.AsExternal,
        id: formatAddress(p.bytes),
        options: Options.E,
        body: externalLsaBody(p, config.metric, config.externalMetricType, config.externalTag),
      });
    }
  }
  return out;
}

/** Whether two LSA bodies are the same contents (RFC 2328 12.4: no new instance otherwise). */
export function sameLsaBody(a: LsaBody, b: LsaBody): boolean {
  return bodyKey(a) === bodyKey(b);
}

function bodyKey(b: LsaBody): string {
  return JSON.stringify(b, (_k, v) => (Buffer.isBuffer(v) ? v.toString('hex') : v));
}
