/**
 * Builds the UPDATE messages for a set of announcements and withdrawals (RFC 4271 4.3, RFC 4760):
 * IPv4 in the legacy fields, IPv6 in MP_REACH_NLRI / MP_UNREACH_NLRI, many prefixes per message
 * (all share the same attributes) while staying under the 4096-byte limit.
 */
import type { Prefix } from '../net/prefix.js';
import { NO_TAGS, type RouteTags, tagAttributes, tagAttributesSize, tagsKey } from './communities.js';
import {
  Afi,
  MAX_MESSAGE_LENGTH,
  Origin,
  type PathAttributes,
  Safi,
  SegmentType,
  type UpdateMessage,
} from './message/types.js';

/** The attributes we originate with (RFC 4271 5.1). */
export interface OriginateParams {
  readonly localAsn: number;
  readonly peerAsn: number;
  /** IPv4 next hop for legacy NLRI; undefined = IPv4 cannot be sent. */
  readonly nextHop4?: string;
  /** IPv6 global next hop (+ optional link-local, RFC 2545 3); undefined = IPv6 cannot be sent. */
  readonly nextHop6?: string;
  readonly linkLocal6?: string;
}

/**
 * Fixed bytes besides NLRI: header 19, two length fields 4, and an upper bound on our attributes
 * (ORIGIN 4, AS_PATH <= 9, NEXT_HOP 7, LOCAL_PREF 7, MP_REACH header <= 4 + 5 + 32).
 */
const OVERHEAD = 19 + 4 + 96;
export const NLRI_BUDGET = MAX_MESSAGE_LENGTH - OVERHEAD;

/** RFC 4271 4.3: a prefix takes one length octet plus the significant address octets. */
export function nlriSize(p: Prefix): number {
  return 1 + Math.ceil(p.length / 8);
}

/** Splits `prefixes` into runs whose encoded NLRI fits `budget` bytes. */
export function chunkPrefixes(prefixes: readonly Prefix[], budget = NLRI_BUDGET): Prefix[][] {
  const out: Prefix[][] = [];
  let cur: Prefix[] = [];
  let size = 0;
  for (const p of prefixes) {
    const n = nlriSize(p);
    if (size + n > budget && cur.length > 0) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(p);
    size += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** eBGP: AS_PATH [our ASN], no LOCAL_PREF; iBGP: empty AS_PATH, LOCAL_PREF 100 (RFC 4271 5.1.2, 5.1.5). */
export function baseAttributes(o: OriginateParams): PathAttributes {
  const ibgp = o.localAsn === o.peerAsn;
  return ibgp
    ? { origin: Origin.Igp, asPath: [], localPref: 100 }
    : { origin: Origin.Igp, asPath: [{ type: SegmentType.AsSequence, asns: [o.localAsn] }] };
}

/**
 * UPDATEs carrying `withdraw` then `announce`, all announced with the communities `tags`; prefixes
 * of a family we cannot send are the caller's concern.
 */
export function buildUpdates(
  o: OriginateParams,
  announce: readonly Prefix[],
  withdraw: readonly Prefix[],
  tags: RouteTags = NO_TAGS,
): UpdateMessage[] {
  const out: UpdateMessage[] = [];
  const v4w = withdraw.filter((p) => p.family === 4);
  const v6w = withdraw.filter((p) => p.family === 6);
  const v4a = announce.filter((p) => p.family === 4);
  const v6a = announce.filter((p) => p.family === 6);
  for (const chunk of chunkPrefixes(v4w)) out.push({ type: 2, withdrawn: chunk, attributes: {}, nlri: [] });
  for (const chunk of chunkPrefixes(v6w)) {
    out.push({
      type: 2,
      withdrawn: [],
      attributes: { mpUnreach: { afi: Afi.Ipv6, safi: Safi.Unicast, withdrawn: chunk } },
      nlri: [],
    });
  }
  const base = { ...baseAttributes(o), ...tagAttributes(tags) };
  const budget = NLRI_BUDGET - tagAttributesSize(tags);
  if (v4a.length > 0 && o.nextHop4) {
    const attributes: PathAttributes = { ...base, nextHop: o.nextHop4 };
    for (const chunk of chunkPrefixes(v4a, budget))
      out.push({ type: 2, withdrawn: [], attributes, nlri: chunk });
  }
  if (v6a.length > 0 && o.nextHop6) {
    for (const chunk of chunkPrefixes(v6a, budget)) {
      out.push({
        type: 2,
        withdrawn: [],
        attributes: {
          ...base,
          mpReach: {
            afi: Afi.Ipv6,
            safi: Safi.Unicast,
            nextHop: o.nextHop6,
            ...(o.linkLocal6 ? { linkLocalNextHop: o.linkLocal6 } : {}),
            nlri: chunk,
          },
        },
        nlri: [],
      });
    }
  }
  return out;
}

/**
 * Like buildUpdates, with each announced prefix's own communities (`tagsOf`): prefixes that share
 * them share UPDATEs, one group after the other, withdrawals first.
 */
export function buildTaggedUpdates(
  o: OriginateParams,
  announce: readonly Prefix[],
  withdraw: readonly Prefix[],
  tagsOf: (p: Prefix) => RouteTags,
): UpdateMessage[] {
  const groups = new Map<string, { tags: RouteTags; prefixes: Prefix[] }>();
  for (const p of announce) {
    const tags = tagsOf(p);
    const key = tagsKey(tags);
    const g = groups.get(key);
    if (g) g.prefixes.push(p);
    else groups.set(key, { tags, prefixes: [p] });
  }
  const out = buildUpdates(o, [], withdraw);
  for (const g of groups.values()) out.push(...buildUpdates(o, g.prefixes, [], g.tags));
  return out;
}
