/**
 * The session's event queue: a hook that stops the session (maximum prefixes, RFC 4486) only
 * enqueues the stop, the action list of the event being processed finishes first, and events of a
 * connection that is gone are dropped and counted.
 */
import t from 'tap';
import { MemoryNetwork } from '../../src/bgp/memory-transport.js';
import { encodeMessage, type UpdateMessage } from '../../src/bgp/message/index.js';
import { IPV4_UNICAST, IPV6_UNICAST } from '../../src/bgp/negotiate.js';
import { Session, type SessionHooks } from '../../src/bgp/session.js';
import { BgpSpeaker } from '../../src/bgp/speaker.js';
import { type BgpPeerConfig, bgpPeerSchema } from '../../src/config/bgp.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { parsePrefix } from '../../src/net/prefix.js';
import { ScriptedPeer, settle } from './scripted-peer.js';

const LEAF = '198.18.0.1';
const NODE = '198.18.0.2';

function announce(prefixes: string[]): UpdateMessage {
  return {
    type: 2,
    withdrawn: [],
    attributes: { origin: 0, asPath: [{ type: 2, asns: [65000] }], nextHop: LEAF },
    nlri: prefixes.map((p) => parsePrefix(p)),
  };
}

function speakerRig(peer: Partial<BgpPeerConfig>) {
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
  return { clock, net, speaker, peers };
}

function sessionRig(hooks: Partial<SessionHooks>, routerId = NODE) {
  const clock = new ManualClock();
  const net = new MemoryNetwork(NODE);
  const peers: ScriptedPeer[] = [];
  const events: string[] = [];
  net.answer(LEAF, 179, (far) => peers.push(new ScriptedPeer(far)));
  const peer = bgpPeerSchema.parse({ address: LEAF, asn: 65000 });
  const session = new Session({
    peer,
    local: { asn: 65001, routerId, holdTime: peer.holdTime, families: [IPV4_UNICAST, IPV6_UNICAST] },
    clock,
    logger: silentLogger,
    transport: net,
    random: null,
    hooks: {
      established: () => events.push('established'),
      down: () => events.push('down'),
      update: () => events.push('update'),
      routeRefresh: () => events.push('refresh'),
      ...hooks,
    },
  });
  return { clock, net, session, peers, events };
}

t.test('maximum prefixes: Idle with Cease/1, no timer left on the dead connection', async (t) => {
  const r = speakerRig({ accept: 'all', maxPrefixes: 2, connectRetryTime: 10 });
  await r.speaker.start();
  await settle();
  const leaf = r.peers[0]!;
  leaf.accept({ asn: 65000, id: LEAF });
  await settle();
  leaf.send(announce(['198.19.1.0/24', '198.19.2.0/24']));
  await settle();
  t.equal(r.speaker.status().peers[0]!.state, 'Established');
  // One TCP read: the UPDATE over the limit, then another UPDATE and a KEEPALIVE behind it.
  leaf.raw(
    Buffer.concat([
      encodeMessage(announce(['198.19.3.0/24']), leaf.ctx),
      encodeMessage(announce(['198.19.4.0/24']), leaf.ctx),
      encodeMessage({ type: 4 }, leaf.ctx),
    ]),
  );
  await settle();
  const st = r.speaker.status().peers[0]!;
  t.same(leaf.notes, ['6/1'], 'Cease / Maximum Number of Prefixes Reached, once');
  t.ok(leaf.closed);
  t.equal(st.state, 'Idle');
  t.match(st.lastError, /Maximum Number of Prefixes Reached \(peer sent 3 prefixes, limit 2\)/);
  t.equal(st.prefixesReceived, 0, 'routes dropped with the session');
  t.equal(
    r.clock.armed,
    1,
    'only the reconnect timer is armed: no hold timer restarted on the Idle connection',
  );
  t.equal(st.counters.updatesReceived, 2, 'the UPDATE behind the stop was not processed');
  t.equal(st.counters.staleEvents, 2, 'the UPDATE and KEEPALIVE of the closed connection were dropped');
  // The reconnect comes after the full connectRetryTime, and the new session is clean.
  r.clock.advance(9_999);
  await settle();
  t.equal(r.peers.length, 1);
  r.clock.advance(1);
  await settle();
  t.equal(r.peers.length, 2);
  r.peers[1]!.accept({ asn: 65000, id: LEAF });
  await settle();
  t.equal(r.speaker.status().peers[0]!.state, 'Established');
  r.clock.advance(80_000); // past the old connection's hold time: nothing of it fires
  await settle();
  t.equal(r.speaker.status().peers[0]!.state, 'Established');
  t.same(r.peers[1]!.notes, []);
});

