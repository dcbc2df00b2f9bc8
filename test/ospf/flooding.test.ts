import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import { parsePrefix } from '../../src/net/prefix.js';
import { LsType, MAX_AGE } from '../../src/ospf/constants.js';
import { config, FakeLink, nbrState, p2pPair, speaker } from './harness.js';

const routerOf = (
  sp: { database(): { type: number; advRouter: string; detail: string; seq: string; age: number }[] },
  rid: string,
) => sp.database().find((e) => e.type === LsType.Router && e.advRouter === rid);

t.test(
  'graceful drain: prefixes withdrawn and acked, then an empty Hello drops the neighbor to Init',
  async (t) => {
    const { clock, link, a, b } = p2pPair();
    await a.start();
    await b.start();
    a.setDesired([parsePrefix('198.19.1.0/24')]);
    clock.advance(11_000);
    t.match(routerOf(b, '198.18.0.1')?.detail, /198\.19\.1\.0/);
    const stopped = a.stop({ drain: true });
    let done = false;
    stopped.then(() => {
      done = true;
    });
    for (let i = 0; i < 200 && !done; i++) {
      clock.advance(10);
      await Promise.resolve();
    }
    await stopped;
    t.notMatch(
      routerOf(b, '198.18.0.1')?.detail,
      /198\.19\.1\.0/,
      'stub withdrawn at once (no MinLSInterval)',
    );
    t.ok(clock.now() - 1_011_000 <= 1200, 'drain finished within the ack wait (about a second)');
    t.ok(clock.now() - 1_011_000 >= 1000, 'it waited for the delayed ack');
    const lastHello = link.sentBy('198.18.0.1', 'hello').at(-1)!.packet.body;
    t.same(lastHello.kind === 'hello' && lastHello.neighbors, [], 'goodbye Hello lists nobody');
    t.equal(nbrState(b, '198.18.0.1'), 'Init', 'neighbor dropped to Init without waiting for Dead');
    t.same(a.status().announced, []);
    await b.stop({ drain: false });
  },
);

