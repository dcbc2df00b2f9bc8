/**
 * Our OPEN and the checks on the peer's (RFC 4271 6.2, RFC 5492, RFC 6793, RFC 4760): what a
 * session agrees on once both OPENs are known. Pure functions: the session turns a refusal into
 * event BGPOpenMsgErr.
 */
import type { NotificationSpec } from './fsm.js';
import {
  buildCapability,
  type GracefulRestartSession,
  type LocalGracefulRestart,
  negotiateGracefulRestart,
} from './graceful-restart.js';
import {
  Afi,
  type AfiSafi,
  AS_TRANS,
  type Capability,
  ErrorCode,
  type OpenMessage,
  OpenSubcode,
  Safi,
} from './message/types.js';

export interface LocalOpenParams {
  readonly asn: number;
  readonly routerId: string;
  /** Seconds; 0 or >= 3. */
  readonly holdTime: number;
  /** Families offered with the Multiprotocol capability (RFC 4760 8). */
  readonly families: readonly AfiSafi[];
  /** RFC 4724 3: offered to this peer when set (bgp.gracefulRestart, unless the peer opts out). */
  readonly gracefulRestart?: LocalGracefulRestart;
}

export const IPV4_UNICAST: AfiSafi = { afi: Afi.Ipv4, safi: Safi.Unicast };
export const IPV6_UNICAST: AfiSafi = { afi: Afi.Ipv6, safi: Safi.Unicast };

export interface Negotiated {
  /** The peer's real ASN (its 4-octet AS capability, else My AS). */
  readonly peerAsn: number;
  readonly peerId: string;
  /** Seconds; the smaller of both OPENs, 0 = no hold or keepalive timers (RFC 4271 4.2). */
  readonly holdTime: number;
  /** Milliseconds between our KEEPALIVEs: a third of the hold time (RFC 4271 10), 0 if none. */
  readonly keepaliveMs: number;
  /** Both sides sent capability 65: AS_PATH carries 4-octet ASNs (RFC 6793 4). */
  readonly fourOctetAs: boolean;
  readonly routeRefresh: boolean;
  /** Families both sides offered, in our order. */
  readonly families: readonly AfiSafi[];
  /** Both OPENs carried the graceful restart capability (RFC 4724 3). */
  readonly gracefulRestart?: GracefulRestartSession;
}

export type OpenCheck =
  | { readonly ok: true; readonly negotiated: Negotiated }
  | { readonly ok: false; readonly notification: NotificationSpec; readonly reason: string };

type KnownCapability = Exclude<Capability, { readonly unknown: true }>;

function known(caps: readonly Capability[]): KnownCapability[] {
  return caps.filter((c): c is KnownCapability => !('unknown' in c));
}

/**
 * The OPEN we send: capabilities MP per family, route refresh, 4-octet AS (RFC 6793 3), and graceful
 * restart when configured (RFC 4724 3, with the RFC 8538 N bit).
 */
export function buildOpen(p: LocalOpenParams): OpenMessage {
  const capabilities: Capability[] = [
    ...p.families.map((f) => ({ code: 1 as const, afi: f.afi, safi: f.safi })),
    { code: 2 },
    { code: 65, asn: p.asn },
    ...(p.gracefulRestart ? [buildCapability(p.gracefulRestart, p.families)] : []),
  ];
  return {
    type: 1,
    version: 4,
    myAs: p.asn > 0xffff ? AS_TRANS : p.asn,
    holdTime: p.holdTime,
    bgpId: p.routerId,
    capabilities,
  };
}

