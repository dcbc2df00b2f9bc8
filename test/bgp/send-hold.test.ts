import t from 'tap';
import type { SessionEnd } from '../../src/bgp/graceful-restart.js';
import { MemoryNetwork } from '../../src/bgp/memory-transport.js';
import { describeNotification } from '../../src/bgp/message/index.js';
import { ErrorCode } from '../../src/bgp/message/types.js';
import { IPV4_UNICAST } from '../../src/bgp/negotiate.js';
import {
  DEFAULT_SEND_HOLD_SECONDS,
  SEND_HOLD_TIMER_EXPIRED,
  SendHoldWatch,
  sendHoldMs,
} from '../../src/bgp/send-hold.js';
import { Session } from '../../src/bgp/session.js';
import { BgpSpeaker } from '../../src/bgp/speaker.js';
import { type BgpPeerConfig, bgpPeerSchema } from '../../src/config/bgp.js';
import { ConfigError, parseConfig } from '../../src/config/index.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { parsePrefix } from '../../src/net/prefix.js';
import { ScriptedPeer, settle } from './scripted-peer.js';

const LEAF = '198.18.0.1';
const NODE = '198.18.0.2';

t.test('send hold time: RFC 9687 6 default, the greater of 8 minutes and twice the hold time', async (t) => {
  t.equal(DEFAULT_SEND_HOLD_SECONDS, 480);
  t.equal(sendHoldMs(undefined, 3), 480_000, 'the smallest hold time: 8 minutes');
  t.equal(sendHoldMs(undefined, 90), 480_000);
  t.equal(sendHoldMs(undefined, 240), 480_000, 'edge: twice 240 s is 8 minutes');
  t.equal(sendHoldMs(undefined, 241), 482_000, 'above it, twice the hold time');
  t.equal(sendHoldMs(undefined, 300), 600_000);
  t.equal(sendHoldMs(undefined, 65535), 131_070_000);
  t.equal(sendHoldMs(30, 9), 30_000, 'a configured value wins');
  t.equal(sendHoldMs(600, 90), 600_000, 'also above the default');
  // RFC 9687 4.3: the timer is stopped when the negotiated HoldTime is zero, configured or not.
  t.equal(sendHoldMs(undefined, 0), undefined, 'hold time 0: no send hold timer');
  t.equal(sendHoldMs(30, 0), undefined, 'hold time 0: not even a configured one');
});

t.test('RFC 9687 5 / 6: the NOTIFICATION is error code 8, Send Hold Timer Expired', async (t) => {
  t.equal(SEND_HOLD_TIMER_EXPIRED, 8);
  t.equal(ErrorCode.SendHoldTimerExpired, 8);
  t.equal(describeNotification(8, 0), 'Send Hold Timer Expired');
});

t.test(
  'config: sendHoldTime must be above holdTime (RFC 9687 4.4), any value with hold time 0',
  async (t) => {
    const refused = (y: string): readonly string[] => {
      try {
        parseConfig(y);
      } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
      }
      return [];
    };
    const peer = (extra: string) => `bgp: {asn: 1, peers: [{address: 198.18.0.1, asn: 2, ${extra}}]}`;
    t.same(refused(peer('sendHoldTime: 90')), [
      'bgp.peers[0].sendHoldTime: 90 is not greater than holdTime (90 s), as RFC 9687 4.4 requires',
    ]);
    t.same(refused(peer('holdTime: 30, sendHoldTime: 20')), [
      'bgp.peers[0].sendHoldTime: 20 is not greater than holdTime (30 s), as RFC 9687 4.4 requires',
    ]);
    t.equal(parseConfig(peer('sendHoldTime: 91')).bgp?.peers[0]?.sendHoldTime, 91);
    t.equal(parseConfig(peer('holdTime: 0, sendHoldTime: 10')).bgp?.peers[0]?.sendHoldTime, 10);
    t.equal(parseConfig(peer('holdTime: 9')).bgp?.peers[0]?.sendHoldTime, undefined, 'default: unset');
  },
);

