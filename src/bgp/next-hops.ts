/**
 * The next hops we put on our announcements to one peer (RFC 4271 5.1.3: our address on the
 * session; RFC 4760 3 and RFC 2545 for IPv6, a link-local session address being only the second
 * next hop), and in words why a family cannot be sent on a session. Pure functions.
 */
import { isIPv4 } from 'node:net';
import type { BgpPeerConfig } from '../config/bgp.js';
import type { AfiSafi } from './message/types.js';
import { hasFamily, IPV4_UNICAST, IPV6_UNICAST } from './negotiate.js';
import type { OriginateParams } from './update-builder.js';

export function originateParams(
  localAsn: number,
  cfg: BgpPeerConfig,
  localAddress: string | undefined,
): OriginateParams {
  const local = localAddress ?? '';
  let nextHop4: string | undefined;
  let nextHop6: string | undefined;
  let linkLocal6: string | undefined;
  if (isIPv4(local)) {
    nextHop4 = local;
    nextHop6 = cfg.ipv6NextHop;
  } else if (local) {
    if (local.toLowerCase().startsWith('fe80:')) {
      // A link-local session address is only the second next hop; the global one must be configured.
      linkLocal6 = local;
      nextHop6 = cfg.ipv6NextHop;
    } else {
      nextHop6 = local;
    }
  }
  return {
    localAsn,
    peerAsn: cfg.asn,
    ...(nextHop4 ? { nextHop4 } : {}),
    ...(nextHop6 ? { nextHop6 } : {}),
    ...(linkLocal6 && nextHop6 ? { linkLocal6 } : {}),
  };
}

/** Why IPv`family` prefixes cannot go on this session. */
export function whyNotSendable(
  families: readonly AfiSafi[],
  family: 4 | 6,
  localAddress: string | undefined,
  o: OriginateParams,
): string {
  if (!hasFamily(families, family === 4 ? IPV4_UNICAST : IPV6_UNICAST)) {
    return `the peer did not negotiate the IPv${family} unicast family`;
  }
  if (family === 4) return `the session is IPv6 (local ${localAddress}) so there is no IPv4 next hop`;
  return o.nextHop6 === undefined
    ? `the session is IPv4 and no ipv6NextHop is configured for this peer`
    : 'unknown';
}
