/**
 * One BFD session against another over an in-memory link on ManualClock: the three-way handshake
 * (RFC 5880 6.2, 6.8.6), timer negotiation (6.8.2, 6.8.3) with the one-second floor while not Up,
 * Detection Time expiry (6.8.4), jitter (6.8.7), Poll/Final on a timer change (6.5), AdminDown
 * both ways (6.8.16) and the packets a session discards.
 */
import t from 'tap';
import { BfdDiag, BfdState } from '../../src/bfd/constants.js';
import type { BfdControlPacket } from '../../src/bfd/packet.js';
import { FAST, pair } from './harness.js';

const SLOW = { desiredMinTxMs: 300, requiredMinRxMs: 200, detectMult: 5 };

t.test('three-way handshake Down -> Init -> Up', async (t) => {
  const p = pair(FAST, FAST);
  p.cut('b->a');
  p.a.start();
  p.b.start();
  p.clock.advance(10);
  t.equal(p.a.sessionState, 'Down', 'a hears nothing yet');
  t.equal(p.b.sessionState, 'Init', 'b heard Down: Init');
  p.heal();
  p.clock.advance(1100);
  t.equal(p.a.sessionState, 'Up');
  t.equal(p.b.sessionState, 'Up');
  const seq = (side: 'a' | 'b') =>
    p.events.filter((x) => x.side === side).map((x) => `${x.e.from}->${x.e.to}`);
  t.same(seq('b'), ['Down->Init', 'Init->Up'], 'b: Down, Init, Up');
  t.same(seq('a'), ['Down->Up'], 'a heard Init while Down: straight to Up');
  t.equal(p.a.status().remoteDiscriminator, 0x2222);
  t.equal(p.b.status().remoteDiscriminator, 0x1111);
  t.equal(p.a.status().counters.upTransitions, 1);
});

t.test('negotiated intervals and Detection Time (RFC 5880 6.8.2-6.8.4)', async (t) => {
  const p = pair(FAST, SLOW);
  p.a.start();
  p.b.start();
  p.clock.advance(3000);
  const a = p.a.status();
  const b = p.b.status();
  t.equal(a.state, 'Up');
  t.equal(a.pollActive, false, 'the Poll sent on going Up got its Final');
  t.equal(a.txIntervalMs, 200, 'a: max(own 100 tx, b requires 200 rx)');
  t.equal(a.detectTimeMs, 1500, 'a: b mult 5 x max(own 100 rx, b 300 tx)');
  t.equal(b.txIntervalMs, 300, 'b: max(own 300 tx, a requires 100 rx)');
  t.equal(b.detectTimeMs, 600, 'b: a mult 3 x max(own 200 rx, a 100 tx)');
  t.equal(a.remoteDesiredMinTxMs, 300);
  t.equal(a.remoteRequiredMinRxMs, 200);
  t.equal(a.remoteDetectMult, 5);
  const finals = p.sent.filter((s) => s.packet.final).length;
  const polls = p.sent.filter((s) => s.packet.poll).length;
  t.ok(polls >= 2 && finals >= 2, `Polls (${polls}) answered by Finals (${finals})`);
  t.notOk(
    p.sent.some((s) => s.packet.poll && s.packet.final),
    'never P and F together',
  );
});

t.test('one second minimum transmit interval while not Up (RFC 5880 6.8.3)', async (t) => {
  const p = pair(FAST, FAST);
  p.cut();
  p.a.start();
  p.clock.advance(5000);
  const times = p.sent.filter((s) => s.from === 'a').map((s) => s.at);
  t.equal(p.a.status().desiredMinTxMs, 1000, 'advertises 1 s');
  t.ok(times.length >= 5 && times.length <= 7, `${times.length} packets in 5 s`);
  for (let i = 1; i < times.length; i++) t.ok(times[i]! - times[i - 1]! >= 750, 'gap >= 750 ms');
});

