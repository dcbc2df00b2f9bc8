/**
 * The neighbor state machine against a scripted peer: the test plays the other router by
 * injecting hand-built packets and reading what the speaker sent (RFC 2328 10.3, 10.6, 10.8, 10.9).
 */
import t from 'tap';
import { ManualClock } from '../../src/lib/clock.js';
import { DdFlags, LsType } from '../../src/ospf/constants.js';
import type { LsaHeader } from '../../src/ospf/lsa/header.js';
import { decodeLsa, encodeLsa } from '../../src/ospf/lsa/lsa.js';
import type { DbDescriptionBody } from '../../src/ospf/packet/dbd.js';
import { encodePacket, type PacketBody } from '../../src/ospf/packet/packet.js';
import { config, FakeLink, nbrState, speaker } from './harness.js';

const US = '198.18.0.2';

function setup(peerRid: string) {
  const clock = new ManualClock(1_000_000);
  const link = new FakeLink(clock);
  const sock = link.attach(US);
  const sp = speaker(clock, US, config({}), { eth1: sock });
  const inject = (body: PacketBody) =>
    sock.handler?.(encodePacket({ routerId: peerRid, areaId: '0.0.0.0', body }), '198.18.0.1');
  const hello = (neighbors: string[]) =>
    inject({
      kind: 'hello',
      mask: '255.255.255.252',
      helloInterval: 10,
      options: 2,
      priority: 1,
      deadInterval: 40,
      dr: '0.0.0.0',
      bdr: '0.0.0.0',
      neighbors,
    });
  const dd = (flags: number, seq: number, headers: LsaHeader[] = []) =>
    inject({ kind: 'dd', mtu: 1500, options: 2, flags, seq, headers });
  const sent = (kind: string) => link.sentBy(US, kind).map((s) => s.packet.body);
  const lastDd = () => sent('dd').at(-1) as DbDescriptionBody;
  const state = () => nbrState(sp, peerRid);
  return { clock, link, sock, sp, inject, hello, dd, sent, lastDd, state };
}

/** The peer's router-LSA, as bytes and header. */
function peerLsa(rid: string) {
  const bytes = encodeLsa({
    header: {
      age: 1,
      options: 2,
      type: LsType.Router,
      id: rid,
      advRouter: rid,
      seq: -0x7ffffff0,
      checksum: 0,
      length: 0,
    },
    body: {
      kind: 'router',
      flags: 0,
      links: [{ linkId: '198.18.0.0', linkData: '255.255.255.252', type: 3, metric: 1 }],
    },
  });
  return { bytes, header: decodeLsa(bytes).lsa.header };
}

t.test('Down -> Init -> ExStart; ExStart DD retransmitted every RxmtInterval', async (t) => {
  const s = setup('198.18.0.9');
  await s.sp.start();
  t.equal(s.state(), 'absent');
  s.hello([]);
  t.equal(s.state(), 'Init', 'HelloReceived without us listed: Init');
  s.hello([US]);
  t.equal(s.state(), 'ExStart', '2-WayReceived on point-to-point: ExStart');
  const first = s.lastDd();
  t.equal(first.flags, DdFlags.I | DdFlags.M | DdFlags.MS);
  t.same(first.headers, []);
  s.clock.advance(4_999);
  t.equal(s.sent('dd').length, 1);
  s.clock.advance(2);
  t.equal(s.sent('dd').length, 2, 'retransmitted after RxmtInterval');
  t.equal(s.lastDd().seq, first.seq, 'same sequence number');
  await s.sp.stop({ drain: false });
});