t.test('fight-back: after a restart our stale router-LSA is replaced with a higher sequence', async (t) => {
  const clock = new ManualClock(1_000_000);
  const link = new FakeLink(clock);
  const sa = link.attach('198.18.0.1');
  const sb = link.attach('198.18.0.2');
  const a1 = speaker(clock, '198.18.0.1', config({}), { eth1: sa });
  const b = speaker(clock, '198.18.0.2', config({}), { eth1: sb });
  await a1.start();
  await b.start();
  a1.setDesired([parsePrefix('198.19.1.0/24')]);
  for (let i = 0; i < 4; i++) {
    clock.advance(6_000);
    a1.setDesired([parsePrefix(`198.19.${i + 2}.0/24`)]);
  }
  clock.advance(6_000);
  const before = routerOf(b, '198.18.0.1')!;
  t.match(before.detail, /198\.19\.5\.0/);
  // Abrupt stop (crash), new incarnation with another prefix, fresh LSDB and sequence space.
  await a1.stop({ drain: false });
  sa.closed = false;
  const a2 = speaker(clock, '198.18.0.1', config({}), { eth1: sa });
  await a2.start();
  a2.setDesired([parsePrefix('198.19.9.0/24')]);
  clock.advance(50);
  const after = routerOf(b, '198.18.0.1')!;
  t.ok(
    Number(after.seq) > Number(before.seq),
    `sequence moved past the old instance (${before.seq} -> ${after.seq})`,
  );
  t.match(after.detail, /198\.19\.9\.0/, 'new contents');
  t.notMatch(after.detail, /198\.19\.5\.0/, 'stale prefix gone');
  // One fight-back origination after Loading completes, with the Full adjacency in it: a first one
  // without the link would hold the link back a whole MinLSInterval (5 s; seen with FRR).
  t.match(after.detail, /^p2p 198\.18\.0\.2\//, 'already carries the point-to-point link to b');
  t.equal(routerOf(a2, '198.18.0.1')!.seq, after.seq);
  await a2.stop({ drain: false });
  await b.stop({ drain: false });
});

t.test(
  'AS-external announcement: type-5 per prefix with E bit, metric type and tag; withdrawal flushes',
  async (t) => {
    const cfg = { announceAs: 'external', metric: 30, externalMetricType: 1, externalTag: 77 };
    const { clock, a, b } = p2pPair({ cfg });
    await a.start();
    await b.start();
    a.setDesired([parsePrefix('198.19.4.0/23')]);
    clock.advance(11_000);
    const ext = () => b.database().find((e) => e.type === LsType.AsExternal && e.advRouter === '198.18.0.1');
    t.equal(ext()?.lsId, '198.19.4.0');
    t.equal(ext()?.detail, '198.19.4.0 mask 255.255.254.0 E1 metric 30 tag 77');
    t.equal(ext()?.area, null);
    t.notMatch(routerOf(b, '198.18.0.1')?.detail, /198\.19\.4\.0/, 'not as a stub link');
    a.setDesired([]);
    clock.advance(10);
    t.equal(ext()?.age, MAX_AGE, 'flushed by premature aging');
    clock.advance(3_000);
    t.equal(ext(), undefined, 'removed once acknowledged');
    t.equal(
      a.database().find((e) => e.type === LsType.AsExternal),
      undefined,
      'originator dropped it too',
    );
    await a.stop({ drain: false });
    await b.stop({ drain: false });
  },
);

t.test('stub area: E bit clear, no AS-external LSAs, external announcement refused by config', async (t) => {
  const cfg = { areas: [{ id: '0.0.0.1', type: 'stub' }] };
  const { clock, a, b, link } = p2pPair({ cfg, a: { area: '0.0.0.1' }, b: { area: '0.0.0.1' } });
  await a.start();
  await b.start();
  clock.advance(100);
  t.equal(nbrState(a, '198.18.0.2'), 'Full');
  const hello = link.sentBy('198.18.0.1', 'hello')[0]!.packet.body;
  t.equal(hello.kind === 'hello' && hello.options & 0x02, 0);
  t.throws(() => config({ ...cfg, announceAs: 'external' }, { area: '0.0.0.1' }));
  // A stub router meeting a normal-area neighbor refuses its Hellos (E-bit mismatch).
  const m = p2pPair({ cfg, a: { area: '0.0.0.1' }, b: { area: '0.0.0.1' } });
  const n = speaker(m.clock, '198.18.0.3', config({}, { area: '0.0.0.1' }), {
    eth1: m.link.attach('198.18.0.3'),
  });
  await m.a.start();
  await n.start();
  m.clock.advance(100);
  t.ok((m.a.status().dropped['area-type'] ?? 0) > 0);
  for (const s of [a, b, m.a, n]) await s.stop({ drain: false });
});

t.test('30-minute refresh and MaxAge of a silent neighbor LSA', async (t) => {
  const { clock, a, b, sb } = p2pPair();
  await a.start();
  await b.start();
  clock.advance(11_000);
  const seq0 = routerOf(b, '198.18.0.1')!.seq;
  clock.advance(1800 * 1000);
  const seq1 = routerOf(b, '198.18.0.1')!.seq;
  t.not(seq1, seq0, 'refreshed at LSRefreshTime');
  t.ok(routerOf(b, '198.18.0.1')!.age < 10, 'age restarted');
  // B disappears; its router-LSA ages in A's database and is removed at MaxAge.
  sb.closed = true;
  clock.advance(3600 * 1000);
  t.equal(routerOf(a, '198.18.0.2'), undefined, 'MaxAge LSA removed');
  t.ok(routerOf(a, '198.18.0.1'), 'own LSA kept (refreshed)');
  await a.stop({ drain: false });
  await b.stop({ drain: false });
});

t.test(
  'broadcast: priority-0 node is DROther, adjacent only to DR and BDR, transit link after Full',
  async (t) => {
    const clock = new ManualClock(1_000_000);
    const link = new FakeLink(clock);
    const mask = '255.255.255.0';
    const mk = (rid: string, priority: number) =>
      speaker(clock, rid, config({}, { network: 'broadcast', priority }), { eth1: link.attach(rid, mask) });
    const dr = mk('198.18.1.3', 10);
    const bdr = mk('198.18.1.2', 5);
    const other = mk('198.18.1.4', 0);
    const node = mk('198.18.1.9', 0);
    await dr.start();
    await bdr.start();
    clock.advance(41_000); // the eligible routers' Wait timer
    await other.start();
    await node.start();
    t.equal(node.status().interfaces[0]!.state, 'DROther', 'priority 0: straight to DROther, no Wait');
    clock.advance(12_000);
    t.equal(dr.status().interfaces[0]!.state, 'DR');
    t.equal(bdr.status().interfaces[0]!.state, 'Backup');
    t.equal(node.status().interfaces[0]!.dr, '198.18.1.3');
    t.equal(node.status().interfaces[0]!.bdr, '198.18.1.2');
    t.equal(nbrState(node, '198.18.1.3'), 'Full');
    t.equal(nbrState(node, '198.18.1.2'), 'Full');
    t.equal(nbrState(node, '198.18.1.4'), '2-Way', 'two DROthers stay 2-Way');
    node.setDesired([parsePrefix('198.19.8.0/24')]);
    clock.advance(6_000);
    const lsa = routerOf(dr, '198.18.1.9')!;
    t.match(
      lsa.detail,
      /transit 198\.18\.1\.3\/198\.18\.1\.9 65535/,
      'transit link at MaxLinkMetric (RFC 6987)',
    );
    t.match(lsa.detail, /stub 198\.19\.8\.0\/255\.255\.255\.0 10/);
    const net = node.database().find((e) => e.type === LsType.Network);
    t.equal(net?.lsId, '198.18.1.3');
    t.match(net?.detail, /198\.18\.1\.9/, 'the DR lists us in its network-LSA');
    // The node floods to AllDRouters; the DR refloods to AllSPFRouters; DROther 198.18.1.4 has it.
    t.match(routerOf(other, '198.18.1.9')?.detail, /198\.19\.8\.0/);
    t.ok(
      link.log.some((s) => s.from === '198.18.1.9' && s.to === '224.0.0.6' && s.packet.body.kind === 'lsu'),
    );
    t.ok(
      link.log.some((s) => s.from === '198.18.1.9' && s.to === '198.18.1.3' && s.packet.body.kind === 'dd'),
      'DD unicast',
    );
    for (const s of [dr, bdr, other, node]) await s.stop({ drain: false });
  },
);

t.test('two uplinks in one area: LSAs learned on one are flooded out the other', async (t) => {
  const clock = new ManualClock(1_000_000);
  const l1 = new FakeLink(clock);
  const l2 = new FakeLink(clock);
  const node = speaker(clock, '198.18.0.2', config({ interfaces: [{ name: 'eth1' }, { name: 'eth2' }] }), {
    eth1: l1.attach('198.18.0.2'),
    eth2: l2.attach('198.18.0.6'),
  });
  const leaf1 = speaker(clock, '198.18.0.1', config({}), { eth1: l1.attach('198.18.0.1') });
  const leaf2 = speaker(clock, '198.18.0.5', config({}), { eth1: l2.attach('198.18.0.5') });
  for (const s of [node, leaf1, leaf2]) await s.start();
  clock.advance(11_000);
  t.equal(nbrState(node, '198.18.0.1', 'eth1'), 'Full');
  t.equal(nbrState(node, '198.18.0.5', 'eth2'), 'Full');
  t.ok(routerOf(leaf2, '198.18.0.1'), "leaf1's router-LSA reached leaf2 through the node");
  leaf1.setDesired([parsePrefix('198.19.50.0/24')]);
  clock.advance(6_000);
  t.match(routerOf(leaf2, '198.18.0.1')?.detail, /198\.19\.50\.0/, 'an update floods through too');
  t.match(
    routerOf(leaf1, '198.18.0.2')?.detail,
    /p2p 198\.18\.0\.1.*p2p 198\.18\.0\.5|p2p 198\.18\.0\.5.*p2p 198\.18\.0\.1/s,
  );
  for (const s of [node, leaf1, leaf2]) await s.stop({ drain: false });
});

t.test(
  'the router-LSA with the first adjacency goes out MinLSArrival after the exchange, not MinLSInterval after start',
  async (t) => {
    const { clock, a, b } = p2pPair();
    a.setDesired([parsePrefix('198.19.1.0/24')]);
    await a.start();
    // The neighbor shows up 3 s later: a's instance from start reached nobody by flooding.
    clock.advance(3_000);
    await b.start();
    clock.advance(50);
    t.equal(nbrState(a, '198.18.0.2'), 'Full');
    t.notMatch(routerOf(b, '198.18.0.1')?.detail, /p2p/, 'b got the instance from start in the exchange');
    clock.advance(1_100);
    t.notMatch(routerOf(b, '198.18.0.1')?.detail, /p2p/, 'not within MinLSArrival (b would drop it)');
    clock.advance(200);
    t.match(routerOf(b, '198.18.0.1')?.detail, /^p2p 198\.18\.0\.2\//, 'p2p link 1.25 s after the exchange');
    // A change now, with the adjacency up, is held to MinLSInterval from that flooded instance.
    a.setDesired([parsePrefix('198.19.2.0/24')]);
    clock.advance(4_000);
    t.match(routerOf(b, '198.18.0.1')?.detail, /198\.19\.1\.0/, 'MinLSInterval still applies to floods');
    clock.advance(1_100);
    t.match(routerOf(b, '198.18.0.1')?.detail, /198\.19\.2\.0/);
    await a.stop({ drain: false });
    await b.stop({ drain: false });
  },
);
