/**
 * Community values as written in the configuration: RFC 1997 communities `ASN:value` (two 16-bit
 * halves, or a well-known name such as GRACEFUL_SHUTDOWN), RFC 8092 large communities
 * `global:local1:local2` (three 32-bit parts). Parsed here so a bad value is refused at load with
 * its key path; the speaker only sees numbers.
 */
import { z } from 'zod';

/** RFC 8092 3: three 4-octet fields (same shape as the codec's LargeCommunity). */
export interface LargeCommunityValue {
  readonly globalAdmin: number;
  readonly localData1: number;
  readonly localData2: number;
}

/** Well-known communities by name (IANA registry; RFC 1997 5, RFC 8326 5, RFC 7999 5). */
export const WELL_KNOWN_COMMUNITIES: Readonly<Record<string, number>> = {
  GRACEFUL_SHUTDOWN: 0xffff0000, // RFC 8326: 65535:0
  BLACKHOLE: 0xffff029a, // RFC 7999: 65535:666
  NO_EXPORT: 0xffffff01, // RFC 1997
  NO_ADVERTISE: 0xffffff02, // RFC 1997
  NO_EXPORT_SUBCONFED: 0xffffff03, // RFC 1997
  NO_PEER: 0xffffff04, // RFC 3765
};

const COMMUNITY_RULE = 'is not a community (ASN:value, each 0..65535, or a well-known name)';
const LARGE_RULE = 'is not a large community (global:local1:local2, each 0..4294967295)';

function part(s: string, max: number): number | undefined {
  if (!/^\d{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= max ? n : undefined;
}

/** `65001:100` -> 0xfde90064; a well-known name -> its value; undefined when it is neither. */
export function parseCommunity(text: string): number | undefined {
  const named = WELL_KNOWN_COMMUNITIES[text.toUpperCase()];
  if (named !== undefined) return named;
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) return undefined;
  const hi = part(m[1]!, 0xffff);
  const lo = part(m[2]!, 0xffff);
  return hi === undefined || lo === undefined ? undefined : ((hi << 16) | lo) >>> 0;
}

/** `65001:1:1` -> its three parts; undefined when it is not one. */
export function parseLargeCommunity(text: string): LargeCommunityValue | undefined {
  const m = /^(\d+):(\d+):(\d+)$/.exec(text);
  if (!m) return undefined;
  const [g, a, b] = [m[1]!, m[2]!, m[3]!].map((s) => part(s, 0xffffffff));
  if (g === undefined || a === undefined || b === undefined) return undefined;
  return { globalAdmin: g, localData1: a, localData2: b };
}

/** The RFC 1997 text form of a community value. */
export function formatCommunity(c: number): string {
  return `${c >>> 16}:${c & 0xffff}`;
}

/** The RFC 8092 text form of a large community. */
export function formatLargeCommunity(c: LargeCommunityValue): string {
  return `${c.globalAdmin}:${c.localData1}:${c.localData2}`;
}

/** `communities: [...]`: each string parsed to its value; a bad one names its index. */
export const communityList = z.array(
  z.union([z.string(), z.number()], { error: COMMUNITY_RULE }).transform((v, ctx) => {
    const c = parseCommunity(String(v));
    if (c === undefined) {
      ctx.addIssue({ code: 'custom', message: COMMUNITY_RULE });
      return z.NEVER;
    }
    return c;
  }),
  { error: 'is not a list of communities' },
);

/** `largeCommunities: [...]`. */
export const largeCommunityList = z.array(
  z.string({ error: LARGE_RULE }).transform((v, ctx) => {
    const c = parseLargeCommunity(v);
    if (c === undefined) {
      ctx.addIssue({ code: 'custom', message: LARGE_RULE });
      return z.NEVER;
    }
    return c;
  }),
  { error: 'is not a list of large communities' },
);
