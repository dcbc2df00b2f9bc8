/**
 * Prefix lists against a reference written differently (integer arithmetic on the address bits):
 * random lists and prefixes, both families, must give the same verdict and entry.
 */
import fc from 'fast-check';
import t from 'tap';
import { compilePrefixList, evaluatePrefixList } from '../../src/bgp/policy/prefix-list.js';
import type { PrefixListEntryConfig } from '../../src/config/bgp-policy.js';
import {
  type Family,
  formatPrefix,
  fromBigInt,
  makePrefix,
  type Prefix,
  parseAddress,
  toBigInt,
} from '../../src/net/prefix.js';

const bits = (f: Family) => (f === 4 ? 32 : 128);

function prefixArb(f: Family): fc.Arbitrary<Prefix> {
  const max = bits(f);
  return fc
    .tuple(fc.bigInt({ min: 0n, max: (1n << BigInt(max)) - 1n }), fc.integer({ min: 0, max }))
    .map(([v, len]) => makePrefix(fromBigInt(v, f), len));
}

function entryArb(f: Family): fc.Arbitrary<PrefixListEntryConfig> {
  const max = bits(f);
  return fc
    .tuple(
      prefixArb(f),
      fc.integer({ min: 0, max }),
      fc.integer({ min: 0, max }),
      fc.constantFrom('permit', 'deny'),
      fc.nat(3),
    )
    .map(([p, x, y, action, shape]) => {
      const lo = Math.max(p.length, Math.min(x, y));
      const hi = Math.max(p.length, Math.max(x, y));
      const e: PrefixListEntryConfig = { prefix: formatPrefix(p), action: action as 'permit' | 'deny' };
      if (shape === 1) return { ...e, ge: lo };
      if (shape === 2) return { ...e, le: hi };
      if (shape === 3) return { ...e, ge: lo, le: hi };
      return e;
    });
}

/** The reference: compare the top bits as integers. */
function reference(entries: readonly PrefixListEntryConfig[], p: Prefix): { action: string; entry?: number } {
  const max = bits(p.family);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const [addr, lenText] = e.prefix.split('/');
    const elen = Number(lenText);
    const eFamily: Family = addr!.includes(':') ? 6 : 4;
    if (eFamily !== p.family) continue;
    const lo = e.ge ?? elen;
    const hi = e.le ?? (e.ge !== undefined ? max : elen);
    if (p.length < Math.max(lo, elen) || p.length > hi) continue;
    const shift = BigInt(max - elen);
    const eBits = toBigInt(parseAddress(addr!)) >> shift;
    if (toBigInt(p.bytes) >> shift === eBits) return { action: e.action, entry: i };
  }
  return { action: 'deny' };
}

t.test('prefix lists agree with the integer reference', async (t) => {
  for (const f of [4, 6] as const) {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(entryArb(f), entryArb(f === 4 ? 6 : 4)), { maxLength: 6 }),
        prefixArb(f),
        (entries, p) => {
          const got = evaluatePrefixList(compilePrefixList(entries), p);
          const want = reference(entries, p);
          return got.action === want.action && got.entry === want.entry;
        },
      ),
      { numRuns: 3000, seed: 5082 + f },
    );
  }
  t.pass('3000 random lists per family');
});

t.test('entries that contain the prefix are found (not just random misses)', async (t) => {
  // Random prefixes rarely fall inside random entries: build matching cases on purpose.
  fc.assert(
    fc.property(prefixArb(4), fc.integer({ min: 0, max: 32 }), (p, cut) => {
      const outerLen = Math.min(cut, p.length);
      const outer = makePrefix(p.bytes, outerLen);
      const entries: PrefixListEntryConfig[] = [{ prefix: formatPrefix(outer), le: 32, action: 'permit' }];
      return evaluatePrefixList(compilePrefixList(entries), p).action === 'permit';
    }),
    { numRuns: 2000, seed: 8212 },
  );
  t.pass('every prefix is inside its own shortened prefix with le 32');
});