t.test('slave: echoes the master, answers duplicates, ExchangeDone when both are done', async (t) => {
  const s = setup('198.18.0.9');
  await s.sp.start();
  s.hello([US]);
  s.dd(DdFlags.I | DdFlags.M | DdFlags.MS, 5000);
  t.equal(s.state(), 'Exchange', 'NegotiationDone: we are slave');
  const reply = s.lastDd();
  t.equal(reply.seq, 5000);
  t.equal(reply.flags & DdFlags.MS, 0);
  t.equal(reply.headers.length, 1, 'our router-LSA described');
  t.equal(reply.headers[0]!.advRouter, US);
  // Duplicate from the master: resend the last DD unchanged.
  const n = s.sent('dd').length;
  s.dd(DdFlags.I | DdFlags.M | DdFlags.MS, 5000);
  t.equal(s.sent('dd').length, n + 1);
  t.same(s.lastDd(), reply);
  // The slave never retransmits on its own.
  s.clock.advance(12_000);
  t.equal(s.sent('dd').length, n + 1);
  // Master's next packet, with its LSA header and More clear.
  const lsa = peerLsa('198.18.0.9');
  s.dd(DdFlags.MS, 5001, [lsa.header]);
  t.equal(s.lastDd().seq, 5001);
  t.equal(s.lastDd().flags, 0, 'slave has nothing more');
  t.equal(s.state(), 'Loading', 'ExchangeDone with a pending request');
  const lsr = s.sent('lsr').at(-1);
  t.same(lsr, { kind: 'lsr', entries: [{ type: 1, id: '198.18.0.9', advRouter: '198.18.0.9' }] });
  // LSR retransmitted until answered.
  s.clock.advance(5_001);
  t.equal(s.sent('lsr').length, 2);
  s.inject({ kind: 'lsu', lsas: [lsa.bytes] });
  t.equal(s.state(), 'Full', 'LoadingDone');
  s.clock.advance(1_001);
  const ack = s.sent('ack').at(-1);
  t.equal(ack?.kind === 'ack' && ack.headers[0]!.advRouter, '198.18.0.9', 'delayed ack sent');
  // A duplicate of the master's last DD in Full: the slave answers again.
  const before = s.sent('dd').length;
  s.dd(DdFlags.MS, 5001, [lsa.header]);
  t.equal(s.sent('dd').length, before + 1);
  await s.sp.stop({ drain: false });
});

t.test('master: lost DD retransmitted, SeqNumberMismatch restarts ExStart', async (t) => {
  const s = setup('198.18.0.1');
  await s.sp.start();
  s.hello([US]);
  const init = s.lastDd();
  // The slave (lower RID) answers with our sequence number, MS clear, and its LSA header.
  s.dd(0, init.seq, [peerLsa('198.18.0.1').header]);
  t.equal(s.state(), 'Exchange', 'NegotiationDone: we are master');
  const next = s.lastDd();
  t.equal(next.seq, (init.seq + 1) >>> 0, 'master increments');
  t.equal(next.flags & DdFlags.MS, DdFlags.MS);
  t.equal(next.headers.length, 1);
  // The slave's answer is lost: the master retransmits the same packet.
  s.clock.advance(5_001);
  t.same(s.lastDd(), next);
  // A wrong sequence number from the slave: SeqNumberMismatch -> ExStart with a new sequence.
  s.dd(0, (next.seq + 7) >>> 0);
  t.equal(s.state(), 'ExStart');
  const restart = s.lastDd();
  t.equal(restart.flags, DdFlags.I | DdFlags.M | DdFlags.MS);
  t.not(restart.seq, init.seq);
  // Exchange again, this time the I bit in Exchange is a mismatch too.
  s.dd(0, restart.seq);
  t.equal(s.state(), 'Exchange');
  s.dd(DdFlags.I, (restart.seq + 1) >>> 0);
  t.equal(s.state(), 'ExStart', 'I bit in Exchange: SeqNumberMismatch');
  await s.sp.stop({ drain: false });
});

t.test('BadLSReq, 1-WayReceived, InactivityTimer, LSU before Exchange', async (t) => {
  const s = setup('198.18.0.1');
  await s.sp.start();
  s.hello([]);
  s.inject({ kind: 'lsu', lsas: [peerLsa('198.18.0.1').bytes] });
  t.equal(s.sp.status().dropped['lsu-wrong-state'], 1, 'LSU from a neighbor in Init dropped');
  s.hello([US]);
  const init = s.lastDd();
  s.dd(0, init.seq);
  s.dd(0, (init.seq + 1) >>> 0);
  t.equal(s.state(), 'Full');
  // A request for an LSA we do not have.
  s.inject({ kind: 'lsr', entries: [{ type: 1, id: '9.9.9.9', advRouter: '9.9.9.9' }] });
  t.equal(s.state(), 'ExStart', 'BadLSReq');
  s.dd(0, s.lastDd().seq);
  s.dd(0, s.lastDd().seq >>> 0);
  t.equal(s.state(), 'Full');
  // A request for our own LSA is answered with an LSU.
  s.inject({ kind: 'lsr', entries: [{ type: 1, id: US, advRouter: US }] });
  const lsu = s.sent('lsu').at(-1);
  t.equal(lsu?.kind === 'lsu' && decodeLsa(lsu.lsas[0]!).lsa.header.advRouter, US);
  s.hello([]);
  t.equal(s.state(), 'Init', '1-WayReceived');
  s.clock.advance(40_001);
  t.equal(s.state(), 'absent', 'InactivityTimer: Down and removed');
  await s.sp.stop({ drain: false });
});
