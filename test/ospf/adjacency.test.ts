import t from 'tap';
import { parsePrefix } from '../../src/net/prefix.js';
import { DdFlags, LsType } from '../../src/ospf/constants.js';
import { nbrState, p2pPair } from './harness.js';

t.test('point-to-point: Hello, DD as master and slave, LSR/LSU, Full on both sides', async (t) => {
  const { clock, link, a, b } = p2pPair();
  await a.start();
  await b.start();
  clock.advance(20);
  t.equal(nbrState(a, '198.18.0.2'), 'Full');
  t.equal(nbrState(b, '198.18.0.1'), 'Full');
  t.equal(a.status().interfaces[0]!.state, 'PointToPoint');
  t.equal(a.status().interfaces[0]!.neighbors[0]!.ddRole, 'slave');
  t.equal(b.status().interfaces[0]!.neighbors[0]!.ddRole, 'master');
  // Negotiation: both start with I|M|MS; B (higher RID) is master, A echoes B's sequence.
  const aDd = link.sentBy('198.18.0.1', 'dd').map((s) => s.packet.body);
  const bDd = link.sentBy('198.18.0.2', 'dd').map((s) => s.packet.body);
  t.equal(aDd[0]!.kind === 'dd' && aDd[0]!.flags, DdFlags.I | DdFlags.M | DdFlags.MS);
  const bInit = bDd[0]!;
  const aSlave = aDd[1]!;
  if (bInit.kind !== 'dd' || aSlave.kind !== 'dd') throw new Error('not DD');
  t.equal(aSlave.flags & DdFlags.MS, 0, 'A answers as slave');
  t.equal(aSlave.seq, bInit.seq, 'slave echoes the master sequence number');
  t.ok(aSlave.headers.length >= 1, 'slave describes its database');
  for (const s of bDd.slice(1))
    if (s.kind === 'dd') t.equal(s.flags & DdFlags.MS, DdFlags.MS, 'master keeps MS');
  // Each side requested and got the other's router-LSA.
  t.ok(link.sentBy('198.18.0.1', 'lsr').length >= 1);
  const dbA = a.database();
  const bRouter = dbA.find((e) => e.type === LsType.Router && e.advRouter === '198.18.0.2');
  t.ok(bRouter, "B's router-LSA is in A's database");
  // After Full, router-LSAs carry the p2p link (reoriginated after MinLSInterval if needed).
  clock.advance(6000);
  const aInB = b.database().find((e) => e.type === LsType.Router && e.advRouter === '198.18.0.1');
  t.match(aInB?.detail, /p2p 198\.18\.0\.2\/198\.18\.0\.1 65535/, 'link to b at MaxLinkMetric (RFC 6987)');
  t.match(aInB?.detail, /stub 198\.18\.0\.0\/255\.255\.255\.252 10/);
  t.same(a.status().dropped, {});
  t.same(b.status().dropped, {});
  await a.stop({ drain: false });
  await b.stop({ drain: false });
});

t.test('announced prefixes appear as stub links; MinLSInterval spaces re-originations', async (t) => {
  const { clock, a, b } = p2pPair({ cfg: { metric: 20 } });
  await a.start();
  await b.start();
  clock.advance(11_000);
  a.setDesired([parsePrefix('198.19.1.0/24'), parsePrefix('2001:db8::/64')]);
  clock.advance(10);
  const seen = () => b.database().find((e) => e.type === LsType.Router && e.advRouter === '198.18.0.1');
  t.match(seen()?.detail, /stub 198\.19\.1\.0\/255\.255\.255\.0 20/);
  t.notMatch(seen()?.detail, /2001/);
  t.same(a.status().announced, ['198.19.1.0/24'], 'IPv6 ignored');
  const seq1 = seen()!.seq;
  a.setDesired([parsePrefix('198.19.2.0/24')]);
  clock.advance(100);
  t.equal(seen()!.seq, seq1, 'no new instance within MinLSInterval');
  clock.advance(5000);
  t.not(seen()!.seq, seq1, 'new instance after MinLSInterval');
  t.match(seen()?.detail, /198\.19\.2\.0/);
  t.notMatch(seen()?.detail, /198\.19\.1\.0/);
  await a.stop({ drain: false });
  await b.stop({ drain: false });
});

