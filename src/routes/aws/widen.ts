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

interface OwnedRange {
  readonly family: number;
  readonly first: bigint;
  readonly last: bigint;
  readonly node: string;
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
  /** Every block of every node (overlapping ones too), in address order. */
  private readonly blocks: OwnedRange[];

  constructor(
    entries: readonly NodeEntry[],
    private readonly networks: readonly Prefix[],
  ) {
    this.blocks = entries
      .flatMap((e) => e.node.blocks.map((b) => ({ ...prefixRange(b), node: e.node.name })))
      .sort((a, b) => a.family - b.family || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  }

  /** May `members` own this supernet: inside a pod network, no other node's block in it? */
  allowed(s: Prefix, members: ReadonlySet<string>): boolean {
    if (!this.networks.some((n) => prefixContains(n, s))) return false;
    const r = prefixRange(s);
    let lo = 0;
    let hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = this.blocks[mid]!;
      if (m.family < r.family || (m.family === r.family && m.last < r.first)) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.blocks.length; i++) {
      const b = this.blocks[i]!;
      if (b.family !== r.family || b.first > r.last) break;
      if (!members.has(b.node)) return false;
    }
    return true;
  }

  /**
   * The allowed supernets of two neighbours in `prefixes` (sorted), best first: one of `preferred`
   * (routes already in force: merging into them changes nothing in the tables), then the smallest.
   */
  private candidates(
    prefixes: readonly Prefix[],
    members: ReadonlySet<string>,
    preferred: ReadonlySet<string>,
  ): { sup: Prefix; rank: number }[] {
    const out: { sup: Prefix; rank: number }[] = [];
    for (let i = 0; i + 1 < prefixes.length; i++) {
      const sup = supernet(prefixes[i]!, prefixes[i + 1]!);
      if (!sup || !this.allowed(sup, members)) continue;
      out.push({ sup, rank: (preferred.has(formatPrefix(sup)) ? 1000 : 0) + sup.length });
    }
    return out.sort((x, y) => y.rank - x.rank);
  }

  /** `prefixes` widened as far as allowed. */
  widest(prefixes: readonly Prefix[], members: readonly NodeEntry[]): Prefix[] {
    const names = new Set(members.map((e) => e.node.name));
    let out = [...prefixes];
    for (;;) {
      const best = this.candidates(out, names, new Set())[0];
      if (!best) return out;
      out = aggregate([...out, best.sup]);
    }
  }

  /** Merges across all units, best candidate first, until `need` routes are saved. Returns the saving. */
  merge(units: readonly Unit[], need: number, preferred: ReadonlySet<string> = new Set()): number {
    const names = new Map(units.map((u) => [u, new Set(u.members.map((e) => e.node.name))]));
    let saved = 0;
    while (saved < need) {
      let best: { unit: Unit; sup: Prefix; rank: number } | undefined;
      for (const u of units) {
        const c = this.candidates(u.prefixes, names.get(u)!, preferred)[0];
        if (c && (!best || c.rank > best.rank)) best = { unit: u, ...c };
      }
      if (!best) break;
      const before = best.unit.prefixes.length;
      best.unit.prefixes = aggregate([...best.unit.prefixes, best.sup]);
      saved += before - best.unit.prefixes.length;
    }
    return saved;
  }
}
