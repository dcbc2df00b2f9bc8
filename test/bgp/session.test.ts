import t from 'tap';
import { MemoryNetwork } from '../../src/bgp/memory-transport.js';
import type { UpdateMessage } from '../../src/bgp/message/index.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../src/bgp/negotiate.js';
import { Session, type SessionHooks } from '../../src/bgp/session.js';
import { type BgpPeerConfig, bgpPeerSchema } from '../../src/config/bgp.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { parsePrefix } from '../../src/net/prefix.js';
import { ScriptedPeer, settle } from './scripted-peer.js';

const PEER = '198.18.0.1';
const LOCAL_ID = '198.18.0.2';

interface Rig {
  clock: ManualClock;
  net: MemoryNetwork;
  session: Session;
  peers: ScriptedPeer[];
  /** The most recent connection's scripted peer. */
  readonly peer: ScriptedPeer;
  events: string[];
  updates: UpdateMessage[];
}

function rig(
  peerCfg: Partial<BgpPeerConfig> = {},
  local: { asn?: number; holdTime?: number; routerId?: string } = {},
  answer = true,
): Rig {
  const clock = new ManualClock();
  const net = new MemoryNetwork(LOCAL_ID);
  const peers: ScriptedPeer[] = [];
  const events: string[] = [];
  const updates: UpdateMessage[] = [];
  if (answer) net.answer(PEER, 179, (far) => peers.push(new ScriptedPeer(far)));
  const hooks: SessionHooks = {
    established: () => events.push('established'),
    down: () => events.push('down'),
    update: (_s, u) => updates.push(u),
    routeRefresh: () => events.push('refresh'),
  };
  const peer = bgpPeerSchema.parse({ address: PEER, asn: 65000, ...peerCfg });
  const session = new Session({
    peer,
    local: {
      asn: local.asn ?? 65001,
      routerId: local.routerId ?? LOCAL_ID,
      holdTime: local.holdTime ?? peer.holdTime,
      families: [IPV4_UNICAST, IPV6_UNICAST],
    },
    clock,
    logger: silentLogger,
    transport: net,
    hooks,
    random: null,
  });
  return {
    clock,
    net,
    session,
    peers,
    get peer() {
      return peers[peers.length - 1]!;
    },
    events,
    updates,
  };
}

async function establish(r: Rig, hold = 90): Promise<void> {
  r.session.start();
  await settle();
  r.peer.accept({ asn: 65000, id: PEER, hold });
  await settle();
}

t.test('OPEN exchange: our OPEN at once, OpenConfirm waits for the KEEPALIVE', async (t) => {
  const r = rig();
  r.session.start();
  t.equal(r.session.state, 'Connect');
  await settle();
  t.equal(r.session.state, 'OpenSent');
  const open = r.peer.opens[0]!;
  t.match(open, { myAs: 65001, holdTime: 90, bgpId: LOCAL_ID });
  t.same(
    open.capabilities.map((c) => c.code),
    [1, 1, 2, 65],
  );
  r.peer.open({ asn: 65000, id: PEER });
  await settle();
  t.equal(r.session.state, 'OpenConfirm', 'no Established before the peer KEEPALIVE');
  t.equal(r.peer.count(4), 1, 'our KEEPALIVE acknowledges the OPEN');
  r.peer.keepalive();
  await settle();
  t.equal(r.session.state, 'Established');
  t.same(r.events, ['established']);
  t.equal(r.session.negotiated?.holdTime, 90);
  t.equal(r.session.localAddress, LOCAL_ID);
  t.same(r.session.negotiated?.families, [IPV4_UNICAST, IPV6_UNICAST]);
  r.clock.advance(5000);
  t.equal(r.session.uptimeSeconds(), 5);
});

t.test('hold time: min of both; keepalive every third; receive timer restarted by KEEPALIVE', async (t) => {
  const r = rig();
  await establish(r, 30);
  t.equal(r.session.negotiated?.holdTime, 30);
  t.equal(r.session.negotiated?.keepaliveMs, 10_000);
  const before = r.peer.count(4);
  for (let i = 0; i < 6; i++) {
    r.clock.advance(9_999);
    await settle();
    t.equal(r.peer.count(4), before + i, `no keepalive before ${i + 1}0 s`);
    r.clock.advance(1);
    await settle();
    t.equal(r.peer.count(4), before + i + 1, `keepalive at ${i + 1}0 s`);
    r.peer.keepalive(); // the peer is alive, so our hold timer never fires
    await settle();
  }
  t.equal(r.session.state, 'Established');
});