t.test('silent failure: Down after exactly the Detection Time, diag 1', async (t) => {
  const p = pair(FAST, SLOW);
  p.a.start();
  p.b.start();
  p.clock.advance(3000);
  p.cut();
  const lastFromB = p.sent.filter((s) => s.from === 'b').at(-1)!.at;
  p.clock.advance(2000);
  const down = p.events.find((x) => x.side === 'a' && x.e.to === 'Down')!.e;
  t.equal(down.diag, BfdDiag.ControlDetectionTimeExpired);
  t.equal(down.diagName, 'Control Detection Time Expired');
  t.equal(down.remoteAdminDown, false);
  t.equal(down.at - (lastFromB + 1), 1500, 'a: 1500 ms after the last packet arrived');
  const bDown = p.events.find((x) => x.side === 'b' && x.e.to === 'Down')!.e;
  t.ok(bDown.at - down.at < 600, 'b goes down within its own 600 ms');
  const s = p.a.status();
  t.equal(s.remoteDiscriminator, 0, 'bfd.RemoteDiscr cleared (RFC 5880 6.8.1)');
  t.equal(s.lastDiagnostic, 'Control Detection Time Expired');
  t.equal(s.counters.downTransitions, 1);
  t.equal(s.desiredMinTxMs, 1000, 'back to the one second floor');
  p.heal();
  p.clock.advance(5000);
  t.equal(p.a.sessionState, 'Up', 'recovers');
  t.equal(p.a.status().diagnostic, 'No Diagnostic');
  t.equal(p.a.status().lastDiagnostic, 'Control Detection Time Expired', 'last diagnostic kept');
});

t.test('jitter: 75-100 % of the interval, at most 90 % with Detect Mult 1', async (t) => {
  const gaps = (random: () => number, mult: number) => {
    const cfg = { ...FAST, detectMult: mult };
    const p = pair(cfg, cfg, { random });
    p.a.start();
    p.b.start();
    p.clock.advance(3000);
    const from = p.sent.length;
    p.clock.advance(2000);
    const times = p.sent
      .slice(from)
      .filter((s) => s.from === 'a' && !s.packet.final)
      .map((s) => s.at);
    // Microsecond resolution: clock times are sums of fractional milliseconds.
    return times.slice(1).map((x, i) => Math.round((x - times[i]!) * 1000) / 1000);
  };
  t.same([...new Set(gaps(() => 0, 3))], [75], 'random 0: 75 ms');
  t.same([...new Set(gaps(() => 0.999999, 3))], [99.999], 'random ~1: just under 100 ms');
  t.same([...new Set(gaps(() => 0.999999, 1))], [89.999], 'Detect Mult 1: under 90 ms');
  const mixed = gaps(
    (() => {
      let x = 7;
      return () => {
        x = (x * 48271) % 2147483647;
        return x / 2147483647;
      };
    })(),
    3,
  );
  t.ok(
    mixed.every((g) => g >= 75 && g <= 100),
    `seeded gaps in [75, 100]: ${mixed.slice(0, 6).join(' ')}`,
  );
});

t.test('timer change while Up: Poll/Final, and the larger interval waits for the Final', async (t) => {
  const p = pair(FAST, FAST);
  p.a.start();
  p.b.start();
  p.clock.advance(3000);
  const before = p.sent.length;
  p.a.setTimers({ desiredMinTxMs: 300, requiredMinRxMs: 50, detectMult: 3 });
  let s = p.a.status();
  t.equal(s.pollActive, true, 'Poll Sequence running');
  t.equal(s.desiredMinTxMs, 300, 'advertises the new DesiredMinTx');
  t.equal(s.txIntervalMs, 100, 'still transmits at 100 ms until the Final (RFC 5880 6.8.3)');
  t.equal(s.detectTimeMs, 300, 'smaller RequiredMinRx not used until the Final');
  const poll = p.sent[before]!;
  t.ok(poll.from === 'a' && poll.packet.poll, 'a Poll goes out at once');
  p.clock.advance(5);
  s = p.a.status();
  t.equal(s.pollActive, false, 'Final received');
  t.equal(s.txIntervalMs, 300);
  t.equal(s.detectTimeMs, 300, 'b mult 3 x max(50, b tx 100)');
  t.ok(
    p.sent.slice(before).some((x) => x.from === 'b' && x.packet.final),
    'b answered with F',
  );
  t.equal(p.b.status().detectTimeMs, 900, 'b: 3 x 300 ms');
  t.equal(p.b.status().txIntervalMs, 100, 'b: max(100, a requires 50)');
  p.clock.advance(2000);
  t.equal(p.a.sessionState, 'Up');
  t.equal(p.b.sessionState, 'Up');
});

