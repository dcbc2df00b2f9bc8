import t from 'tap';
import { MemoryNetwork } from '../../src/bgp/memory-transport.js';
import { encodeMessage, type UpdateMessage } from '../../src/bgp/message/index.js';
import { BgpSpeaker } from '../../src/bgp/speaker.js';
import { type BgpPeerConfig, bgpPeerSchema } from '../../src/config/bgp.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { formatPrefix, parsePrefix } from '../../src/net/prefix.js';
import { ScriptedPeer, settle } from './scripted-peer.js';

const LEAF = '198.18.0.1';
const NODE = '198.18.0.2';
const P = (s: string) => parsePrefix(s);
const names = (ps: readonly { length: number; bytes: Buffer; family: 4 | 6 }[]) =>
  ps.map(formatPrefix).sort();

function rig(peer: Partial<BgpPeerConfig> = {}, asn = 65001) {
  const clock = new ManualClock();
  const net = new MemoryNetwork(NODE);
  const peers: ScriptedPeer[] = [];
  net.answer(LEAF, 179, (far) => peers.push(new ScriptedPeer(far)));
  const cfg = bgpPeerSchema.parse({ address: LEAF, asn: 65000, ...peer });
  const speaker = new BgpSpeaker({
    asn,
    routerId: NODE,
    peers: [cfg],
    listenPort: 179,
    clock,
    logger: silentLogger,
    transport: net,
    random: null,
  });
  return {
    clock,
    net,
    speaker,
    peers,
    get peer() {
      return peers[peers.length - 1]!;
    },
  };
}

type Rig = ReturnType<typeof rig>;

async function up(r: Rig, peerAsn = 65000): Promise<ScriptedPeer> {
  await r.speaker.start();
  await settle();
  r.peer.accept({ asn: peerAsn, id: LEAF });
  await settle();
  return r.peer;
}

/** Announced and withdrawn prefixes of UPDATEs after index `from`, legacy and MP. */
function seen(updates: UpdateMessage[]) {
  const announced = updates.flatMap((u) => [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])]);
  const withdrawn = updates.flatMap((u) => [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])]);
  return { announced: names(announced), withdrawn: names(withdrawn) };
}

t.test('replay of the desired set then End-of-RIB per family, again after a reconnect', async (t) => {
  const r = rig({ ipv6NextHop: '2001:db8::2' });
  r.speaker.setDesired([P('198.19.1.0/24'), P('2001:db8:1::/48')]);
  const peer = await up(r);
  t.equal(r.speaker.status().peers[0]!.state, 'Established');
  const u = peer.updates;
  t.same(seen(u), { announced: ['198.19.1.0/24', '2001:db8:1::/48'], withdrawn: [] });
  t.same(u.slice(-2), [
    { type: 2, withdrawn: [], attributes: {}, nlri: [] },
    { type: 2, withdrawn: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } }, nlri: [] },
  ]);
  const v4 = u.find((x) => x.nlri.length > 0)!;
  t.equal(v4.attributes.nextHop, NODE, 'IPv4 next hop = session local address');
  const v6 = u.find((x) => x.attributes.mpReach)!;
  t.equal(v6.attributes.mpReach!.nextHop, '2001:db8::2', 'IPv6 next hop = configured ipv6NextHop');
  t.equal(r.speaker.status().peers[0]!.prefixesSent, 2);
  // Connection lost: on reconnect the whole set and End-of-RIB come again.
  peer.sock.fail(new Error('ECONNRESET'));
  await settle();
  t.equal(r.speaker.status().peers[0]!.prefixesSent, 0);
  r.clock.advance(100);
  await settle();
  r.peer.accept({ asn: 65000, id: LEAF });
  await settle();
  t.not(r.peer, peer);
  t.same(seen(r.peer.updates), { announced: ['198.19.1.0/24', '2001:db8:1::/48'], withdrawn: [] });
  t.equal(r.peer.updates.length, 4);
});