function ipv4ToUint(text: string): number {
  const parts = text.split('.').map(Number);
  return (((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!) >>> 0;
}

/** RFC 4271 6.8: identifiers compare as 4-octet unsigned integers in host order. */
export function compareBgpIds(a: string, b: string): number {
  return ipv4ToUint(a) - ipv4ToUint(b);
}

const refuse = (subcode: number, reason: string, data: Buffer = Buffer.alloc(0)): OpenCheck => ({
  ok: false,
  notification: { code: ErrorCode.OpenMessage, subcode, data },
  reason,
});

/**
 * Checks the peer's OPEN against our parameters and the configured peer ASN, and computes what
 * the session runs with. Order of checks follows RFC 4271 6.2.
 */
export function checkOpen(local: LocalOpenParams, expectedPeerAsn: number, open: OpenMessage): OpenCheck {
  if (open.version !== 4) {
    // RFC 4271 6.2: data is the largest supported version, 2 octets.
    const data = Buffer.alloc(2);
    data.writeUInt16BE(4);
    return refuse(OpenSubcode.UnsupportedVersionNumber, `peer speaks BGP version ${open.version}`, data);
  }
  const caps = known(open.capabilities);
  const as4 = caps.find((c): c is Extract<KnownCapability, { code: 65 }> => c.code === 65);
  // RFC 6793 4.1: the capability carries the real ASN; My AS is AS_TRANS when it does not fit.
  const peerAsn = as4 ? as4.asn : open.myAs;
  if (peerAsn !== expectedPeerAsn) {
    return refuse(OpenSubcode.BadPeerAs, `peer AS ${peerAsn}, expected ${expectedPeerAsn}`);
  }
  if (!as4 && local.asn > 0xffff) {
    // Our ASN only fits in 4 octets and the peer cannot carry it: refuse (as MetalLB does),
    // naming the capability we require (RFC 5492 5).
    const data = Buffer.alloc(6);
    data.writeUInt8(65, 0);
    data.writeUInt8(4, 1);
    data.writeUInt32BE(local.asn, 2);
    return refuse(
      OpenSubcode.UnsupportedCapability,
      `peer lacks the 4-octet AS capability our AS ${local.asn} needs`,
      data,
    );
  }
  if (open.holdTime === 1 || open.holdTime === 2) {
    return refuse(OpenSubcode.UnacceptableHoldTime, `peer hold time ${open.holdTime} s (must be 0 or >= 3)`);
  }
  const ibgp = expectedPeerAsn === local.asn;
  if (open.bgpId === '0.0.0.0' || (ibgp && open.bgpId === local.routerId)) {
    const data = Buffer.from(open.bgpId.split('.').map(Number));
    return refuse(OpenSubcode.BadBgpIdentifier, `peer BGP identifier ${open.bgpId} is not usable`, data);
  }
  if (open.otherParameters && open.otherParameters.length > 0) {
    return refuse(
      OpenSubcode.UnsupportedOptionalParameter,
      `peer sent optional parameter type ${open.otherParameters[0]!.type}`,
    );
  }
  const holdTime = Math.min(local.holdTime, open.holdTime);
  const peerFamilies = caps
    .filter((c): c is Extract<KnownCapability, { code: 1 }> => c.code === 1)
    .map((c) => ({ afi: c.afi, safi: c.safi }));
  // RFC 4760 8 / RFC 4271: a peer without any MP capability speaks IPv4 unicast only.
  const theirs = peerFamilies.length > 0 ? peerFamilies : [IPV4_UNICAST];
  const families = local.families.filter((f) => theirs.some((g) => g.afi === f.afi && g.safi === f.safi));
  const gracefulRestart = negotiateGracefulRestart(local.gracefulRestart, caps);
  return {
    ok: true,
    negotiated: {
      peerAsn,
      peerId: open.bgpId,
      holdTime,
      keepaliveMs: holdTime === 0 ? 0 : Math.floor((holdTime * 1000) / 3),
      fourOctetAs: as4 !== undefined,
      routeRefresh: caps.some((c) => c.code === 2),
      families,
      ...(gracefulRestart ? { gracefulRestart } : {}),
    },
  };
}

export function hasFamily(families: readonly AfiSafi[], f: AfiSafi): boolean {
  return families.some((g) => g.afi === f.afi && g.safi === f.safi);
}