t.test('AdminDown: the peer goes Down with diag 3; AdminDown repeats for a Detection Time', async (t) => {
  const p = pair(FAST, FAST);
  p.a.start();
  p.b.start();
  p.clock.advance(3000);
  const at = p.clock.now();
  const before = p.sent.length;
  p.b.adminDown();
  p.clock.advance(10);
  const down = p.events.find((x) => x.side === 'a' && x.e.to === 'Down')!.e;
  t.equal(down.diag, BfdDiag.NeighborSignaledSessionDown);
  t.equal(down.remoteAdminDown, true, 'flagged for RFC 5882 3.2');
  t.equal(p.b.status().diagnostic, 'Administratively Down');
  p.clock.advance(10_000);
  const fromB = p.sent.slice(before).filter((x) => x.from === 'b');
  t.ok(
    fromB.every((x) => x.packet.state === BfdState.AdminDown),
    'only AdminDown from b',
  );
  t.ok(fromB.length >= 3, `${fromB.length} AdminDown packets`);
  t.ok(fromB.at(-1)!.at <= at + 3000, 'none after 3 x 1 s');
  t.equal(p.a.sessionState, 'Down', 'a stays Down (an AdminDown peer is never answered with Init)');
  p.b.adminUp();
  p.clock.advance(3000);
  t.equal(p.a.sessionState, 'Up');
  t.equal(p.b.sessionState, 'Up');
});

t.test('a peer that signals Down takes an Up session Down (diag 3)', async (t) => {
  const p = pair(FAST, FAST);
  p.a.start();
  p.b.start();
  p.clock.advance(3000);
  const pkt: BfdControlPacket = {
    diag: BfdDiag.ControlDetectionTimeExpired,
    state: BfdState.Down,
    poll: false,
    final: false,
    cpi: false,
    demand: false,
    detectMult: 3,
    myDiscriminator: 0x2222,
    yourDiscriminator: 0,
    desiredMinTxUs: 1_000_000,
    requiredMinRxUs: 100_000,
    requiredMinEchoRxUs: 0,
  };
  p.inject('a', pkt);
  const e = p.events.at(-1)!.e;
  t.same([e.from, e.to, e.diag, e.remoteAdminDown], ['Up', 'Down', 3, false]);
  t.equal(p.a.status().remoteDiagnostic, 'Control Detection Time Expired');
});

t.test('discarded and odd packets', async (t) => {
  const p = pair(FAST, FAST);
  p.a.start();
  p.b.start();
  p.clock.advance(3000);
  const up: BfdControlPacket = {
    diag: 0,
    state: BfdState.Up,
    poll: false,
    final: false,
    cpi: false,
    demand: false,
    detectMult: 3,
    myDiscriminator: 0x2222,
    yourDiscriminator: 0x1111,
    desiredMinTxUs: 100_000,
    requiredMinRxUs: 100_000,
    requiredMinEchoRxUs: 0,
  };
  const inBefore = p.a.status().counters.packetsIn;
  p.inject('a', { ...up, state: BfdState.Down, auth: { type: 1, keyId: 1, data: Buffer.from('pw') } });
  t.equal(p.a.status().counters.drops['auth-unsupported'], 1, 'A bit without auth in use: discarded');
  t.equal(p.a.status().counters.packetsIn, inBefore, 'not counted as received');
  t.equal(p.a.sessionState, 'Up', 'the authenticated Down did not count');
  // A listener that throws does not break the session.
  p.a.onStateChange(() => {
    throw new Error('subscriber bug');
  });
  p.cut();
  p.clock.advance(1000);
  t.equal(p.a.sessionState, 'Down');
  p.heal();
  p.clock.advance(3000);
  t.equal(p.a.sessionState, 'Up', 'still runs after a throwing subscriber');
});

t.test('RemoteMinRxInterval 0: no periodic transmission (RFC 5880 6.8.7), Finals still sent', async (t) => {
  const p = pair(FAST, FAST);
  p.cut();
  p.a.start();
  const quiet: BfdControlPacket = {
    diag: 0,
    state: BfdState.Down,
    poll: false,
    final: false,
    cpi: false,
    demand: false,
    detectMult: 3,
    myDiscriminator: 0x2222,
    yourDiscriminator: 0,
    desiredMinTxUs: 1_000_000,
    requiredMinRxUs: 0,
    requiredMinEchoRxUs: 0,
  };
  p.inject('a', quiet);
  const n = p.sent.length;
  p.clock.advance(2500);
  t.equal(p.sent.length, n, 'nothing periodic');
  p.inject('a', { ...quiet, poll: true });
  t.equal(p.sent.length, n + 1, 'the Final goes out');
  t.ok(p.sent.at(-1)!.packet.final);
});

t.test('bad timer values are refused', async (t) => {
  t.throws(() => pair({ ...FAST, detectMult: 0 }, FAST), /detectMult 0 must be 1..255/);
  t.throws(() => pair({ ...FAST, desiredMinTxMs: 0.5 }, FAST), /desiredMinTxMs/);
  const p = pair(FAST, FAST);
  t.throws(() => p.a.setTimers({ ...FAST, requiredMinRxMs: -1 }), /requiredMinRxMs/);
});