t.test('setDesired sends only the difference', async (t) => {
  const r = rig();
  const peer = await up(r);
  const n0 = peer.updates.length;
  r.speaker.setDesired([P('198.19.1.0/24'), P('198.19.2.0/24')]);
  await settle();
  t.same(seen(peer.updates.slice(n0)), { announced: ['198.19.1.0/24', '198.19.2.0/24'], withdrawn: [] });
  const n1 = peer.updates.length;
  t.equal(n1 - n0, 1, 'one UPDATE for both');
  r.speaker.setDesired([P('198.19.2.0/24'), P('198.19.3.0/24')]);
  await settle();
  t.same(seen(peer.updates.slice(n1)), { announced: ['198.19.3.0/24'], withdrawn: ['198.19.1.0/24'] });
  const n2 = peer.updates.length;
  r.speaker.setDesired([P('198.19.3.0/24'), P('198.19.2.0/24')]);
  await settle();
  t.equal(peer.updates.length, n2, 'same set: nothing sent');
  t.equal(r.speaker.status().peers[0]!.prefixesSent, 2);
});

t.test(
  'eBGP: AS_PATH [our AS], no LOCAL_PREF; iBGP: empty AS_PATH, LOCAL_PREF 100; ORIGIN IGP',
  async (t) => {
    const e = rig();
    e.speaker.setDesired([P('198.19.1.0/24')]);
    const ep = await up(e);
    t.same(ep.updates[0]!.attributes, { origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: NODE });
    const i = rig({ asn: 65001 });
    i.speaker.setDesired([P('198.19.1.0/24')]);
    const ip = await up(i, 65001);
    t.same(ip.updates[0]!.attributes, { origin: 0, asPath: [], localPref: 100, nextHop: NODE });
  },
);

t.test('IPv6 over an IPv4 session without ipv6NextHop is skipped, IPv4 still sent', async (t) => {
  const r = rig();
  r.speaker.setDesired([P('198.19.1.0/24'), P('2001:db8:1::/48')]);
  const peer = await up(r);
  t.same(seen(peer.updates), { announced: ['198.19.1.0/24'], withdrawn: [] });
  t.equal(r.speaker.status().peers[0]!.prefixesSent, 1);
});

t.test('IPv6 is not sent when the peer did not negotiate the family', async (t) => {
  const r = rig({ ipv6NextHop: '2001:db8::2' });
  r.speaker.setDesired([P('198.19.1.0/24'), P('2001:db8:1::/48')]);
  await r.speaker.start();
  await settle();
  r.peer.open({ asn: 65000, id: LEAF, capabilities: [{ code: 65, asn: 65000 }] }); // no MP: IPv4 only
  r.peer.keepalive();
  await settle();
  t.same(seen(r.peer.updates), { announced: ['198.19.1.0/24'], withdrawn: [] });
  t.equal(r.peer.updates.length, 2, 'one UPDATE + one End-of-RIB (IPv4 only)');
  t.same(r.speaker.status().peers[0]!.families, ['ipv4-unicast']);
});

t.test('many prefixes are batched into UPDATEs of at most 4096 bytes', async (t) => {
  const r = rig({ ipv6NextHop: '2001:db8::2' });
  const want = [];
  for (let i = 0; i < 3000; i++) want.push(P(`10.${i >> 8}.${i & 255}.0/24`));
  for (let i = 0; i < 1000; i++) want.push(P(`2001:db8:${i.toString(16)}::/48`));
  r.speaker.setDesired(want);
  const peer = await up(r);
  await settle(20);
  const u = peer.updates.filter((x) => x.nlri.length > 0 || x.attributes.mpReach);
  t.equal(seen(u).announced.length, 4000);
  for (const x of u) t.ok(encodeMessage(x, { fourOctetAs: true }).length <= 4096);
  t.ok(u.length < 20, `batched into ${u.length} UPDATEs`);
  t.ok(
    Math.max(...u.map((x) => encodeMessage(x, { fourOctetAs: true }).length)) > 3500,
    'messages are well filled',
  );
});