t.test('a silent peer is dropped at hold expiry with 4/0, then we reconnect', async (t) => {
  const r = rig();
  await establish(r, 30);
  r.clock.advance(29_999);
  await settle();
  t.equal(r.session.state, 'Established');
  r.clock.advance(1);
  await settle();
  t.same(r.peer.notes, ['4/0']);
  t.ok(r.peer.closed);
  t.equal(r.session.state, 'Idle');
  t.equal(r.session.lastError, 'we sent NOTIFICATION Hold Timer Expired');
  t.equal(r.session.counters.flaps, 1);
  t.same(r.events, ['established', 'down']);
  const attempts = r.net.attempts.length;
  r.clock.advance(100); // back-off was reset by Established: first delay
  await settle();
  t.equal(r.net.attempts.length, attempts + 1, 'reconnects after 100 ms');
  t.equal(r.peers.length, 2);
});

t.test('a silent peer in OpenSent is dropped after the large hold timer (4 min)', async (t) => {
  const r = rig();
  r.session.start();
  await settle();
  r.clock.advance(239_999);
  await settle();
  t.equal(r.session.state, 'OpenSent');
  r.clock.advance(1);
  await settle();
  t.same(r.peer.notes, ['4/0']);
});

t.test('the peer expires its hold timer: recorded in words, session restarts', async (t) => {
  const r = rig();
  await establish(r);
  r.peer.send({ type: 3, code: 4, subcode: 0, data: Buffer.alloc(0) });
  await settle();
  t.equal(r.session.state, 'Idle');
  t.equal(r.session.lastError, 'peer sent NOTIFICATION Hold Timer Expired');
  t.equal(r.session.counters.notificationsIn, 1);
  t.same(r.peer.notes, [], 'no NOTIFICATION in reply');
});

t.test('hold time 0: no keepalives, no hold expiry', async (t) => {
  const r = rig();
  await establish(r, 0);
  t.equal(r.session.negotiated?.holdTime, 0);
  const ka = r.peer.count(4);
  r.clock.advance(3_600_000);
  await settle();
  t.equal(r.peer.count(4), ka);
  t.equal(r.session.state, 'Established');
});

t.test('hold time 0 on our side wins over the peer', async (t) => {
  const r = rig({ holdTime: 0 });
  await establish(r, 90);
  t.equal(r.session.negotiated?.holdTime, 0);
  t.equal(r.peers[0]!.opens[0]!.holdTime, 0);
});

t.test('peer hold time 1 or 2 is refused with 2/6', async (t) => {
  const r = rig();
  r.session.start();
  await settle();
  r.peer.open({ asn: 65000, id: PEER, hold: 2 });
  await settle();
  t.same(r.peer.notes, ['2/6']);
  t.match(r.session.lastError, /^we sent NOTIFICATION OPEN Message Error \/ Unacceptable Hold Time/);
});

t.test('bad peer AS → 2/2, from cap 65 when present', async (t) => {
  const r = rig();
  r.session.start();
  await settle();
  // My AS matches but the 4-octet capability says otherwise: the capability counts.
  r.peer.open({
    asn: 65000,
    id: PEER,
    capabilities: [{ code: 65, asn: 65002 }],
  });
  await settle();
  t.same(r.peer.notes, ['2/2']);
  t.equal(
    r.session.lastError,
    'we sent NOTIFICATION OPEN Message Error / Bad Peer AS (peer AS 65002, expected 65000)',
  );
  t.equal(r.session.state, 'Idle');
});

t.test('a 4-octet ASN peer is matched through AS_TRANS + cap 65', async (t) => {
  const r = rig({ asn: 4_200_000_001 }, { asn: 4_200_000_002 });
  r.session.start();
  await settle();
  t.equal(r.peer.opens[0]!.myAs, 23456, 'our OPEN carries AS_TRANS');
  r.peer.accept({ asn: 4_200_000_001, id: PEER });
  await settle();
  t.equal(r.session.state, 'Established');
});

