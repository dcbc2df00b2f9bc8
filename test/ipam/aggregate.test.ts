import fc from 'fast-check';
import t from 'tap';
import { aggregate, intersect, prefixRange, rangeToPrefixes, subtract } from '../../src/net/aggregate.js';
import {
  formatPrefix,
  fromBigInt,
  makePrefix,
  type Prefix,
  parsePrefix,
  toBigInt,
} from '../../src/net/prefix.js';

const P = (s: string): Prefix => parsePrefix(s);
const fmt = (ps: Prefix[]): string[] => ps.map(formatPrefix);

t.test('four /26 become one /24; gaps are never covered', async (t) => {
  t.same(fmt(aggregate(['198.18.0.0/26', '198.18.0.64/26', '198.18.0.128/26', '198.18.0.192/26'].map(P))), [
    '198.18.0.0/24',
  ]);
  t.same(fmt(aggregate(['198.18.0.0/26', '198.18.0.128/26', '198.18.0.192/26'].map(P))), [
    '198.18.0.0/26',
    '198.18.0.128/25',
  ]);
  // Adjacent but not aligned: .64/26 + .128/26 cannot be one /25.
  t.same(fmt(aggregate(['198.18.0.64/26', '198.18.0.128/26'].map(P))), ['198.18.0.64/26', '198.18.0.128/26']);
  t.same(fmt(aggregate(['198.18.0.0/24', '198.18.0.64/26'].map(P))), ['198.18.0.0/24'], 'contained dropped');
  t.same(fmt(aggregate([])), []);
  t.same(fmt(aggregate(['2001:db8::/122', '2001:db8::40/122'].map(P))), ['2001:db8::/121']);
  t.same(fmt(aggregate(['2001:db8::/122', '198.18.0.0/26'].map(P))), ['198.18.0.0/26', '2001:db8::/122']);
});

t.test('rangeToPrefixes cuts an unaligned range into the fewest prefixes', async (t) => {
  const r = {
    family: 4 as const,
    first: toBigInt(Buffer.from([198, 18, 0, 1])),
    last: toBigInt(Buffer.from([198, 18, 0, 6])),
  };
  t.same(fmt(rangeToPrefixes(r)), ['198.18.0.1/32', '198.18.0.2/31', '198.18.0.4/31', '198.18.0.6/32']);
  t.same(fmt(rangeToPrefixes({ family: 4, first: 0n, last: 0xffffffffn })), ['0.0.0.0/0']);
});

t.test('subtract and intersect', async (t) => {
  t.same(fmt(subtract([P('198.18.0.0/24')], [P('198.18.0.64/26')])), ['198.18.0.0/26', '198.18.0.128/25']);
  t.same(fmt(subtract([P('198.18.0.0/24')], [P('198.18.0.0/23')])), []);
  t.same(fmt(subtract([P('198.18.0.0/24')], [P('2001:db8::/32')])), ['198.18.0.0/24']);
  t.same(fmt(intersect([P('198.18.0.0/23')], [P('198.18.1.0/24'), P('198.19.0.0/16')])), ['198.18.1.0/24']);
  t.same(fmt(intersect([P('198.18.0.0/24')], [P('198.18.1.0/24')])), []);
});

/** A random set of /26 blocks inside 198.18.0.0/20. */
const blockSet = fc
  .uniqueArray(fc.integer({ min: 0, max: 63 }), { maxLength: 64, size: 'max' })
  .map((idx) =>
    idx.map((i) => makePrefix(fromBigInt(toBigInt(Buffer.from([198, 18, 0, 0])) + BigInt(i) * 64n, 4), 26)),
  );

const covered = (ps: Prefix[]): Set<bigint> => {
  const s = new Set<bigint>();
  for (const p of ps) {
    const r = prefixRange(p);
    for (let a = r.first; a <= r.last; a += 64n) s.add(a); // /26 granularity is enough here
  }
  return s;
};

t.test(
  'property: the aggregate covers exactly the blocks, with no overlap and no mergeable pair',
  async (t) => {
    fc.assert(
      fc.property(blockSet, (blocks) => {
        const agg = aggregate(blocks);
        const a = covered(agg);
        const b = covered(blocks);
        if (a.size !== b.size || [...a].some((x) => !b.has(x))) return false;
        for (let i = 0; i < agg.length; i++) {
          for (let j = i + 1; j < agg.length; j++) {
            const x = prefixRange(agg[i]!);
            const y = prefixRange(agg[j]!);
            if (x.first <= y.last && y.first <= x.last) return false; // overlap
            // Two buddies of equal length would have merged: minimality.
            if (
              agg[i]!.length === agg[j]!.length &&
              toBigInt(agg[i]!.bytes) >> BigInt(33 - agg[i]!.length) ===
                toBigInt(agg[j]!.bytes) >> BigInt(33 - agg[j]!.length)
            ) {
              return false;
            }
          }
        }
        return true;
      }),
      { numRuns: 300 },
    );
    t.pass('300 random block sets');
  },
);
