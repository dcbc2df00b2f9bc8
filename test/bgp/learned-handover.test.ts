/**
 * What the speaker hands the route programmer of its kept routes (learned-handover.ts): a peer with
 * `install: false` hands over nothing (its paths are read in place for the status view), an installed
 * peer's table goes once whole and then only the difference, and the route programmer's copy built
 * from those differences always equals the kept routes.
 */
import fc from 'fast-check';
import t from 'tap';
import { LearnedHandover } from '../../src/bgp/learned-handover.js';
import type { UpdateMessage } from '../../src/bgp/message/index.js';
import { Peer } from '../../src/bgp/speaker-peer.js';
import { type BgpPeerConfig, bgpPeerSchema } from '../../src/config/bgp.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { comparePrefix, formatPrefix, makePrefix, parsePrefix } from '../../src/net/prefix.js';
import { LearnedTable } from '../../src/routes/learned-table.js';

const LOCAL_ASN = 65001;

function peer(address: string, o: Partial<BgpPeerConfig> = {}): Peer {
  const cfg = bgpPeerSchema.parse({ address, asn: 65000, accept: 'all', ...o });
  const p = new Peer(cfg, LOCAL_ASN, new ManualClock(), silentLogger, undefined, () => undefined);
  p.facts = { peerAsn: 65000, peerId: address, localAddress: '198.18.0.2', gracefulRestart: undefined };
  return p;
}

const v4 = (i: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE((0x64400000 + i * 256) >>> 0);
  return makePrefix(b, 24);
};
const announce = (prefixes: string[] | ReturnType<typeof v4>[], nextHop = '198.18.0.1'): UpdateMessage => ({
  type: 2,
  withdrawn: [],
  attributes: { origin: 0, asPath: [{ type: 2, asns: [65000] }], nextHop },
  nlri: prefixes.map((p) => (typeof p === 'string' ? parsePrefix(p) : p)),
});
const withdraw = (prefixes: string[]): UpdateMessage => ({
  type: 2,
  withdrawn: prefixes.map((p) => parsePrefix(p)),
  attributes: {},
  nlri: [],
});

t.test('install: false hands nothing over; the view reads the first paths in place', async (t) => {
  const quiet = peer('198.18.0.1', { install: false });
  const h = new LearnedHandover(() => [quiet], LOCAL_ASN);
  // Highest first, so every prefix is below what was kept before.
  quiet.ribIn.apply(announce(Array.from({ length: 10_000 }, (_, i) => v4(9_999 - i))));
  t.same(h.changes(), [], 'no route handed over');
  t.equal(h.shown.paths(), 10_000);
  t.equal(h.shown.prefixes(), 10_000);
  const first = h.shown.first(3);
  t.equal(first.length, 1);
  t.match(first[0], { address: '198.18.0.1', install: false, routerId: '198.18.0.1', asn: 65000 });
  t.same(
    [...first[0]!.routes].map((r) => formatPrefix(r.prefix)),
    ['100.64.0.0/24', '100.64.1.0/24', '100.64.2.0/24'],
  );
  quiet.ribIn.apply(withdraw(['100.64.1.0/24']));
  quiet.ribIn.apply(announce(['100.63.255.0/24']));
  t.same(h.changes(), [], 'still nothing handed over');
  t.same(
    [...h.shown.first(3)[0]!.routes].map((r) => formatPrefix(r.prefix)),
    ['100.63.255.0/24', '100.64.0.0/24', '100.64.2.0/24'],
    'the first rows follow the changes',
  );
});