t.test('watch: runs from a blocked write until progress', async (t) => {
  const clock = new ManualClock();
  let fired = 0;
  const w = new SendHoldWatch(
    clock,
    () => 1000,
    () => fired++,
  );
  w.blocked();
  clock.advance(600);
  w.blocked(); // a second full write does not restart it
  clock.advance(399);
  t.equal(fired, 0);
  clock.advance(1);
  t.equal(fired, 1);
  t.notOk(w.running);
  w.blocked();
  clock.advance(999);
  w.progressed();
  clock.advance(5000);
  t.equal(fired, 1, 'progress stops it');
  t.equal(w.armedMs, 1000);
});

t.test('watch: no timer when the time is undefined (negotiated hold time 0)', async (t) => {
  const clock = new ManualClock();
  let fired = 0;
  const w = new SendHoldWatch(
    clock,
    () => undefined,
    () => fired++,
  );
  w.blocked();
  t.notOk(w.running);
  clock.advance(3_600_000);
  t.equal(fired, 0);
});

async function rig(peer: Partial<BgpPeerConfig>) {
  const clock = new ManualClock();
  const net = new MemoryNetwork(NODE);
  const peers: ScriptedPeer[] = [];
  net.answer(LEAF, 179, (far) => peers.push(new ScriptedPeer(far)));
  const speaker = new BgpSpeaker({
    asn: 65001,
    routerId: NODE,
    peers: [bgpPeerSchema.parse({ address: LEAF, asn: 65000, ...peer })],
    listenPort: 179,
    clock,
    logger: silentLogger,
    transport: net,
    random: null,
  });
  await speaker.start();
  await settle();
  peers[0]!.accept({ asn: 65000, id: LEAF, hold: peer.holdTime ?? 90 });
  await settle();
  const status = () => speaker.status().peers[0]!;
  return { clock, speaker, peer: peers[0]!, peers, status };
}

/** Advances `ms` in steps, the peer sending a KEEPALIVE before each (so our hold timer is fed). */
async function advanceFed(r: { clock: ManualClock; peer: ScriptedPeer }, ms: number, step = 1000) {
  for (let left = ms; left > 0; left -= step) {
    r.peer.keepalive();
    r.clock.advance(Math.min(step, left));
    await settle();
  }
}

const many = (n: number) => Array.from({ length: n }, (_, i) => parsePrefix(`198.19.${i}.0/24`));

t.test(
  'a peer that stops reading is torn down after sendHoldTime with Send Hold Timer Expired',
  async (t) => {
    const r = await rig({ holdTime: 9, sendHoldTime: 30 });
    t.equal(r.status().state, 'Established');
    r.peer.sock.stopReading();
    r.speaker.setDesired(many(200));
    await settle();
    await advanceFed(r, 29_999);
    t.equal(r.status().state, 'Established', 'not before the send hold time');
    r.clock.advance(1);
    await settle();
    const s = r.status();
    t.not(s.state, 'Established');
    t.match(s.lastError, /Send Hold Timer Expired/);
    t.match(s.lastError, /read nothing we sent for 30 s/);
    t.equal(s.counters.sendHoldExpired, 1);
    t.equal(s.counters.notificationsOut, 1);
    t.ok(r.peer.sock.isClosed, 'the connection is dropped, not left flushing');
    await r.speaker.stop({ drain: false });
  },
);

t.test('a slow reader that drains in time keeps its session', async (t) => {
  const r = await rig({ holdTime: 9, sendHoldTime: 30 });
  r.peer.sock.stopReading();
  r.speaker.setDesired(many(200));
  await settle();
  await advanceFed(r, 20_000);
  r.peer.sock.resumeReading();
  await settle();
  await advanceFed(r, 20_000);
  const s = r.status();
  t.equal(s.state, 'Established');
  t.equal(s.counters.sendHoldExpired, 0);
  t.equal(s.prefixesSent, 200);
  t.ok(r.peer.updates.length > 0, 'the UPDATEs arrived after the drain');
  await r.speaker.stop({ drain: false });
});