t.test('a lost LS Update is retransmitted after RxmtInterval until acknowledged', async (t) => {
  const { clock, link, a, b } = p2pPair();
  await a.start();
  await b.start();
  clock.advance(11_000);
  let dropped = 0;
  link.drop = (s) => s.from === '198.18.0.1' && s.packet.body.kind === 'lsu' && dropped++ === 0;
  a.setDesired([parsePrefix('198.19.7.0/24')]);
  clock.advance(100);
  const inB = () => b.database().find((e) => e.advRouter === '198.18.0.1' && e.type === 1)?.detail ?? '';
  t.equal(dropped, 1, 'first LSU lost');
  t.notMatch(inB(), /198\.19\.7\.0/);
  clock.advance(5000);
  t.match(inB(), /198\.19\.7\.0/, 'arrived by retransmission');
  const lsus = link.sentBy('198.18.0.1', 'lsu').length;
  clock.advance(20_000);
  t.equal(link.sentBy('198.18.0.1', 'lsu').length, lsus, 'no more retransmissions once acked');
  t.ok(link.sentBy('198.18.0.2', 'ack').length >= 1, 'B acknowledged');
  await a.stop({ drain: false });
  await b.stop({ drain: false });
});

t.test('a lost DD packet: the master retransmits, the slave answers the duplicate', async (t) => {
  const { clock, link, a, b } = p2pPair();
  let lost = 0;
  // Lose the slave's first answer (A's second DD).
  link.drop = (s) => s.from === '198.18.0.1' && s.packet.body.kind === 'dd' && ++lost === 2;
  await a.start();
  await b.start();
  clock.advance(10);
  t.not(nbrState(b, '198.18.0.1'), 'Full');
  clock.advance(5000);
  t.equal(nbrState(a, '198.18.0.2'), 'Full');
  t.equal(nbrState(b, '198.18.0.1'), 'Full');
  await a.stop({ drain: false });
  await b.stop({ drain: false });
});

t.test('mismatched Hello parameters: no adjacency, drops counted', async (t) => {
  const { clock, a, b } = p2pPair({ b: { helloInterval: 5, deadInterval: 40 } });
  await a.start();
  await b.start();
  clock.advance(30_000);
  t.equal(nbrState(a, '198.18.0.2'), 'absent');
  t.ok((a.status().dropped['hello-interval'] ?? 0) > 0);
  const p = p2pPair({ b: { deadInterval: 30 } });
  await p.a.start();
  await p.b.start();
  p.clock.advance(15_000);
  t.ok((p.a.status().dropped['dead-interval'] ?? 0) > 0);
  t.equal(nbrState(p.a, '198.18.0.2'), 'absent');
  const q = p2pPair({ b: { area: '0.0.0.1' } });
  await q.a.start();
  await q.b.start();
  q.clock.advance(15_000);
  t.ok((q.a.status().dropped['wrong-area'] ?? 0) > 0);
  for (const s of [a, b, p.a, p.b, q.a, q.b]) await s.stop({ drain: false });
});

t.test('MTU: a larger neighbor MTU blocks the exchange unless mtuIgnore', async (t) => {
  const { clock, a, b } = p2pPair({ b: { mtu: 9000 } });
  await a.start();
  await b.start();
  clock.advance(20_000);
  t.equal(nbrState(a, '198.18.0.2'), 'ExStart');
  t.ok((a.status().dropped['mtu-mismatch'] ?? 0) > 0);
  const p = p2pPair({ a: { mtuIgnore: true }, b: { mtu: 9000 } });
  await p.a.start();
  await p.b.start();
  p.clock.advance(20_000);
  t.equal(nbrState(p.a, '198.18.0.2'), 'Full');
  for (const s of [a, b, p.a, p.b]) await s.stop({ drain: false });
});

