/**
 * Coarser aggregates for the VPC planner (its phase D). Two prefixes of one unit (a node, or a
 * group behind its forwarder) may become their smallest common supernet when that supernet lies
 * inside a pod network and covers no block of any node outside the unit: unused addresses may be
 * swallowed, another node's block never, so longest-prefix match still sends every block to its
 * own target and no route of one zone covers a block of another.
 */
import { aggregate, prefixRange } from '../../net/aggregate.js';
import { formatPrefix, makePrefix, type Prefix, prefixContains } from '../../net/prefix.js';
import type { NodeEntry, Unit } from './topology.js';

/** IPv4 and IPv6 on one axis: IPv6 addresses sort after every IPv4 address. */
const V6_OFFSET = 1n << 128n;

function axis(p: Prefix): { first: bigint; last: bigint } {
  const r = prefixRange(p);
  const off = p.family === 6 ? V6_OFFSET : 0n;
  return { first: r.first + off, last: r.last + off };
}

/**
 * Sorted address ranges that answer "how many overlap [a, b]" in O(log n): the ranges are blocks,
 * disjoint unless the input was bad, so the walk back over ranges starting before `a` is short.
 */
class RangeIndex {
  private readonly firsts: bigint[];
  private readonly lasts: bigint[];
  /** Largest `last` up to each index: bounds the walk back. */
  private readonly maxLast: bigint[];

  constructor(ranges: readonly { first: bigint; last: bigint }[]) {
    const sorted = [...ranges].sort((x, y) => (x.first < y.first ? -1 : x.first > y.first ? 1 : 0));
    this.firsts = sorted.map((r) => r.first);
    this.lasts = sorted.map((r) => r.last);
    this.maxLast = [];
    let m = -1n;
    for (const l of this.lasts) {
      m = l > m ? l : m;
      this.maxLast.push(m);
    }
  }

  /** First index whose `first` is > v (strict) or >= v. */
  private bound(v: bigint, strict: boolean): number {
    let lo = 0;
    let hi = this.firsts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const f = this.firsts[mid]!;
      if (f < v || (strict && f === v)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  count(a: bigint, b: bigint): number {
    const lo = this.bound(a, false);
    let n = this.bound(b, true) - lo;
    for (let i = lo - 1; i >= 0 && this.maxLast[i]! >= a; i--) if (this.lasts[i]! >= a) n++;
    return n;
  }
}

/** The longest prefix containing both (same family), or undefined. */
export function supernet(a: Prefix, b: Prefix): Prefix | undefined {
  if (a.family !== b.family) return undefined;
  for (let len = Math.min(a.length, b.length); len >= 0; len--) {
    const s = makePrefix(a.bytes, len);
    if (prefixContains(s, b)) return s;
  }
  return undefined;
}

export class Widener {
  /** Every block of every node (overlapping ones too). */
  private readonly all: RangeIndex;
  private readonly perUnit = new Map<object, RangeIndex>();

  constructor(
    entries: readonly NodeEntry[],
    private readonly networks: readonly Prefix[],
  ) {
    this.all = new RangeIndex(entries.flatMap((e) => e.node.blocks.map(axis)));
  }

  private indexOf(key: object, members: readonly NodeEntry[]): RangeIndex {
    let idx = this.perUnit.get(key);
    if (!idx) {
      idx = new RangeIndex(members.flatMap((e) => e.node.blocks.map(axis)));
      this.perUnit.set(key, idx);
    }
    return idx;
  }

  /**
   * May the unit own this supernet: inside a pod network, and every block in it one of the unit's
   * (as many blocks of the unit overlap it as blocks of anyone)?
   */
  allowed(s: Prefix, mine: RangeIndex): boolean {
    if (!this.networks.some((n) => prefixContains(n, s))) return false;
    const r = axis(s);
    return this.all.count(r.first, r.last) === mine.count(r.first, r.last);
  }

  /**
   * The allowed supernets of two neighbours in `prefixes` (sorted), best first: one of `preferred`
   * (routes already in force: merging into them changes nothing in the tables), then the smallest.
   */
  private candidates(
    prefixes: readonly Prefix[],
    mine: RangeIndex,
    preferred: ReadonlySet<string>,
  ): { sup: Prefix; rank: number }[] {
    const out: { sup: Prefix; rank: number }[] = [];
    for (let i = 0; i + 1 < prefixes.length; i++) {
      const sup = supernet(prefixes[i]!, prefixes[i + 1]!);
      if (!sup || !this.allowed(sup, mine)) continue;
      out.push({ sup, rank: (preferred.has(formatPrefix(sup)) ? 1000 : 0) + sup.length });
    }
    return out.sort((x, y) => y.rank - x.rank);
  }

  /** `prefixes` widened as far as allowed. */
  widest(prefixes: readonly Prefix[], members: readonly NodeEntry[]): Prefix[] {
    const mine = this.indexOf(members, members);
    let out = [...prefixes];
    for (;;) {
      const best = this.candidates(out, mine, new Set())[0];
      if (!best) return out;
      out = aggregate([...out, best.sup]);
    }
  }

  /** Merges across all units, best candidate first, until `need` routes are saved. Returns the saving. */
  merge(units: readonly Unit[], need: number, preferred: ReadonlySet<string> = new Set()): number {
    // Each unit's best candidate, recomputed only when that unit changed.
    const cache = new Map<Unit, { sup: Prefix; rank: number } | undefined>();
    const bestOf = (u: Unit) => {
      if (!cache.has(u))
        cache.set(u, this.candidates(u.prefixes, this.indexOf(u.members, u.members), preferred)[0]);
      return cache.get(u);
    };
    let saved = 0;
    while (saved < need) {
      let best: { unit: Unit; sup: Prefix; rank: number } | undefined;
      for (const u of units) {
        const c = bestOf(u);
        if (c && (!best || c.rank > best.rank)) best = { unit: u, ...c };
      }
      if (!best) break;
      const before = best.unit.prefixes.length;
      best.unit.prefixes = aggregate([...best.unit.prefixes, best.sup]);
      cache.delete(best.unit);
      saved += before - best.unit.prefixes.length;
    }
    return saved;
  }
}
