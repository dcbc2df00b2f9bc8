import fc from 'fast-check';
import t from 'tap';
import { PrefixMap } from '../../src/bgp/prefix-map.js';
import {
  comparePrefix,
  formatPrefix,
  makePrefix,
  maskBytes,
  type Prefix,
  parsePrefix,
} from '../../src/net/prefix.js';

t.test('edge addresses and both families', async (t) => {
  const m = new PrefixMap<number>();
  const keys = ['0.0.0.0/0', '255.255.255.255/32', '128.0.0.0/1', '198.18.0.0/15', '::/0', '2001:db8::/32'];
  keys.forEach((k, i) => {
    m.set(parsePrefix(k), i);
  });
  t.equal(m.size, keys.length);
  keys.forEach((k, i) => {
    t.equal(m.get(parsePrefix(k)), i, k);
  });
  m.set(parsePrefix('255.255.255.255/32'), 9);
  t.equal(m.size, keys.length, 'overwrite does not count twice');
  t.same(
    [...m.entries()].map(([p]) => formatPrefix(p)).sort(),
    [...keys].sort(),
    'entries give the prefixes back',
  );
  t.ok(m.delete(parsePrefix('128.0.0.0/1')));
  t.notOk(m.delete(parsePrefix('128.0.0.0/1')), 'a second delete finds nothing');
  t.equal(m.get(parsePrefix('128.0.0.0/2')), undefined, 'length is part of the key');
  m.clear();
  t.equal(m.size, 0);
});

t.test('behaves like a map keyed by the prefix text', async (t) => {
  const prefix = fc
    .tuple(fc.boolean(), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat(128))
    .map(
      ([v4, bytes, len]): Prefix =>
        v4 ? makePrefix(Buffer.from(bytes.subarray(0, 4)), len % 33) : makePrefix(Buffer.from(bytes), len),
    );
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), prefix), { maxLength: 200 }), (ops) => {
      const m = new PrefixMap<number>();
      const ref = new Map<string, number>();
      ops.forEach(([del, p], i) => {
        const k = formatPrefix(p);
        if (del) {
          if (m.delete(p) !== ref.delete(k)) throw new Error(`delete ${k} disagrees`);
        } else {
          m.set(p, i);
          ref.set(k, i);
        }
      });
      if (m.size !== ref.size) return false;
      return [...m.entries()].every(([p, v]) => ref.get(formatPrefix(p)) === v);
    }),
  );
  t.pass('PrefixMap agrees with the reference map');
});

t.test('first: the lowest prefixes in comparePrefix order; distinctCount over several maps', async (t) => {
  fc.assert(
    fc.property(
      fc.uniqueArray(
        fc.oneof(
          fc.tuple(
            fc.constant(4 as const),
            fc.uint8Array({ minLength: 4, maxLength: 4 }),
            fc.integer({ min: 0, max: 32 }),
          ),
          fc.tuple(
            fc.constant(6 as const),
            fc.uint8Array({ minLength: 16, maxLength: 16 }),
            fc.integer({ min: 0, max: 128 }),
          ),
        ),
        { maxLength: 300 },
      ),
      fc.integer({ min: 1, max: 50 }),
      (raw, limit) => {
        const m = new PrefixMap<true>();
        const other = new PrefixMap<true>();
        const texts = new Set<string>();
        raw.forEach(([, bytes, len], i) => {
          const p = makePrefix(maskBytes(Buffer.from(bytes), len), len);
          (i % 3 === 0 ? other : m).set(p, true);
          if (i % 5 === 0) m.set(p, true);
          texts.add(formatPrefix(p));
        });
        const want = [...m.entries()]
          .map(([p]) => p)
          .sort(comparePrefix)
          .slice(0, limit)
          .map(formatPrefix);
        return (
          m.first(limit).map(formatPrefix).join() === want.join() &&
          PrefixMap.distinctCount([m, other]) === texts.size
        );
      },
    ),
    { seed: 20261201, numRuns: 200 },
  );
  t.pass('200 random maps');
});