t.test('inactivity timer: a silent neighbor goes Down after RouterDeadInterval', async (t) => {
  const { clock, a, b, sb } = p2pPair();
  await a.start();
  await b.start();
  clock.advance(100);
  t.equal(nbrState(a, '198.18.0.2'), 'Full');
  sb.closed = true;
  clock.advance(39_000);
  t.equal(nbrState(a, '198.18.0.2'), 'Full', 'still up before Dead');
  clock.advance(2_000);
  t.equal(nbrState(a, '198.18.0.2'), 'absent', 'gone after Dead');
  clock.advance(6_000);
  const aSelf = a.database().find((e) => e.self && e.type === 1);
  t.notMatch(aSelf?.detail, /p2p/, 'p2p link withdrawn from our router-LSA');
  await a.stop({ drain: false });
  await b.stop({ drain: false });
});

t.test(
  'authentication: MD5 and HMAC-SHA-256 form adjacencies; wrong key and replays are dropped',
  async (t) => {
    for (const auth of [
      { type: 'md5', keyId: 3, key: 'k1' },
      { type: 'hmac-sha-256', keyId: 1, key: 'a longer key' },
      { type: 'simple', key: 'pw' },
    ]) {
      const { clock, a, b } = p2pPair({ a: { auth }, b: { auth } });
      await a.start();
      await b.start();
      clock.advance(100);
      t.equal(nbrState(a, '198.18.0.2'), 'Full', `${auth.type} Full`);
      await a.stop({ drain: false });
      await b.stop({ drain: false });
    }
    const { clock, a, b, link } = p2pPair({
      a: { auth: { type: 'md5', keyId: 1, key: 'right' } },
      b: { auth: { type: 'md5', keyId: 1, key: 'wrong' } },
    });
    await a.start();
    await b.start();
    clock.advance(20_000);
    t.equal(nbrState(a, '198.18.0.2'), 'absent');
    t.ok((a.status().dropped['auth-key'] ?? 0) > 0);
    // Crypto sequence numbers are strictly increasing per sender.
    const seqs = link.log.filter((s) => s.from === '198.18.0.1').map((s) => s.bytes.readUInt32BE(20));
    t.ok(
      seqs.every((v, i) => i === 0 || v > seqs[i - 1]!),
      'strictly increasing',
    );
    await a.stop({ drain: false });
    await b.stop({ drain: false });

    const r = p2pPair({
      a: { auth: { type: 'md5', keyId: 1, key: 'k' } },
      b: { auth: { type: 'md5', keyId: 1, key: 'k' } },
    });
    await r.a.start();
    await r.b.start();
    r.clock.advance(25_000);
    const old = r.link.sentBy('198.18.0.2', 'hello')[0]!;
    r.sa.handler?.(old.bytes, '198.18.0.2');
    t.equal(r.a.status().dropped['auth-replay'], 1, 'replayed (older sequence) packet dropped');
    t.equal(nbrState(r.a, '198.18.0.2'), 'Full');
    await r.a.stop({ drain: false });
    await r.b.stop({ drain: false });
  },
);

t.test('garbage and bad checksums are dropped and counted, never thrown', async (t) => {
  const { clock, a, b, sa, link } = p2pPair();
  await a.start();
  await b.start();
  clock.advance(100);
  sa.handler?.(Buffer.from('0201', 'hex'), '198.18.0.2');
  const hello = Buffer.from(link.sentBy('198.18.0.2', 'hello')[0]!.bytes);
  hello[30] = hello[30]! ^ 0xff;
  sa.handler?.(hello, '198.18.0.2');
  const lsu = link.sentBy('198.18.0.2', 'lsu')[0]!;
  const corrupt = Buffer.from(lsu.bytes);
  corrupt[corrupt.length - 1] = corrupt[corrupt.length - 1]! ^ 1;
  // Re-seal the packet checksum so only the LSA checksum is wrong.
  const { encodePacket, decodePacket } = await import('../../src/ospf/packet/packet.js');
  sa.handler?.(encodePacket(decodePacket(corrupt).packet), '198.18.0.2');
  const d = a.status().dropped;
  t.equal(d['short-packet'], 1);
  t.equal(d['bad-checksum'], 1);
  t.equal(d['lsa-checksum'], 1);
  await a.stop({ drain: false });
  await b.stop({ drain: false });
});
