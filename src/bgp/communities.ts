/**
 * The communities a route carries to one peer: the global `bgp.communities`, the peer's own, and
 * the announced prefix's, merged without duplicates in a stable order (RFC 1997 communities, RFC
 * 8092 large communities; RFC 8092 5 asks for duplicates to be left out). RFC 8326 GRACEFUL_SHUTDOWN
 * is added on top while a session is being taken down on purpose.
 */
import type { AnnounceEntry } from '../config/schema.js';
import { formatPrefix, parsePrefix } from '../net/prefix.js';
import type { LargeCommunity, PathAttributes } from './message/types.js';

/** RFC 8326 5: the well-known GRACEFUL_SHUTDOWN community, 65535:0. */
export const GRACEFUL_SHUTDOWN = 0xffff0000;

export interface RouteTags {
  readonly communities?: readonly number[];
  readonly largeCommunities?: readonly LargeCommunity[];
}

export const NO_TAGS: RouteTags = {};

function largeKey(c: LargeCommunity): string {
  return `${c.globalAdmin}:${c.localData1}:${c.localData2}`;
}

/** Union of the lists, sorted (communities numerically, large ones by their three parts). */
export function mergeTags(...parts: readonly (RouteTags | undefined)[]): RouteTags {
  const comm = new Set<number>();
  const large = new Map<string, LargeCommunity>();
  for (const p of parts) {
    for (const c of p?.communities ?? []) comm.add(c >>> 0);
    for (const c of p?.largeCommunities ?? []) large.set(largeKey(c), c);
  }
  const communities = [...comm].sort((a, b) => a - b);
  const largeCommunities = [...large.values()].sort(
    (a, b) => a.globalAdmin - b.globalAdmin || a.localData1 - b.localData1 || a.localData2 - b.localData2,
  );
  return {
    ...(communities.length > 0 ? { communities } : {}),
    ...(largeCommunities.length > 0 ? { largeCommunities } : {}),
  };
}

/** A string equal for equal (merged) tags: the Adj-RIB-Out compares it to see a change. */
export function tagsKey(t: RouteTags): string {
  const c = (t.communities ?? []).join(',');
  const l = (t.largeCommunities ?? []).map(largeKey).join(',');
  return c === '' && l === '' ? '' : `${c}|${l}`;
}

/** The path attributes for `t` (none when empty). */
export function tagAttributes(t: RouteTags): Pick<PathAttributes, 'communities' | 'largeCommunities'> {
  return {
    ...(t.communities?.length ? { communities: t.communities } : {}),
    ...(t.largeCommunities?.length ? { largeCommunities: t.largeCommunities } : {}),
  };
}

/** Encoded size of those attributes: flags, type, a 2-octet length when over 255 (RFC 4271 4.3). */
export function tagAttributesSize(t: RouteTags): number {
  const attr = (len: number) => (len === 0 ? 0 : len + (len > 255 ? 4 : 3));
  return attr((t.communities?.length ?? 0) * 4) + attr((t.largeCommunities?.length ?? 0) * 12);
}

/** Per prefix (canonical text), the communities its `announce` entry gives it. */
export function prefixTagsFromAnnounce(entries: readonly AnnounceEntry[]): Map<string, RouteTags> {
  const out = new Map<string, RouteTags>();
  for (const e of entries) {
    if (typeof e === 'string') continue;
    const key = formatPrefix(parsePrefix(e.prefix));
    out.set(key, mergeTags(out.get(key), e));
  }
  return out;
}
