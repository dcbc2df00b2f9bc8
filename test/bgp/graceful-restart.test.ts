/**
 * Graceful restart (RFC 4724, RFC 8538): the pure rules, the capability in our OPEN, and the
 * speaker in both roles on the in-memory transport and ManualClock — helper (stale marking, sweep at
 * End-of-RIB and on the timer, the F bit on reconnect, NOTIFICATION vs Hard Reset with the N bit)
 * and restarting side (R/F bits, waiting for every peer's End-of-RIB, the restart exit).
 */
import t from 'tap';
import {
  buildCapability,
  type GracefulRestartSession,
  keepsRoutes,
  negotiateGracefulRestart,
  restartNotification,
  withHardReset,
} from '../../src/bgp/graceful-restart.js';
import { MemoryNetwork } from '../../src/bgp/memory-transport.js';
import type { Capability, UpdateMessage } from '../../src/bgp/message/index.js';
import { buildOpen, checkOpen, IPV4_UNICAST, IPV6_UNICAST } from '../../src/bgp/negotiate.js';
import { BgpSpeaker } from '../../src/bgp/speaker.js';
import { type BgpPeerConfig, bgpPeerSchema, bgpSchema } from '../../src/config/bgp.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { formatPrefix, parsePrefix } from '../../src/net/prefix.js';
import { ScriptedPeer, settle } from './scripted-peer.js';

const LEAF = '198.18.0.1';
const NODE = '198.18.0.2';
const families = [IPV4_UNICAST, IPV6_UNICAST];
const BASE: Capability[] = [
  { code: 1, afi: 1, safi: 1 },
  { code: 1, afi: 2, safi: 1 },
  { code: 2 },
  { code: 65, asn: 65000 },
];
const grCap = (
  o: { time?: number; n?: boolean; f?: boolean; r?: boolean; afis?: number[] } = {},
): Capability => ({
  code: 64,
  restarting: o.r ?? false,
  notification: o.n ?? false,
  restartTime: o.time ?? 30,
  families: (o.afis ?? [1, 2]).map((afi) => ({ afi, safi: 1, forwardingPreserved: o.f ?? true })),
});
const session = (o: Partial<GracefulRestartSession> = {}): GracefulRestartSession => ({
  localRestartTime: 120,
  peerRestartTime: 30,
  peerRestarting: false,
  notification: false,
  peerFamilies: [],
  ...o,
});