function announce(prefixes: string[], nextHop = LEAF): UpdateMessage {
  return {
    type: 2,
    withdrawn: [],
    attributes: { origin: 0, asPath: [{ type: 2, asns: [65000] }], nextHop },
    nlri: prefixes.map(P),
  };
}

t.test('accept policy: none, default, all; prefixesReceived counts every prefix', async (t) => {
  for (const [accept, kept] of [
    ['none', []],
    ['default', ['0.0.0.0/0']],
    ['all', ['0.0.0.0/0', '198.19.9.0/24']],
  ] as const) {
    const r = rig({ accept });
    const peer = await up(r);
    peer.send(announce(['0.0.0.0/0', '198.19.9.0/24']));
    await settle();
    const st = r.speaker.status().peers[0]!;
    t.equal(st.prefixesReceived, 2, accept);
    t.equal(st.prefixesAccepted, kept.length, accept);
    t.same(names(r.speaker.receivedRoutes().map((x) => x.prefix)), kept, accept);
    peer.send({ type: 2, withdrawn: [P('0.0.0.0/0')], attributes: {}, nlri: [] });
    await settle();
    t.equal(r.speaker.status().peers[0]!.prefixesReceived, 1, `${accept}: withdrawal removes`);
  }
});

t.test('received IPv6 routes keep their MP_REACH next hop', async (t) => {
  const r = rig({ accept: 'all' });
  const peer = await up(r);
  peer.send({
    type: 2,
    withdrawn: [],
    attributes: {
      origin: 0,
      asPath: [{ type: 2, asns: [65000] }],
      mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::1', nlri: [P('::/0')] },
    },
    nlri: [],
  });
  await settle();
  t.match(r.speaker.receivedRoutes(LEAF), [{ nextHop: '2001:db8::1', asPath: [{ asns: [65000] }] }]);
  t.equal(formatPrefix(r.speaker.receivedRoutes()[0]!.prefix), '::/0');
});

t.test('RFC 7606 treat-as-withdraw removes the prefixes, session stays up', async (t) => {
  const r = rig({ accept: 'all' });
  const peer = await up(r);
  peer.send(announce(['198.19.9.0/24']));
  await settle();
  t.equal(r.speaker.status().peers[0]!.prefixesAccepted, 1);
  // ORIGIN value 5 is invalid: RFC 7606 7.1 treat-as-withdraw.
  const attrs = '40010105 400206 0201 0000fde8 40030 4c6120001'.replace(/\s/g, '');
  const nlri = '18c61309';
  const body = `0000 ${(attrs.length / 2).toString(16).padStart(4, '0')} ${attrs} ${nlri}`.replace(/\s/g, '');
  const len = 19 + body.length / 2;
  peer.raw(`${'ff'.repeat(16)}${len.toString(16).padStart(4, '0')}02${body}`);
  await settle();
  const st = r.speaker.status().peers[0]!;
  t.equal(st.state, 'Established');
  t.equal(st.prefixesAccepted, 0);
  t.equal(st.counters.treatAsWithdraw, 1);
  t.same(peer.notes, []);
});

t.test(
  'maxPrefixes exceeded: Cease/1 with RFC 4486 data, reconnect after the full connectRetryTime',
  async (t) => {
    const r = rig({ accept: 'all', maxPrefixes: 2, connectRetryTime: 10 });
    const peer = await up(r);
    peer.send(announce(['198.19.1.0/24', '198.19.2.0/24']));
    await settle();
    t.equal(r.speaker.status().peers[0]!.state, 'Established');
    peer.send(announce(['198.19.3.0/24']));
    await settle();
    t.same(peer.notes, ['6/1']);
    t.equal(peer.notifications[0]!.data.toString('hex'), '00010100000002');
    const st = r.speaker.status().peers[0]!;
    t.equal(st.state, 'Idle');
    t.equal(st.prefixesReceived, 0, 'routes dropped with the session');
    t.match(st.lastError, /Maximum Number of Prefixes Reached \(peer sent 3 prefixes, limit 2\)/);
    const n = r.net.attempts.length;
    r.clock.advance(9_999);
    await settle();
    t.equal(r.net.attempts.length, n, 'not every 100 ms');
    r.clock.advance(1);
    await settle();
    t.equal(r.net.attempts.length, n + 1);
  },
);

