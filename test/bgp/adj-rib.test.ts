import fc from 'fast-check';
import t from 'tap';
import { AdjRibIn } from '../../src/bgp/adj-rib-in.js';
import { AdjRibOut } from '../../src/bgp/adj-rib-out.js';
import { decodeMessage, encodeMessage } from '../../src/bgp/message/index.js';
import { accepts } from '../../src/bgp/policy/accept.js';
import { buildUpdates, chunkPrefixes, NLRI_BUDGET, nlriSize } from '../../src/bgp/update-builder.js';
import { formatPrefix, makePrefix, type Prefix, parsePrefix } from '../../src/net/prefix.js';

const prefixArb: fc.Arbitrary<Prefix> = fc.oneof(
  fc
    .tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 32 }))
    .map(([b, l]) => makePrefix(Buffer.from(b), l)),
  fc
    .tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 }))
    .map(([b, l]) => makePrefix(Buffer.from(b), l)),
);
const ctx = { fourOctetAs: true };
const origin = { localAsn: 65001, peerAsn: 65000, nextHop4: '198.18.0.2', nextHop6: '2001:db8::2' };

t.test(
  'Adj-RIB-Out diffs, sent through the codec, leave the peer with exactly the desired set',
  async (t) => {
    fc.assert(
      fc.property(
        fc.array(fc.array(prefixArb, { maxLength: 300 }), { minLength: 1, maxLength: 5 }),
        (sets) => {
          const out = new AdjRibOut();
          const peer = new AdjRibIn('all');
          for (const set of sets) {
            const desired = new Map(set.map((p) => [formatPrefix(p), p]));
            const diff = out.reconcile(desired, () => true);
            for (const u of buildUpdates(origin, diff.announce, diff.withdraw)) {
              const wire = encodeMessage(u, ctx);
              if (wire.length > 4096) return false;
              const back = decodeMessage(wire, ctx);
              if (back.type !== 2) return false;
              peer.apply(back);
            }
            const have = peer
              .routes()
              .map((r) => formatPrefix(r.prefix))
              .sort();
            if (JSON.stringify(have) !== JSON.stringify([...desired.keys()].sort())) return false;
            if (out.size !== desired.size) return false;
          }
          return true;
        },
      ),
      { numRuns: 60 },
    );
    t.pass('property held');
  },
);

t.test('withdrawAll empties the Adj-RIB-Out; sendable filters and later withdraws', async (t) => {
  const out = new AdjRibOut();
  const a = parsePrefix('198.19.1.0/24');
  const b = parsePrefix('2001:db8::/48');
  const desired = new Map([
    ['a', a],
    ['b', b],
  ]);
  t.same(
    out.reconcile(desired, (p) => p.family === 4),
    { announce: [a], withdraw: [] },
  );
  t.same(
    out.reconcile(desired, () => true),
    { announce: [b], withdraw: [] },
  );
  t.same(
    out.reconcile(desired, (p) => p.family === 6),
    { announce: [], withdraw: [a] },
  );
  t.same(out.withdrawAll(), [b]);
  t.equal(out.size, 0);
});

t.test('chunking respects the NLRI budget and keeps order', async (t) => {
  fc.assert(
    fc.property(fc.array(prefixArb, { maxLength: 2000 }), (ps) => {
      const chunks = chunkPrefixes(ps);
      if (chunks.flat().length !== ps.length) return false;
      return chunks.every((c) => c.reduce((n, p) => n + nlriSize(p), 0) <= NLRI_BUDGET);
    }),
  );
  t.pass('property held');
});

t.test('Adj-RIB-In keys round-trip every prefix', async (t) => {
  fc.assert(
    fc.property(fc.uniqueArray(prefixArb, { selector: formatPrefix, maxLength: 100 }), (ps) => {
      const rib = new AdjRibIn('all');
      rib.apply({
        type: 2,
        withdrawn: [],
        attributes: {
          origin: 0,
          asPath: [],
          nextHop: '198.18.0.1',
          mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::1', nlri: ps.filter((p) => p.family === 6) },
        },
        nlri: ps.filter((p) => p.family === 4),
      });
      const got = rib
        .routes()
        .map((r) => formatPrefix(r.prefix))
        .sort();
      return (
        JSON.stringify(got) === JSON.stringify(ps.map(formatPrefix).sort()) && rib.received === ps.length
      );
    }),
  );
  t.pass('property held');
});

t.test('a re-announcement replaces the attributes; policy change per prefix is honoured', async (t) => {
  const rib = new AdjRibIn('default');
  const dflt = parsePrefix('0.0.0.0/0');
  const other = parsePrefix('198.19.0.0/16');
  const upd = (nh: string) => ({
    type: 2 as const,
    withdrawn: [],
    attributes: { origin: 0 as const, asPath: [], nextHop: nh },
    nlri: [dflt, other],
  });
  t.same(rib.apply(upd('198.18.0.1')), { announced: 2, withdrawn: 0 });
  rib.apply(upd('198.18.0.9'));
  t.equal(rib.received, 2, 'no double counting');
  t.equal(rib.size, 1);
  t.equal(rib.routes()[0]!.nextHop, '198.18.0.9');
  t.same(rib.apply({ type: 2, withdrawn: [other, dflt], attributes: {}, nlri: [] }), {
    announced: 0,
    withdrawn: 2,
  });
  t.equal(rib.received, 0);
});

t.test('accept policy', async (t) => {
  const d4 = parsePrefix('0.0.0.0/0');
  const d6 = parsePrefix('::/0');
  const p = parsePrefix('198.19.0.0/16');
  t.same(
    [d4, d6, p].map((x) => [accepts('none', x), accepts('default', x), accepts('all', x)]),
    [
      [false, true, true],
      [false, true, true],
      [false, false, true],
    ],
  );
});

t.test('routes with our own ASN in the AS_PATH are counted but never stored (RFC 4271 9.1.2)', async (t) => {
  const rib = new AdjRibIn('all', 65001);
  rib.apply({
    type: 2,
    withdrawn: [],
    attributes: { origin: 0, asPath: [{ type: 2, asns: [65000, 65001] }], nextHop: '198.18.0.1' },
    nlri: [parsePrefix('198.19.1.0/24')],
  });
  rib.apply({
    type: 2,
    withdrawn: [],
    attributes: { origin: 0, asPath: [{ type: 2, asns: [65000] }], nextHop: '198.18.0.1' },
    nlri: [parsePrefix('198.19.2.0/24')],
  });
  t.equal(rib.received, 2);
  t.same(
    rib.routes().map((r) => formatPrefix(r.prefix)),
    ['198.19.2.0/24'],
  );
});
