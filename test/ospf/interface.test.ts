/** The interface state machine (RFC 2328 9.3) on broadcast networks, with DR election (9.4). */
import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import { LsType } from '../../src/ospf/constants.js';
import { config, FakeLink, nbrState, speaker } from './harness.js';

function segment() {
  const clock = new ManualClock(1_000_000);
  const link = new FakeLink(clock);
  const socks: Record<string, ReturnType<FakeLink['attach']>> = {};
  const mk = (rid: string, priority: number) => {
    socks[rid] = link.attach(rid, '255.255.255.0');
    return speaker(clock, rid, config({}, { network: 'broadcast', priority }), { eth1: socks[rid]! });
  };
  const ifState = (sp: ReturnType<typeof mk>) => sp.status().interfaces[0]!;
  return { clock, link, socks, mk, ifState };
}

t.test('eligible router: Waiting for RouterDeadInterval, then DR', async (t) => {
  const s = segment();
  const r = s.mk('198.18.1.5', 1);
  await r.start();
  t.equal(s.ifState(r).state, 'Waiting');
  s.clock.advance(39_000);
  t.equal(s.ifState(r).state, 'Waiting');
  s.clock.advance(1_001);
  t.equal(s.ifState(r).state, 'DR', 'WaitTimer: alone on the segment, DR');
  t.equal(s.ifState(r).dr, '198.18.1.5');
  t.equal(s.ifState(r).bdr, '0.0.0.0');
  await r.stop({ drain: false });
});

t.test('BackupSeen ends Waiting early; the newcomer becomes BDR without preempting the DR', async (t) => {
  const s = segment();
  const dr = s.mk('198.18.1.3', 1);
  await dr.start();
  s.clock.advance(41_000);
  t.equal(s.ifState(dr).state, 'DR');
  const hi = s.mk('198.18.1.200', 100);
  await hi.start();
  s.clock.advance(50);
  t.equal(s.ifState(hi).state, 'Backup', 'DR seen (BackupSeen): no 40 s wait, higher priority still BDR');
  t.equal(s.ifState(hi).dr, '198.18.1.3');
  s.clock.advance(10_000);
  t.equal(s.ifState(dr).bdr, '198.18.1.200', 'DR learns its BDR');
  t.equal(nbrState(hi, '198.18.1.3'), 'Full');
  for (const r of [dr, hi]) await r.stop({ drain: false });
});

t.test(
  'DR failure: the BDR takes over and the DROther node re-forms its adjacency and transit link',
  async (t) => {
    const s = segment();
    const dr = s.mk('198.18.1.3', 10);
    const bdr = s.mk('198.18.1.2', 5);
    const node = s.mk('198.18.1.9', 0);
    await dr.start();
    await bdr.start();
    s.clock.advance(41_000);
    await node.start();
    s.clock.advance(11_000);
    t.equal(nbrState(node, '198.18.1.3'), 'Full');
    s.socks['198.18.1.3']!.closed = true;
    await dr.stop({ drain: false });
    s.clock.advance(60_000);
    t.equal(s.ifState(bdr).state, 'DR', 'BDR promoted');
    t.equal(s.ifState(node).dr, '198.18.1.2');
    t.equal(nbrState(node, '198.18.1.3'), 'absent');
    t.equal(nbrState(node, '198.18.1.2'), 'Full');
    const own = node.database().find((e) => e.self && e.type === LsType.Router);
    t.match(own?.detail, /transit 198\.18\.1\.2\/198\.18\.1\.9/);
    for (const r of [bdr, node]) await r.stop({ drain: false });
  },
);

t.test('a DROther ignores LSUs from another DROther (no adjacency) and counts them', async (t) => {
  const s = segment();
  const dr = s.mk('198.18.1.3', 10);
  const a = s.mk('198.18.1.8', 0);
  const b = s.mk('198.18.1.9', 0);
  await dr.start();
  s.clock.advance(41_000);
  await a.start();
  await b.start();
  s.clock.advance(20_000);
  t.equal(nbrState(a, '198.18.1.9'), '2-Way');
  t.equal(nbrState(a, '198.18.1.3'), 'Full');
  // The fake link delivers AllDRouters to everyone, as a DROther may see them on a real segment.
  t.ok((a.status().dropped['lsu-wrong-state'] ?? 0) > 0, "b's flood to AllDRouters dropped by a");
  t.ok(
    a.database().some((e) => e.type === LsType.Router && e.advRouter === '198.18.1.9'),
    "b's router-LSA reached a through the DR",
  );
  for (const r of [dr, a, b]) await r.stop({ drain: false });
});

t.test('hello from outside the interface subnet is dropped on broadcast links', async (t) => {
  const s = segment();
  const r = s.mk('198.18.1.5', 0);
  await r.start();
  const other = s.link.attach('198.18.9.1', '255.255.255.0');
  const { encodePacket } = await import('../../src/ospf/packet/packet.js');
  s.socks['198.18.1.5']!.handler?.(
    encodePacket({
      routerId: '198.18.9.1',
      areaId: '0.0.0.0',
      body: {
        kind: 'hello',
        mask: '255.255.255.0',
        helloInterval: 10,
        options: 2,
        priority: 1,
        deadInterval: 40,
        dr: '0.0.0.0',
        bdr: '0.0.0.0',
        neighbors: [],
      },
    }),
    other.info.address,
  );
  t.equal(r.status().dropped['wrong-subnet'], 1);
  t.equal(nbrState(r, '198.18.9.1'), 'absent');
  await r.stop({ drain: false });
});