t.test('a hook that stops the session only enqueues the stop (no re-entry)', async (t) => {
  const seen: string[] = [];
  const r = sessionRig({
    update: (s) => {
      s.automaticStop({ code: 6, subcode: 1 }, 'test limit', false);
      seen.push(`after automaticStop: ${s.state}`);
    },
    down: () => seen.push('down'),
  });
  r.session.start();
  await settle();
  r.peers[0]!.accept({ asn: 65000, id: LEAF });
  await settle();
  t.equal(r.session.state, 'Established');
  r.peers[0]!.send(announce(['198.19.1.0/24']));
  await settle();
  t.same(seen, ['after automaticStop: Established', 'down'], 'the stop ran after the UPDATE event finished');
  t.equal(r.session.state, 'Idle');
  t.same(r.peers[0]!.notes, ['6/1']);
  t.equal(
    r.session.lastError,
    'we sent NOTIFICATION Cease / Maximum Number of Prefixes Reached (test limit)',
  );
  t.equal(r.clock.armed, 1, 'only the reconnect back-off timer');
});

t.test('the inbound candidate reaching Established first replaces the outbound connection', async (t) => {
  const r = sessionRig({});
  r.session.start();
  await settle();
  const outbound = r.peers[0]!;
  t.equal(r.session.state, 'OpenSent');
  const [near, far] = MemoryNetwork.pair({ address: NODE, port: 179 }, { address: LEAF, port: 50000 });
  const inbound = new ScriptedPeer(far);
  r.session.acceptIncoming(near);
  await settle();
  // The outbound connection never gets an OPEN; the inbound one goes all the way.
  inbound.accept({ asn: 65000, id: LEAF });
  await settle();
  t.equal(r.session.state, 'Established');
  t.same(r.events, ['established'], 'established reported once, for the surviving connection');
  t.same(outbound.notes, ['6/7']);
  t.ok(outbound.closed);
  t.same(inbound.notes, []);
  t.equal(r.session.remoteAddress, LEAF);
  t.equal(r.session.lastError, null);
  // The session runs on the inbound connection: its KEEPALIVEs keep it up.
  inbound.keepalive();
  await settle();
  t.equal(r.session.state, 'Established');
  t.equal(r.clock.armed, 2, 'hold and keepalive timers of the surviving connection');
});

t.test('an exception while processing resets the session; the queue keeps working', async (t) => {
  const r = sessionRig({
    update: () => {
      throw new Error('boom');
    },
  });
  r.session.start();
  await settle();
  r.peers[0]!.accept({ asn: 65000, id: LEAF });
  await settle();
  r.peers[0]!.send(announce(['198.19.1.0/24']));
  await settle();
  t.equal(r.session.state, 'Idle');
  t.same(r.peers[0]!.notes, ['6/0'], 'Cease sent by the reset');
  t.match(r.session.lastError, /internal error: boom/);
  r.clock.advance(100); // back-off reset by the Established session: first delay
  await settle();
  t.equal(r.peers.length, 2, 'reconnected');
  r.peers[1]!.accept({ asn: 65000, id: LEAF });
  await settle();
  t.equal(r.session.state, 'Established');
});