t.test('a peer without the 4-octet AS capability is refused when our ASN needs it', async (t) => {
  const r = rig({}, { asn: 4_200_000_002 });
  r.session.start();
  await settle();
  r.peer.open({ asn: 65000, id: PEER, capabilities: [{ code: 1, afi: 1, safi: 1 }] });
  await settle();
  t.same(r.peer.notes, ['2/7']);
});

t.test('malformed messages get the NOTIFICATION of their decode error, counted', async (t) => {
  const marker = 'ff'.repeat(16);
  const cases: [string, string][] = [
    ['bad length (1/2)', `${marker} 0012 04`],
    ['unknown type (1/3)', `${marker} 0013 09`],
    ['bad marker (1/1)', `${'ff'.repeat(15)}00 0013 04`],
    // UPDATE with withdrawn length 5 but only 0 bytes follow → malformed attribute list (3/1)
    ['truncated UPDATE (3/1)', `${marker} 0017 02 0005 0000`],
  ];
  for (const [name, hex] of cases) {
    const r = rig();
    await establish(r);
    r.peer.raw(hex);
    await settle();
    t.equal(r.session.counters.malformed, 1, name);
    t.equal(r.peer.notes.length, 1, name);
    t.equal(r.session.state, 'Idle', name);
    const expected = name.slice(name.indexOf('(') + 1, -1);
    t.equal(r.peer.notes[0], expected, name);
    t.match(r.session.lastError, /^we sent NOTIFICATION /, name);
  }
});

t.test('an UPDATE in OpenConfirm is an FSM error (RFC 6608 5/2)', async (t) => {
  const r = rig();
  r.session.start();
  await settle();
  r.peer.open({ asn: 65000, id: PEER });
  r.peer.send({ type: 2, withdrawn: [parsePrefix('198.19.0.0/24')], attributes: {}, nlri: [] });
  await settle();
  t.same(r.peer.notes, ['5/2']);
});

t.test('UPDATEs reach the hook and restart the hold timer', async (t) => {
  const r = rig();
  await establish(r, 30);
  for (let i = 0; i < 5; i++) {
    r.clock.advance(20_000);
    r.peer.send({ type: 2, withdrawn: [parsePrefix('198.19.0.0/24')], attributes: {}, nlri: [] });
    await settle();
  }
  t.equal(r.session.state, 'Established');
  t.equal(r.updates.length, 5);
  t.equal(r.session.counters.updatesReceived, 5);
  t.equal(r.session.counters.messagesIn.update, 5);
});

t.test('back-off: 100 ms doubling to connectRetryTime, reset only on Established', async (t) => {
  const r = rig({ connectRetryTime: 2 }, {}, false); // every connect refused
  r.session.start();
  await settle();
  t.equal(r.net.attempts.length, 1);
  t.equal(r.session.lastError, 'connect: ECONNREFUSED');
  const at: number[] = [];
  for (let ms = 0; ms < 8000; ms += 50) {
    r.clock.advance(50);
    await settle(2);
    while (at.length < r.net.attempts.length - 1) at.push(r.clock.now());
  }
  t.same(at.slice(0, 7), [100, 300, 700, 1500, 3100, 5100, 7100]);
  // Now the peer answers: Established resets the back-off.
  r.net.answer(PEER, 179, (far) => r.peers.push(new ScriptedPeer(far)));
  r.clock.advance(2000);
  await settle();
  r.peer.accept({ asn: 65000, id: PEER });
  await settle();
  t.equal(r.session.state, 'Established');
  t.equal(r.session.backoffFailures, 0);
  const n = r.net.attempts.length;
  r.peer.sock.fail(new Error('ECONNRESET'));
  await settle();
  t.equal(r.session.state, 'Idle');
  t.equal(r.session.lastError, 'connection: ECONNRESET');
  r.clock.advance(99);
  await settle();
  t.equal(r.net.attempts.length, n);
  r.clock.advance(1);
  await settle();
  t.equal(r.net.attempts.length, n + 1, 'first delay again after Established');
});

