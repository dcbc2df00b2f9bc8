/**
 * The daemon's feed from received BGP routes to the route programmer: UPDATE bursts coalesce on
 * the injected clock into one hand-over, a peer going down is handed over at once, and nothing is
 * handed over after stop.
 */
import t from 'tap';
import type { LearnedPeerRoutes } from '../../src/bgp/speaker.js';
import { LEARNED_COALESCE_MS, LearnedFeed } from '../../src/daemon/learned-feed.js';
import { ManualClock } from '../../src/lib/clock.js';
import { parsePrefix } from '../../src/net/prefix.js';
import type { LearnedInput } from '../../src/routes/learned.js';

function setup() {
  let listener: ((peerDown: boolean) => void) | undefined;
  let peers: LearnedPeerRoutes[] = [];
  const source = {
    onReceivedChange: (fn: (peerDown: boolean) => void) => {
      listener = fn;
    },
    learnedPeers: () => peers,
  };
  const handed: LearnedInput[] = [];
  const clock = new ManualClock();
  const pods = [parsePrefix('198.19.0.0/17')];
  const feed = new LearnedFeed(source, { updateLearned: (i) => handed.push(i) }, pods, clock);
  const peer = (n: number): LearnedPeerRoutes => ({
    address: `198.18.0.${n}`,
    asn: 65100,
    ibgp: false,
    routerId: `10.0.0.${n}`,
    localAddress: undefined,
    install: true,
    routes: [],
  });
  return {
    feed,
    clock,
    handed,
    emit: (peerDown: boolean) => listener?.(peerDown),
    setPeers: (n: number[]) => {
      peers = n.map(peer);
    },
  };
}

t.test('a burst of UPDATEs is one hand-over after the coalescing delay', async (t) => {
  const { clock, handed, emit, setPeers } = setup();
  setPeers([0, 2]);
  for (let i = 0; i < 1000; i++) emit(false);
  t.equal(handed.length, 0, 'nothing before the timer');
  t.equal(clock.armed, 1, 'one timer for the whole burst');
  clock.advance(LEARNED_COALESCE_MS - 1);
  t.equal(handed.length, 0);
  clock.advance(1);
  t.equal(handed.length, 1);
  t.same(
    handed[0]?.peers.map((p) => p.address),
    ['198.18.0.0', '198.18.0.2'],
  );
  t.equal(handed[0]?.podNetworks.length, 1, 'the pod networks go along');
  emit(false);
  clock.advance(LEARNED_COALESCE_MS);
  t.equal(handed.length, 2, 'a later UPDATE arms a new timer');
});

t.test('a peer down is handed over at once and cancels a pending timer', async (t) => {
  const { clock, handed, emit, setPeers } = setup();
  setPeers([0, 2]);
  emit(false);
  setPeers([2]);
  emit(true);
  t.equal(handed.length, 1, 'at once');
  t.same(
    handed[0]?.peers.map((p) => p.address),
    ['198.18.0.2'],
  );
  t.equal(clock.armed, 0, 'the pending timer is gone');
  clock.advance(LEARNED_COALESCE_MS * 2);
  t.equal(handed.length, 1, 'no second hand-over of the same state');
});

t.test('flush hands over now; after stop nothing is handed over', async (t) => {
  const { feed, clock, handed, emit } = setup();
  feed.flush();
  t.equal(handed.length, 1);
  emit(false);
  feed.stop();
  clock.advance(LEARNED_COALESCE_MS);
  emit(true);
  feed.flush();
  t.equal(handed.length, 1);
});

t.test('nothing kept before and after: no hand-over (accept: none and a full table)', async (t) => {
  const { feed, clock, handed, emit, setPeers } = setup();
  feed.flush();
  t.equal(handed.length, 1, 'the first hand-over says "nothing"');
  for (let i = 0; i < 10; i++) {
    emit(false);
    clock.advance(LEARNED_COALESCE_MS);
  }
  t.equal(handed.length, 1, 'still nothing to hand over');
  setPeers([0]);
  emit(false);
  clock.advance(LEARNED_COALESCE_MS);
  setPeers([]);
  emit(true);
  t.equal(handed.length, 3, 'routes, then their removal');
  t.same(handed[2]?.peers, []);
});