t.test('stop with drain: withdraw all, then Cease/2 with the message', async (t) => {
  const r = rig();
  r.speaker.setDesired([P('198.19.1.0/24'), P('198.19.2.0/24')]);
  const peer = await up(r);
  await r.speaker.stop({ drain: true, message: 'podroute shutting down (SIGTERM)' });
  await settle();
  const tail = peer.received.slice(-2);
  t.match(tail[0], { type: 2 });
  t.same(seen([tail[0] as UpdateMessage]).withdrawn, ['198.19.1.0/24', '198.19.2.0/24']);
  t.match(tail[1], { type: 3, code: 6, subcode: 2, shutdownMessage: 'podroute shutting down (SIGTERM)' });
  t.equal(r.speaker.status().peers[0]!.prefixesSent, 0);
});

t.test('stop without drain: no withdrawals, no NOTIFICATION', async (t) => {
  const r = rig();
  r.speaker.setDesired([P('198.19.1.0/24')]);
  const peer = await up(r);
  const n = peer.received.length;
  await r.speaker.stop({ drain: false });
  await settle();
  t.equal(peer.received.length, n);
  t.ok(peer.closed);
});

t.test('listener: binds only with a passive peer; hands connections by source; unknown closed', async (t) => {
  const active = rig();
  await active.speaker.start();
  t.same(active.net.listening, [], 'no passive peer: no listener');
  t.equal(active.speaker.status().listenPort, null);

  const r = rig({ passive: true });
  r.speaker.setDesired([P('198.19.1.0/24')]);
  await r.speaker.start();
  t.same(r.net.listening, [179]);
  const stranger = r.net.dial({ address: '198.18.0.99', port: 50000 }, 179)!;
  await settle();
  t.ok(stranger.isClosed, 'unknown source closed');
  t.equal(r.speaker.status().unknownConnections, 1);
  const far = r.net.dial({ address: LEAF, port: 50001 }, 179)!;
  const peer = new ScriptedPeer(far);
  await settle();
  t.equal(peer.opens.length, 1);
  peer.accept({ asn: 65000, id: LEAF });
  await settle();
  t.equal(r.speaker.status().peers[0]!.state, 'Established');
  t.same(seen(peer.updates).announced, ['198.19.1.0/24']);
  await r.speaker.stop({ drain: false });
  t.same(r.net.listening, [], 'listener closed on stop');
});

t.test('listener: a zoned link-local peer (fe80::1%eth1) takes connections from fe80::1', async (t) => {
  const clock = new ManualClock();
  const net = new MemoryNetwork('fe80::2');
  const cfg = {
    ...bgpPeerSchema.parse({ address: 'fe80::1', asn: 65000, passive: true }),
    address: 'fe80::1%eth1',
  };
  const speaker = new BgpSpeaker({
    asn: 65001,
    routerId: NODE,
    peers: [cfg],
    listenPort: 179,
    clock,
    logger: silentLogger,
    transport: net,
    random: null,
  });
  await speaker.start();
  const other = net.dial({ address: 'fe80::3', port: 50000 }, 179)!;
  await settle();
  t.ok(other.isClosed, 'another link-local address is no peer');
  const peer = new ScriptedPeer(net.dial({ address: 'fe80::1', port: 50001 }, 179)!);
  await settle();
  t.equal(peer.opens.length, 1, 'the accepted socket (no zone in its address) goes to the zoned peer');
  peer.accept({ asn: 65000, id: LEAF });
  await settle();
  t.match(speaker.status().peers[0], { address: 'fe80::1%eth1', state: 'Established' });
  await speaker.stop({ drain: false });
});