t.test('drain: queued withdrawals first, then Cease/2 with the RFC 9003 text, then close', async (t) => {
  const r = rig();
  await establish(r);
  const withdraw: UpdateMessage = {
    type: 2,
    withdrawn: [parsePrefix('198.19.1.0/24')],
    attributes: {},
    nlri: [],
  };
  r.session.sendUpdates([withdraw]);
  await r.session.stop({ code: 6, subcode: 2, shutdownMessage: 'node1 draining' });
  await settle();
  const tail = r.peer.received.slice(-2);
  t.match(tail[0], { type: 2, withdrawn: [{ length: 24 }] });
  t.match(tail[1], { type: 3, code: 6, subcode: 2, shutdownMessage: 'node1 draining' });
  t.ok(r.peer.closed);
  t.equal(r.session.state, 'Idle');
  t.equal(r.session.lastError, null, 'our own shutdown is not an error');
  r.clock.advance(600_000);
  await settle();
  t.equal(r.net.attempts.length, 1, 'a stopped session does not reconnect');
});

t.test('restart: close TCP without NOTIFICATION', async (t) => {
  const r = rig();
  await establish(r);
  await r.session.stop(null);
  await settle();
  t.same(r.peer.notes, []);
  t.ok(r.peer.closed);
  t.equal(r.session.state, 'Idle');
});

t.test('collision (RFC 4271 6.8): the connection from the higher BGP id survives', async (t) => {
  for (const [localId, survivor] of [
    ['198.18.0.9', 'outbound'],
    ['198.18.0.0', 'inbound'],
  ] as const) {
    const r = rig({}, { routerId: localId });
    r.session.start();
    await settle();
    const outbound = r.peer;
    t.equal(r.session.state, 'OpenSent');
    // The peer dials us too; its connection runs a second FSM and sends our OPEN.
    const [near, far] = MemoryNetwork.pair({ address: LOCAL_ID, port: 179 }, { address: PEER, port: 50000 });
    const inbound = new ScriptedPeer(far);
    r.session.acceptIncoming(near);
    await settle();
    t.equal(inbound.opens.length, 1);
    // Outbound reaches OpenConfirm first; then the inbound OPEN triggers the comparison.
    outbound.open({ asn: 65000, id: PEER });
    await settle();
    inbound.open({ asn: 65000, id: PEER });
    await settle();
    const loser = survivor === 'outbound' ? inbound : outbound;
    const winner = survivor === 'outbound' ? outbound : inbound;
    t.same(loser.notes, ['6/7'], `${localId}: loser gets Cease/7`);
    t.ok(loser.closed);
    t.same(winner.notes, []);
    winner.keepalive();
    await settle();
    t.equal(r.session.state, 'Established', `${localId}: ${survivor} connection established`);
    t.equal(r.session.lastError, null);
  }
});

t.test('an incoming connection while Established is dumped with Cease/7 on its OPEN', async (t) => {
  const r = rig();
  await establish(r);
  const [near, far] = MemoryNetwork.pair({ address: LOCAL_ID, port: 179 }, { address: PEER, port: 50001 });
  const second = new ScriptedPeer(far);
  r.session.acceptIncoming(near);
  await settle();
  second.open({ asn: 65000, id: PEER });
  await settle();
  t.same(second.notes, ['6/7']);
  t.equal(r.session.state, 'Established');
  t.same(r.peer.notes, []);
});

t.test('passive peer never dials; an incoming connection establishes', async (t) => {
  const r = rig({ passive: true });
  r.session.start();
  t.equal(r.session.state, 'Active');
  r.clock.advance(600_000);
  await settle();
  t.equal(r.net.attempts.length, 0);
  const [near, far] = MemoryNetwork.pair({ address: LOCAL_ID, port: 179 }, { address: PEER, port: 50002 });
  const p = new ScriptedPeer(far);
  r.session.acceptIncoming(near);
  await settle();
  p.accept({ asn: 65000, id: PEER });
  await settle();
  t.equal(r.session.state, 'Established');
  p.sock.fail(new Error('ECONNRESET'));
  await settle();
  r.clock.advance(600_000);
  await settle();
  t.equal(r.session.state, 'Active', 'back to waiting');
  t.equal(r.net.attempts.length, 0);
});