t.test('an installed peer: its table once, then only the difference, then its end', async (t) => {
  const leaf = peer('198.18.0.1');
  const h = new LearnedHandover(() => [leaf], LOCAL_ASN);
  t.same(h.changes(), [], 'nothing kept yet');
  leaf.ribIn.apply(announce(Array.from({ length: 1000 }, (_, i) => v4(i))));
  const [reset, ...rest] = h.changes();
  t.equal(rest.length, 0);
  t.match(reset, { kind: 'reset', peer: { address: '198.18.0.1', install: true, ibgp: false } });
  t.equal(reset?.kind === 'reset' && reset.routes.length, 1000, 'the whole table once');
  t.same(h.changes(), [], 'no change, nothing handed over');
  leaf.ribIn.apply(withdraw(['100.64.1.0/24']));
  leaf.ribIn.apply(announce(['100.64.2.0/24', '198.18.100.0/24'], '198.18.0.3'));
  const diff = h.changes();
  t.equal(diff.length, 1);
  const d = diff[0]!;
  t.equal(d.kind, 'diff');
  if (d.kind === 'diff') {
    t.same(
      d.set.map((r) => `${formatPrefix(r.prefix)} ${r.nextHop}`).sort(),
      ['100.64.2.0/24 198.18.0.3', '198.18.100.0/24 198.18.0.3'],
      'only the two routes that changed',
    );
    t.same(d.withdrawn.map(formatPrefix), ['100.64.1.0/24']);
  }
  t.equal(h.shown.paths(), 0, 'nothing of it in the install: false view');
  leaf.reconfigure({ ...leaf.config, install: false });
  t.same(h.changes(), [{ kind: 'gone', address: '198.18.0.1' }], 'install turned off: the peer goes');
  leaf.ribIn.apply(announce(['198.18.101.0/24']));
  t.same(h.changes(), [], 'and hands nothing over from then on');
  leaf.reconfigure({ ...leaf.config, install: true });
  const again = h.changes();
  t.equal(again[0]?.kind === 'reset' && again[0].routes.length, 1001, 'turned on again: whole once more');
  leaf.ribIn.clear();
  t.same(h.changes(), [{ kind: 'gone', address: '198.18.0.1' }], 'session down, table cleared: gone');
});

t.test('a new session with other facts is handed over whole; a removed peer goes', async (t) => {
  const a = peer('198.18.0.1');
  const b = peer('198.18.0.3');
  let peers = [a, b];
  const h = new LearnedHandover(() => peers, LOCAL_ASN);
  a.ribIn.apply(announce(['0.0.0.0/0']));
  b.ribIn.apply(announce(['0.0.0.0/0'], '198.18.0.3'));
  t.same(
    h.changes().map((c) => c.kind),
    ['reset', 'reset'],
  );
  t.equal(h.shown.prefixes(), 1, 'distinct prefixes over every peer');
  a.facts = { ...a.facts!, peerId: '198.18.9.9' };
  t.match(h.changes(), [{ kind: 'reset', peer: { routerId: '198.18.9.9' } }]);
  peers = [a];
  t.same(h.changes(), [{ kind: 'gone', address: '198.18.0.3' }]);
});

t.test('the copy built from the differences equals the kept routes (random UPDATEs)', async (t) => {
  const pool = Array.from({ length: 40 }, (_, i) => formatPrefix(v4(i)));
  pool.push('2001:db8::/32', '2001:db8:1::/48', '::/0');
  const op = fc.record({
    peer: fc.integer({ min: 0, max: 1 }),
    withdraw: fc.boolean(),
    prefixes: fc.subarray(pool, { minLength: 1, maxLength: 6 }),
    hop: fc.integer({ min: 1, max: 3 }),
    handOver: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const peers = [peer('198.18.0.1'), peer('198.18.0.3', { install: false })];
      const h = new LearnedHandover(() => peers, LOCAL_ASN);
      const table = new LearnedTable();
      const check = (): boolean => {
        table.apply(h.changes());
        const copy = table
          .input([])
          .peers.flatMap((p) => [...p.routes].map((r) => `${formatPrefix(r.prefix)} ${r.nextHop}`));
        const kept = peers[0]!.ribIn.routes().map((r) => `${formatPrefix(r.prefix)} ${r.nextHop}`);
        const first = [...(h.shown.first(5)[0]?.routes ?? [])].map((r) => formatPrefix(r.prefix));
        const want = peers[1]!.ribIn
          .routes()
          .map((r) => r.prefix)
          .sort(comparePrefix)
          .slice(0, 5)
          .map(formatPrefix);
        return copy.sort().join() === kept.sort().join() && first.join() === want.join();
      };
      for (const o of ops) {
        const p = peers[o.peer]!;
        const v6 = o.prefixes.filter((x) => x.includes(':'));
        const v4s = o.prefixes.filter((x) => !x.includes(':'));
        if (o.withdraw) p.ribIn.apply(withdraw(o.prefixes));
        else {
          p.ribIn.apply(announce(v4s, `198.18.0.${o.hop}`));
          if (v6.length > 0) {
            p.ribIn.apply({
              type: 2,
              withdrawn: [],
              attributes: {
                origin: 0,
                asPath: [],
                mpReach: {
                  afi: 2,
                  safi: 1,
                  nextHop: `2001:db8::${o.hop}`,
                  nlri: v6.map((x) => parsePrefix(x)),
                },
              },
              nlri: [],
            });
          }
        }
        if (o.handOver && !check()) return false;
      }
      return check();
    }),
    { seed: 20261201, numRuns: 300 },
  );
  t.pass('300 random sequences');
});