t.test('pure rules: capability, negotiation, when helper mode applies, Hard Reset', async (t) => {
  const local = { restartTime: 120, restarting: true, forwardingPreserved: true };
  t.same(buildCapability(local, families), {
    code: 64,
    restarting: true,
    notification: true,
    restartTime: 120,
    families: [
      { afi: 1, safi: 1, forwardingPreserved: true },
      { afi: 2, safi: 1, forwardingPreserved: true },
    ],
  });
  const open = buildOpen({ asn: 65001, routerId: NODE, holdTime: 90, families, gracefulRestart: local });
  t.ok(
    open.capabilities.some((c) => c.code === 64),
    'OPEN carries capability 64',
  );
  t.notOk(
    buildOpen({ asn: 65001, routerId: NODE, holdTime: 90, families }).capabilities.some((c) => c.code === 64),
    'no capability without the configuration',
  );
  t.equal(negotiateGracefulRestart(undefined, [grCap()]), undefined, 'we did not offer it');
  t.equal(negotiateGracefulRestart(local, BASE), undefined, 'the peer did not offer it');
  const n = negotiateGracefulRestart(local, [...BASE, grCap({ time: 45, n: true })]);
  t.match(n, { localRestartTime: 120, peerRestartTime: 45, notification: true });
  const check = checkOpen(
    { asn: 65001, routerId: NODE, holdTime: 90, families, gracefulRestart: local },
    65000,
    {
      type: 1,
      version: 4,
      myAs: 65000,
      holdTime: 90,
      bgpId: LEAF,
      capabilities: [...BASE, grCap({ time: 45 })],
    },
  );
  t.ok(check.ok && check.negotiated.gracefulRestart?.peerRestartTime === 45, 'checkOpen negotiates it');

  const plain = session();
  const withN = session({ notification: true });
  const hard = { kind: 'notification', direction: 'received', code: 6, subcode: 9 } as const;
  const cease = { kind: 'notification', direction: 'received', code: 6, subcode: 4 } as const;
  const holdSent = { kind: 'notification', direction: 'sent', code: 4, subcode: 0 } as const;
  t.ok(keepsRoutes(plain, { kind: 'connection' }), 'RFC 4724 4.2: TCP lost without NOTIFICATION');
  t.notOk(keepsRoutes(plain, cease), 'RFC 4724: a NOTIFICATION ends it, without the N bit');
  t.ok(keepsRoutes(withN, cease), 'RFC 8538 3: with N, a Cease other than Hard Reset keeps routes');
  t.ok(keepsRoutes(withN, holdSent), 'RFC 8538 3: with N, our Hold Timer Expired too');
  t.notOk(keepsRoutes(withN, hard), 'Hard Reset never keeps them');
  const bfd = { kind: 'notification', direction: 'received', code: 6, subcode: 10 } as const;
  t.notOk(keepsRoutes(withN, bfd), 'BFD Down: the path is dead, nothing kept');
  t.equal(withHardReset({ code: 6, subcode: 10 }, withN).subcode, 9, 'BFD Down goes as Hard Reset with N');
  t.notOk(keepsRoutes(undefined, { kind: 'connection' }), 'no capability, no helper');
  t.notOk(keepsRoutes(session({ peerRestartTime: 0 }), { kind: 'connection' }), 'restart time 0');
  t.notOk(keepsRoutes(plain, { kind: 'stopped' }), 'our own stop');

  const admin = { code: 6, subcode: 2, shutdownMessage: 'bye' };
  t.same(withHardReset(admin, plain), admin, 'no N bit: unchanged');
  const wrapped = withHardReset(admin, withN);
  t.equal(wrapped.subcode, 9, 'RFC 8538 5.1: Administrative Shutdown goes as Hard Reset');
  t.same([...wrapped.data!], [6, 2, 3, 0x62, 0x79, 0x65], 'inner code, subcode, RFC 9003 text');
  t.same(
    withHardReset({ code: 6, subcode: 4 }, withN),
    { code: 6, subcode: 4 },
    'Administrative Reset stays',
  );
  t.same(withHardReset({ code: 4, subcode: 0 }, withN), { code: 4, subcode: 0 }, 'not a Cease: stays');

  t.equal(restartNotification(plain, 'x'), null, 'restart without N: close TCP only (RFC 4724 4.2)');
  t.equal(restartNotification(undefined, 'x'), null);
  t.same(restartNotification(withN, 'restarting'), { code: 6, subcode: 4, shutdownMessage: 'restarting' });
});

t.test('config: bgp.gracefulRestart and the per-peer opt-out', async (t) => {
  const parse = (gr: unknown) => bgpSchema.safeParse({ asn: 65001, gracefulRestart: gr });
  t.same(parse(true).data?.gracefulRestart, { restartTime: 120 });
  t.same(parse({ restartTime: 5 }).data?.gracefulRestart, { restartTime: 5 });
  t.equal(parse(false).data?.gracefulRestart, undefined);
  for (const bad of [{ restartTime: 0 }, { restartTime: 4096 }, { restartTime: 1.5 }, 'yes', { x: 1 }]) {
    t.notOk(parse(bad).success, `refused: ${JSON.stringify(bad)}`);
  }
  t.equal(bgpPeerSchema.parse({ address: LEAF, asn: 65000 }).gracefulRestart, true);
  t.equal(bgpPeerSchema.parse({ address: LEAF, asn: 65000, gracefulRestart: false }).gracefulRestart, false);
});

// ===== the speaker =====

const P = (s: string) => parsePrefix(s);

