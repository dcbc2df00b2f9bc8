/**
 * Summarization: the minimal set of prefixes that covers exactly a set of addresses.
 *
 * The IPAM announces the blocks a node holds; four adjacent, aligned /26 blocks must go out as one
 * /24 (RFC 4632 3.1, "aggregation"), and the announcement must never cover an address the node does
 * not hold, or the fabric would send it traffic for another node's pods. So this is exact
 * aggregation: the union is kept, never widened.
 *
 * Method: turn prefixes into address ranges, merge overlapping and adjacent ranges, then cut each
 * range into the fewest aligned prefixes (greedy: at each start, the largest aligned prefix that
 * fits). For one range this greedy cut is optimal, and disjoint non-adjacent ranges cannot share a
 * prefix, so the whole result is minimal.
 */
import {
  addressBits,
  type Family,
  fromBigInt,
  makePrefix,
  type Prefix,
  prefixSize,
  toBigInt,
} from './prefix.js';

export interface AddressRange {
  readonly family: Family;
  /** Inclusive bounds. */
  readonly first: bigint;
  readonly last: bigint;
}

export function prefixRange(p: Prefix): AddressRange {
  const first = toBigInt(p.bytes);
  return { family: p.family, first, last: first + prefixSize(p) - 1n };
}

/** Sorted, merged ranges (overlapping or adjacent ranges joined), IPv4 before IPv6. */
export function mergeRanges(ranges: readonly AddressRange[]): AddressRange[] {
  const sorted = [...ranges].sort((a, b) =>
    a.family !== b.family ? a.family - b.family : a.first < b.first ? -1 : a.first > b.first ? 1 : 0,
  );
  const out: AddressRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && last.family === r.family && r.first <= last.last + 1n) {
      if (r.last > last.last) out[out.length - 1] = { ...last, last: r.last };
    } else out.push(r);
  }
  return out;
}

/** The fewest aligned prefixes covering exactly [first, last]. */
export function rangeToPrefixes(range: AddressRange): Prefix[] {
  const bits = addressBits(range.family);
  const out: Prefix[] = [];
  let start = range.first;
  while (start <= range.last) {
    // Largest block aligned at `start`: limited by the trailing zero bits of start ...
    let hostBits = 0;
    while (hostBits < bits && ((start >> BigInt(hostBits)) & 1n) === 0n) hostBits++;
    // ... and by what is left of the range.
    while (hostBits > 0 && start + (1n << BigInt(hostBits)) - 1n > range.last) hostBits--;
    out.push(makePrefix(fromBigInt(start, range.family), bits - hostBits));
    start += 1n << BigInt(hostBits);
  }
  return out;
}

/** Minimal set of prefixes covering exactly the union of `prefixes`, in address order. */
export function aggregate(prefixes: readonly Prefix[]): Prefix[] {
  return mergeRanges(prefixes.map(prefixRange)).flatMap(rangeToPrefixes);
}

/** The addresses of `from` that are not in `remove`, as a minimal prefix set. */
export function subtract(from: readonly Prefix[], remove: readonly Prefix[]): Prefix[] {
  const cut = mergeRanges(remove.map(prefixRange));
  const out: AddressRange[] = [];
  for (const r of mergeRanges(from.map(prefixRange))) {
    let first = r.first;
    for (const c of cut) {
      if (c.family !== r.family || c.last < first || c.first > r.last) continue;
      if (c.first > first) out.push({ family: r.family, first, last: c.first - 1n });
      first = c.last + 1n;
      if (first > r.last) break;
    }
    if (first <= r.last) out.push({ family: r.family, first, last: r.last });
  }
  return out.flatMap(rangeToPrefixes);
}

/** The addresses in both sets, as a minimal prefix set. */
export function intersect(a: readonly Prefix[], b: readonly Prefix[]): Prefix[] {
  const rb = mergeRanges(b.map(prefixRange));
  const out: AddressRange[] = [];
  for (const r of mergeRanges(a.map(prefixRange))) {
    for (const s of rb) {
      if (s.family !== r.family) continue;
      const first = bigMax(r.first, s.first);
      const last = bigMin(r.last, s.last);
      if (first <= last) out.push({ family: r.family, first, last });
    }
  }
  return mergeRanges(out).flatMap(rangeToPrefixes);
}

/** Math.max/min for bigint (Math.* rejects bigints). */
export function bigMax(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

export function bigMin(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