t.test('listen errors are reported clearly', async (t) => {
  const r = rig({ passive: true });
  await r.net.listen({ port: 179 }, () => {});
  await t.rejects(r.speaker.start(), /BGP cannot listen on \[::\]:179: EADDRINUSE \(another BGP daemon/);
});

t.test('status has the documented names (docs/status.md)', async (t) => {
  const r = rig({ description: 'leaf1' });
  await up(r);
  r.clock.advance(12_000);
  const s = r.speaker.status();
  t.equal(s.asn, 65001);
  t.match(s.peers[0], {
    address: LEAF,
    asn: 65000,
    state: 'Established',
    uptimeSeconds: 12,
    prefixesSent: 0,
    prefixesReceived: 0,
    lastError: null,
    description: 'leaf1',
    holdTime: 90,
    localAddress: NODE,
  });
  t.same(JSON.parse(JSON.stringify(s)).peers[0].counters.messagesIn.open, 1);
});

t.test('two leafs: independent sessions, one going down does not touch the other', async (t) => {
  const clock = new ManualClock();
  const net = new MemoryNetwork(NODE);
  const leafs = new Map<string, ScriptedPeer[]>();
  for (const addr of ['198.18.0.1', '198.18.1.1']) {
    leafs.set(addr, []);
    net.answer(addr, 179, (far) => leafs.get(addr)!.push(new ScriptedPeer(far)));
  }
  const speaker = new BgpSpeaker({
    asn: 65001,
    routerId: NODE,
    peers: [
      bgpPeerSchema.parse({ address: '198.18.0.1', asn: 65000 }),
      bgpPeerSchema.parse({ address: '198.18.1.1', asn: 65000 }),
    ],
    listenPort: 179,
    clock,
    logger: silentLogger,
    transport: net,
    random: null,
  });
  speaker.setDesired([P('198.19.1.0/24')]);
  await speaker.start();
  await settle();
  const [a, b] = [leafs.get('198.18.0.1')![0]!, leafs.get('198.18.1.1')![0]!];
  a.accept({ asn: 65000, id: '198.18.0.1' });
  b.accept({ asn: 65000, id: '198.18.1.1' });
  await settle();
  t.same(
    speaker.status().peers.map((p) => p.state),
    ['Established', 'Established'],
  );
  a.send({ type: 3, code: 6, subcode: 2, data: Buffer.alloc(0) });
  await settle();
  speaker.setDesired([P('198.19.1.0/24'), P('198.19.2.0/24')]);
  await settle();
  t.same(
    speaker.status().peers.map((p) => [p.state, p.prefixesSent]),
    [
      ['Idle', 0],
      ['Established', 2],
    ],
  );
  t.equal(speaker.status().peers[0]!.lastError, 'peer sent NOTIFICATION Cease / Administrative Shutdown');
  t.equal(speaker.status().peers[1]!.lastError, null);
  t.same(seen(b.updates).announced, ['198.19.1.0/24', '198.19.2.0/24']);
});

t.test('IPv6 session: IPv6 next hop = local address, IPv4 held back', async (t) => {
  const clock = new ManualClock();
  const net = new MemoryNetwork(NODE);
  const peers: ScriptedPeer[] = [];
  net.answer('2001:db8::1', 179, (far) => peers.push(new ScriptedPeer(far)));
  const speaker = new BgpSpeaker({
    asn: 65001,
    routerId: NODE,
    peers: [bgpPeerSchema.parse({ address: '2001:db8::1', asn: 65000, localAddress: '2001:db8::2' })],
    listenPort: 179,
    clock,
    logger: silentLogger,
    transport: net,
    random: null,
  });
  speaker.setDesired([P('198.19.1.0/24'), P('2001:db8:1::/48')]);
  await speaker.start();
  await settle();
  peers[0]!.accept({ asn: 65000, id: '198.18.0.1' });
  await settle();
  const u = peers[0]!.updates;
  t.same(seen(u).announced, ['2001:db8:1::/48']);
  t.equal(u[0]!.attributes.mpReach?.nextHop, '2001:db8::2');
  t.equal(speaker.status().peers[0]!.localAddress, '2001:db8::2');
});