function rig(o: { peer?: Partial<BgpPeerConfig>; restartTime?: number; preserved?: boolean } = {}) {
  const clock = new ManualClock();
  const net = new MemoryNetwork(NODE);
  const peers: ScriptedPeer[] = [];
  net.answer(LEAF, 179, (far) => peers.push(new ScriptedPeer(far)));
  const cfg = bgpPeerSchema.parse({ address: LEAF, asn: 65000, accept: 'all', ...o.peer });
  const speaker = new BgpSpeaker({
    asn: 65001,
    routerId: NODE,
    peers: [cfg],
    listenPort: 179,
    clock,
    logger: silentLogger,
    transport: net,
    random: null,
    gracefulRestart: { restartTime: o.restartTime ?? 120 },
    forwardingPreserved: o.preserved ?? false,
  });
  let changes = 0;
  speaker.onReceivedChange(() => changes++);
  return {
    clock,
    speaker,
    get peer() {
      return peers[peers.length - 1]!;
    },
    get changes() {
      return changes;
    },
    learned: () =>
      speaker
        .learnedPeers()
        .flatMap((p) => p.routes.map((r) => formatPrefix(r.prefix)))
        .sort(),
    gr: () => speaker.status().peers[0]!.gracefulRestart!,
  };
}
type Rig = ReturnType<typeof rig>;

const announce = (prefixes: string[], nextHop = LEAF): UpdateMessage => ({
  type: 2,
  withdrawn: [],
  attributes: { origin: 0, asPath: [{ type: 2, asns: [65000] }], nextHop },
  nlri: prefixes.map(P),
});
const EOR4: UpdateMessage = { type: 2, withdrawn: [], attributes: {}, nlri: [] };

async function connect(r: Rig, caps: Capability[] | null, first = false): Promise<ScriptedPeer> {
  if (first) await r.speaker.start();
  else r.clock.advance(1_000); // the back-off after a lost session
  await settle();
  const capabilities = caps === null ? BASE : [...BASE, ...caps];
  // Hold time 0: no keepalives needed while the clock jumps minutes ahead.
  r.peer.accept({ asn: 65000, id: LEAF, capabilities, hold: 0 });
  await settle();
  return r.peer;
}

t.test('helper: a leaf restarts, re-sends part of its table, End-of-RIB sweeps the rest', async (t) => {
  const r = rig();
  let peer = await connect(r, [grCap({ time: 30 })], true);
  t.match(r.gr(), { negotiated: true, localRestartTime: 120, peerRestartTime: 30, notification: false });
  const ours = peer.opens[0]!.capabilities.find((c) => c.code === 64);
  t.match(ours, { restarting: false, notification: true, restartTime: 120 }, 'N bit offered, R clear');
  peer.send(announce(['0.0.0.0/0', '198.18.100.0/24']));
  await settle();
  t.same(r.learned(), ['0.0.0.0/0', '198.18.100.0/24']);

  peer.sock.fail(new Error('ECONNRESET')); // bgpd killed: no NOTIFICATION
  await settle();
  t.not(r.speaker.status().peers[0]!.state, 'Established');
  t.same(r.learned(), ['0.0.0.0/0', '198.18.100.0/24'], 'routes kept while the leaf restarts');
  t.match(r.gr(), { helping: true, staleRoutes: 2, staleSecondsLeft: 30 });
  r.clock.advance(10_000);
  t.equal(r.gr().staleSecondsLeft, 20, 'the restart time counts down');

  peer = await connect(r, [grCap({ time: 30, f: true })]);
  t.same(r.learned(), ['0.0.0.0/0', '198.18.100.0/24'], 'F bit set: stale routes still kept');
  peer.send(announce(['0.0.0.0/0']));
  await settle();
  t.equal(r.gr().staleRoutes, 1, 're-sent route no longer stale');
  const before = r.changes;
  peer.send(EOR4);
  await settle();
  t.same(r.learned(), ['0.0.0.0/0'], 'End-of-RIB: the route not re-sent is gone');
  t.ok(r.changes > before, 'the change is reported (reaches the kernel)');
  t.match(r.gr(), { helping: false, staleRoutes: 0, staleSecondsLeft: null, staleSwept: 1 });
  r.clock.advance(400_000);
  t.same(r.learned(), ['0.0.0.0/0'], 'no timer left that could remove re-learned routes');
  await r.speaker.stop({ drain: false });
});