t.test('default: 8 minutes with hold time 90', async (t) => {
  const r = await rig({});
  r.peer.sock.stopReading();
  r.speaker.setDesired(many(10));
  await settle();
  // Our own hold timer must not end it first: the peer keeps sending KEEPALIVEs.
  for (let i = 0; i < 15; i++) {
    r.peer.keepalive();
    r.clock.advance(30_000);
    await settle();
  }
  r.peer.keepalive();
  r.clock.advance(29_999);
  await settle();
  t.equal(r.status().state, 'Established', 'up at 479.999 s');
  r.clock.advance(1);
  await settle();
  t.equal(r.status().counters.sendHoldExpired, 1);
  await r.speaker.stop({ drain: false });
});

t.test('default: twice the hold time when that is more than 8 minutes (hold time 300: 600 s)', async (t) => {
  const r = await rig({ holdTime: 300 });
  t.equal(r.speaker.status().peers[0]?.holdTime ?? 300, 300);
  r.peer.sock.stopReading();
  r.speaker.setDesired(many(10));
  await settle();
  await advanceFed(r, 599_999, 60_000);
  t.equal(r.status().state, 'Established', 'up at 599.999 s (8 minutes would have ended it)');
  t.equal(r.status().counters.sendHoldExpired, 0);
  r.clock.advance(1);
  await settle();
  t.equal(r.status().counters.sendHoldExpired, 1);
  t.match(r.status().lastError, /read nothing we sent for 600 s/);
  await r.speaker.stop({ drain: false });
});

t.test('hold time 0: no send hold timer (RFC 9687 4.3), the session stays', async (t) => {
  const r = await rig({ holdTime: 0 });
  t.equal(r.status().state, 'Established');
  r.peer.sock.stopReading();
  r.speaker.setDesired(many(200));
  await settle();
  for (let i = 0; i < 24; i++) {
    r.clock.advance(300_000);
    await settle();
  }
  const s = r.status();
  t.equal(s.state, 'Established', 'still up after 2 hours of a peer that reads nothing');
  t.equal(s.counters.sendHoldExpired, 0);
  await r.speaker.stop({ drain: false });
});

t.test('the session ends with NOTIFICATION code 8 subcode 0 sent (RFC 9687 4.3, 6)', async (t) => {
  const clock = new ManualClock();
  const net = new MemoryNetwork(NODE);
  const peers: ScriptedPeer[] = [];
  net.answer(LEAF, 179, (far) => peers.push(new ScriptedPeer(far)));
  const ends: SessionEnd[] = [];
  const peer = bgpPeerSchema.parse({ address: LEAF, asn: 65000, holdTime: 9, sendHoldTime: 20 });
  const session = new Session({
    peer,
    local: { asn: 65001, routerId: NODE, holdTime: 9, families: [IPV4_UNICAST] },
    clock,
    logger: silentLogger,
    transport: net,
    hooks: {
      established: () => {},
      down: (_s, end) => ends.push(end),
      update: () => {},
      routeRefresh: () => {},
    },
    random: null,
  });
  session.start();
  await settle();
  const far = peers[0]!;
  far.accept({ asn: 65000, id: LEAF, hold: 9 });
  await settle();
  t.equal(session.state, 'Established');
  // Our KEEPALIVEs (every 3 s) now find the buffer full: the timer runs from the first of them.
  far.sock.stopReading();
  const r = { clock, peer: far };
  await advanceFed(r, 19_000);
  t.same(ends, [], 'not within the send hold time of the first blocked KEEPALIVE');
  await advanceFed(r, 6_000);
  t.same(ends, [{ kind: 'notification', direction: 'sent', code: 8, subcode: 0 }]);
  t.match(session.lastError, /Send Hold Timer Expired/);
  t.equal(session.counters.sendHoldExpired, 1);
  t.ok(far.sock.isClosed, 'connection dropped');
  await session.stop(null);
});
