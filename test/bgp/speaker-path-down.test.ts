/**
 * The speaker's side of BFD (RFC 5882 10.2): pathDown takes one peer down at once with Cease / BFD
 * Down (RFC 9384), holds it Idle without reconnecting, and resumePeer lets it connect again;
 * onPeerState reports each state change with the session's local address; with the RFC 8538 N bit
 * BFD Down goes as Hard Reset.
 */
import t from 'tap';
import { keepsRoutes, withHardReset } from '../../src/bgp/graceful-restart.js';
import { MemoryNetwork } from '../../src/bgp/memory-transport.js';
import { BgpSpeaker } from '../../src/bgp/speaker.js';
import { bgpPeerSchema } from '../../src/config/bgp.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { ScriptedPeer, settle } from './scripted-peer.js';

const LEAF = '198.18.0.1';
const NODE = '198.18.0.2';

function rig() {
  const clock = new ManualClock();
  const net = new MemoryNetwork(NODE);
  const peers: ScriptedPeer[] = [];
  net.answer(LEAF, 179, (far) => peers.push(new ScriptedPeer(far)));
  const speaker = new BgpSpeaker({
    asn: 65001,
    routerId: NODE,
    peers: [bgpPeerSchema.parse({ address: LEAF, asn: 65000, bfd: true })],
    listenPort: 179,
    clock,
    logger: silentLogger,
    transport: net,
    random: null,
  });
  const states: string[] = [];
  speaker.onPeerState((address, state, local) => states.push(`${address} ${state} ${local ?? '-'}`));
  return { clock, speaker, peers, states };
}

t.test('pathDown: Cease / BFD Down at once, held Idle, resumePeer reconnects', async (t) => {
  const r = rig();
  t.equal(r.speaker.pathDown(LEAF, 'BFD went Down', true), false, 'not started: nothing to take down');
  await r.speaker.start();
  await settle();
  r.peers[0]!.accept({ asn: 65000, id: LEAF });
  await settle();
  t.equal(r.speaker.status().peers[0]!.state, 'Established');
  t.ok(r.states.includes(`${LEAF} Established ${NODE}`), `state changes reported: ${r.states.join(', ')}`);

  t.equal(r.speaker.pathDown('198.18.0.9', 'x', true), false, 'an unknown peer');
  t.equal(r.speaker.pathDown(LEAF, 'BFD went Down: Control Detection Time Expired', true), true);
  await settle();
  t.same(r.peers[0]!.notes, ['6/10'], 'NOTIFICATION Cease / BFD Down (RFC 9384)');
  const st = r.speaker.status().peers[0]!;
  t.equal(st.state, 'Idle');
  t.match(st.lastError ?? '', /BFD Down.*Control Detection Time Expired/, `lastError: ${st.lastError}`);
  r.clock.advance(120_000);
  await settle();
  t.equal(r.peers.length, 1, 'held: no reconnect even after connectRetryTime and back-off');
  t.equal(r.speaker.status().peers[0]!.state, 'Idle');

  r.speaker.resumePeer(LEAF);
  r.clock.advance(1000);
  await settle();
  t.equal(r.peers.length, 2, 'resumePeer: a new connection');
  r.peers[1]!.accept({ asn: 65000, id: LEAF });
  await settle();
  t.equal(r.speaker.status().peers[0]!.state, 'Established', 'Established again');
  await r.speaker.stop({ drain: false });
});

t.test('pathDown without hold: the normal reconnect follows', async (t) => {
  const r = rig();
  await r.speaker.start();
  await settle();
  r.peers[0]!.accept({ asn: 65000, id: LEAF });
  await settle();
  r.speaker.pathDown(LEAF, 'BFD went Down', false);
  await settle();
  t.same(r.peers[0]!.notes, ['6/10']);
  r.clock.advance(60_000);
  await settle();
  t.ok(r.peers.length >= 2, 'reconnected on its own');
  await r.speaker.stop({ drain: false });
});

t.test(
  'with the RFC 8538 N bit, Cease / BFD Down goes as Hard Reset: the dead path keeps no stale routes',
  async (t) => {
    const gr = {
      localRestartTime: 120,
      peerRestartTime: 120,
      peerRestarting: false,
      notification: true,
      peerFamilies: [],
    };
    const n = withHardReset({ code: 6, subcode: 10 }, gr);
    t.same([n.code, n.subcode, ...n.data!], [6, 9, 6, 10], 'Hard Reset carrying Cease / BFD Down');
    t.notOk(keepsRoutes(gr, { kind: 'notification', direction: 'sent', code: n.code, subcode: n.subcode }));
    t.same(
      withHardReset({ code: 6, subcode: 10 }, { ...gr, notification: false }),
      { code: 6, subcode: 10 },
      'no N bit: as is',
    );
  },
);