t.test('helper: the leaf never comes back; everything goes after its restart time', async (t) => {
  const r = rig();
  const peer = await connect(r, [grCap({ time: 5 })], true);
  peer.send(announce(['0.0.0.0/0', '198.18.100.0/24']));
  await settle();
  peer.sock.fail(new Error('ETIMEDOUT'));
  await settle();
  r.clock.advance(4_999);
  t.equal(r.learned().length, 2, 'kept until the restart time');
  const before = r.changes;
  r.clock.advance(1);
  t.same(r.learned(), [], 'gone after 5 s');
  t.ok(r.changes > before, 'reported');
  t.equal(r.speaker.learnedPeers().length, 0);
  await r.speaker.stop({ drain: false });
});

t.test('helper: what ends helper mode at once', async (t) => {
  t.test('no capability from the peer: routes go with the session', async (t) => {
    const r = rig();
    const peer = await connect(r, null, true);
    t.equal(r.gr().negotiated, false);
    peer.send(announce(['0.0.0.0/0']));
    await settle();
    peer.sock.fail(new Error('ECONNRESET'));
    await settle();
    t.same(r.learned(), []);
    await r.speaker.stop({ drain: false });
  });
  t.test('peer opted out: no capability sent, no helper', async (t) => {
    const r = rig({ peer: { gracefulRestart: false } });
    const peer = await connect(r, [grCap()], true);
    t.notOk(peer.opens[0]!.capabilities.some((c) => c.code === 64));
    t.equal(r.speaker.status().peers[0]!.gracefulRestart, undefined);
    peer.send(announce(['0.0.0.0/0']));
    await settle();
    peer.sock.fail(new Error('ECONNRESET'));
    await settle();
    t.same(r.learned(), []);
    await r.speaker.stop({ drain: false });
  });
  t.test('a NOTIFICATION without the N bit; with it, only Hard Reset', async (t) => {
    for (const [n, subcode, kept] of [
      [false, 4, false],
      [true, 4, true],
      [true, 9, false],
    ] as const) {
      const r = rig();
      const peer = await connect(r, [grCap({ n })], true);
      peer.send(announce(['0.0.0.0/0']));
      await settle();
      peer.send({ type: 3, code: 6, subcode, data: Buffer.alloc(0) });
      await settle();
      t.equal(r.learned().length, kept ? 1 : 0, `N=${n} Cease/${subcode}: kept=${kept}`);
      await r.speaker.stop({ drain: false });
    }
  });
  t.test('a NOTIFICATION we send (our Hold Timer): kept only with the N bit', async (t) => {
    for (const [n, kept] of [
      [false, false],
      [true, true],
    ] as const) {
      const r = rig();
      await r.speaker.start();
      await settle();
      r.peer.accept({ asn: 65000, id: LEAF, capabilities: [...BASE, grCap({ n })], hold: 3 });
      await settle();
      r.peer.send(announce(['0.0.0.0/0']));
      await settle();
      r.clock.advance(3_000); // no KEEPALIVE from the peer: we send Hold Timer Expired
      await settle();
      t.match(r.speaker.status().peers[0]!.lastError, /we sent NOTIFICATION Hold Timer Expired/);
      t.equal(r.learned().length, kept ? 1 : 0, `N=${n}: kept=${kept}`);
      await r.speaker.stop({ drain: false });
    }
  });
  t.test('back without the F bit for IPv4: its stale routes go at once (RFC 4724 4.2)', async (t) => {
    const r = rig();
    let peer = await connect(r, [grCap()], true);
    peer.send(announce(['0.0.0.0/0']));
    await settle();
    peer.sock.fail(new Error('ECONNRESET'));
    await settle();
    t.equal(r.learned().length, 1);
    peer = await connect(r, [grCap({ f: false })]);
    t.same(r.learned(), []);
    await r.speaker.stop({ drain: false });
  });
  t.test('back but no End-of-RIB: the stale path time bounds it', async (t) => {
    const r = rig();
    let peer = await connect(r, [grCap()], true);
    peer.send(announce(['0.0.0.0/0']));
    await settle();
    peer.sock.fail(new Error('ECONNRESET'));
    await settle();
    peer = await connect(r, [grCap()]);
    r.clock.advance(359_000);
    t.equal(r.learned().length, 1);
    r.clock.advance(1_000);
    t.same(r.learned(), []);
    await r.speaker.stop({ drain: false });
  });
});

