import t from 'tap';
import { MemoryNetwork } from '../../src/bgp/memory-transport.js';
import { DEFAULT_SEND_HOLD_SECONDS, SendHoldWatch, sendHoldMs } from '../../src/bgp/send-hold.js';
import { BgpSpeaker } from '../../src/bgp/speaker.js';
import { type BgpPeerConfig, bgpPeerSchema } from '../../src/config/bgp.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { parsePrefix } from '../../src/net/prefix.js';
import { ScriptedPeer, settle } from './scripted-peer.js';

const LEAF = '198.18.0.1';
const NODE = '198.18.0.2';

t.test('send hold time: RFC 9687 default 8 minutes, at least twice the hold time; config wins', async (t) => {
  t.equal(DEFAULT_SEND_HOLD_SECONDS, 480);
  t.equal(sendHoldMs(undefined, 90), 480_000);
  t.equal(sendHoldMs(undefined, 0), 480_000, 'hold time 0: still 8 minutes');
  t.equal(sendHoldMs(undefined, 300), 600_000);
  t.equal(sendHoldMs(30, 90), 30_000);
});

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
  peers[0]!.accept({ asn: 65000, id: LEAF });
  await settle();
  const status = () => speaker.status().peers[0]!;
  return { clock, speaker, peer: peers[0]!, peers, status };
}

const many = (n: number) => Array.from({ length: n }, (_, i) => parsePrefix(`10.${i >> 8}.${i & 255}.0/24`));

t.test(
  'a peer that stops reading is torn down after sendHoldTime with Send Hold Timer Expired',
  async (t) => {
    const r = await rig({ sendHoldTime: 30 });
    t.equal(r.status().state, 'Established');
    r.peer.sock.stopReading();
    r.speaker.setDesired(many(200));
    await settle();
    r.clock.advance(29_999);
    await settle();
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
  const r = await rig({ sendHoldTime: 30 });
  r.peer.sock.stopReading();
  r.speaker.setDesired(many(200));
  await settle();
  r.clock.advance(20_000);
  r.peer.sock.resumeReading();
  await settle();
  r.clock.advance(20_000);
  await settle();
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