t.test('connect timeout: the ConnectRetryTimer bounds a hanging attempt', async (t) => {
  const r = rig({ connectRetryTime: 5 }, {}, false);
  r.net.answer(PEER, 179, 'hang');
  r.session.start();
  await settle();
  t.equal(r.net.attempts.length, 1);
  t.equal(r.net.attempts[0]!.timeoutMs, 5000);
  r.clock.advance(5000);
  await settle();
  t.equal(r.net.attempts.length, 2);
  t.equal(r.session.state, 'Connect');
});

t.test('keepalives are not queued behind a large UPDATE dump', async (t) => {
  const r = rig();
  await establish(r, 3); // keepalive every second
  const updates: UpdateMessage[] = [];
  for (let i = 0; i < 400; i++) {
    updates.push({
      type: 2,
      withdrawn: [],
      attributes: { origin: 0, asPath: [], nextHop: LOCAL_ID },
      nlri: [parsePrefix(`10.${i >> 8}.${i & 255}.0/24`)],
    });
  }
  const before = r.peer.received.length;
  r.session.sendUpdates(updates);
  await settle(1);
  t.ok(r.session.queuedUpdates > 0, 'dump still in progress');
  r.clock.advance(1000);
  await settle(30);
  t.equal(r.session.queuedUpdates, 0);
  const types = r.peer.received.slice(before).map((m) => m.type);
  const ka = types.indexOf(4);
  t.ok(ka > 0 && ka < types.length - 1, `KEEPALIVE at ${ka} of ${types.length}, between UPDATEs`);
  t.equal(types.filter((x) => x === 2).length, 400);
});

t.test('fuzz: random bytes from the peer never escape as exceptions', async (t) => {
  const fc = (await import('fast-check')).default;
  const marker = Buffer.alloc(16, 0xff);
  const message = fc
    .tuple(fc.integer({ min: 1, max: 6 }), fc.uint8Array({ maxLength: 80 }), fc.boolean())
    .map(([type, body, honest]) => {
      const len = honest ? 19 + body.length : (body.length * 7) % 5000;
      const h = Buffer.alloc(3);
      h.writeUInt16BE(len & 0xffff, 0);
      h[2] = type;
      return Buffer.concat([marker, h, Buffer.from(body)]);
    });
  await fc.assert(
    fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 5 }), async (msgs) => {
      const r = rig();
      await establish(r);
      for (const m of msgs) r.peer.raw(m);
      await settle();
      const s = r.session;
      if (s.lastError?.startsWith('internal error')) return false;
      // Either still up, or down with a NOTIFICATION that matches a counted malformed message.
      if (s.state === 'Established') return true;
      return s.counters.malformed + s.counters.messagesIn.notification + s.counters.notificationsOut > 0;
    }),
    { numRuns: 150 },
  );
  t.pass('no exception escaped');
});

t.test('an incoming connection while our connect hangs is adopted', async (t) => {
  const r = rig({}, {}, false);
  r.net.answer(PEER, 179, 'hang');
  r.session.start();
  await settle();
  t.equal(r.session.state, 'Connect');
  const [near, far] = MemoryNetwork.pair({ address: LOCAL_ID, port: 179 }, { address: PEER, port: 50003 });
  const p = new ScriptedPeer(far);
  r.session.acceptIncoming(near);
  await settle();
  t.equal(r.session.state, 'OpenSent');
  p.accept({ asn: 65000, id: PEER });
  await settle();
  t.equal(r.session.state, 'Established');
  r.clock.advance(60_000); // past connectRetryTime: the abandoned connect's timer must not dial again
  await settle();
  t.equal(r.session.state, 'Established');
  t.equal(r.net.attempts.length, 1);
});

t.test('an incoming connection while idle (back-off) is refused', async (t) => {
  const r = rig({}, {}, false);
  r.session.start();
  await settle();
  t.equal(r.session.state, 'Idle');
  const [near] = MemoryNetwork.pair({ address: LOCAL_ID, port: 179 }, { address: PEER, port: 50004 });
  r.session.acceptIncoming(near);
  t.ok((near as unknown as { isClosed: boolean }).isClosed);
});