t.test('restarting side: R and F bits, wait for End-of-RIB, then the bits change', async (t) => {
  const r = rig({ preserved: true, restartTime: 60 });
  let synced = 0;
  r.speaker.onRibSynced(() => synced++);
  let peer = await connect(r, [grCap()], true);
  t.match(
    peer.opens[0]!.capabilities.find((c) => c.code === 64),
    {
      restarting: true,
      families: [{ forwardingPreserved: true }, { forwardingPreserved: true }],
    },
  );
  t.match(r.speaker.status().gracefulRestart, { restarting: true, waitingFor: [LEAF], restartTime: 60 });
  const eors = peer.updates.filter((u) => u.nlri.length === 0 && u.withdrawn.length === 0);
  t.equal(eors.length, 2, 'our own End-of-RIB per family after the initial UPDATEs');
  peer.send(EOR4);
  await settle();
  t.equal(synced, 0, 'IPv6 End-of-RIB still missing');
  peer.send({
    type: 2,
    withdrawn: [],
    attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } },
    nlri: [],
  });
  await settle();
  t.equal(synced, 1, 'all End-of-RIB in');
  t.match(r.speaker.status().gracefulRestart, { restarting: false, waitingFor: [], secondsLeft: null });
  peer.sock.fail(new Error('ECONNRESET'));
  await settle();
  peer = await connect(r, [grCap()]);
  t.match(
    peer.opens[0]!.capabilities.find((c) => c.code === 64),
    { restarting: false },
  );
  await r.speaker.stop({ drain: false });
});

t.test(
  'restarting side: a peer that never comes back does not hold the sweep past the restart time',
  async (t) => {
    const r = rig({ preserved: false, restartTime: 20 });
    let synced = 0;
    r.speaker.onRibSynced(() => synced++);
    await r.speaker.start();
    await settle();
    const cap = r.peer.opens[0]!.capabilities.find((c) => c.code === 64);
    t.match(
      cap,
      { restarting: false, families: [{ forwardingPreserved: false }] },
      'a fresh start: no R, no F',
    );
    r.clock.advance(19_999);
    t.equal(synced, 0);
    r.clock.advance(1);
    t.equal(synced, 1);
    await r.speaker.stop({ drain: false });
  },
);

t.test('restart exit vs drain on the wire', async (t) => {
  for (const [n, drain, want] of [
    [false, false, []],
    [true, false, ['6/4']],
    [false, true, ['6/2']],
    [true, true, ['6/9']],
  ] as const) {
    const r = rig();
    r.speaker.setDesired([P('198.19.1.0/24')]);
    const peer = await connect(r, [grCap({ n })], true);
    const sent = peer.updates.length;
    await r.speaker.stop({ drain, message: 'node going away' });
    await settle();
    t.same(peer.notes, want, `N=${n} drain=${drain}: NOTIFICATION ${want.join(',') || 'none'}`);
    const withdrew = peer.updates.slice(sent).some((u) => u.withdrawn.length > 0);
    t.equal(withdrew, drain, drain ? 'withdrawn first' : 'nothing withdrawn');
    if (n && drain)
      t.same([...peer.notifications[0]!.data.subarray(0, 2)], [6, 2], 'Hard Reset wraps Cease/2');
    if (n && !drain) t.equal(peer.notifications[0]!.shutdownMessage, 'node going away');
    t.ok(peer.closed);
  }
});
