/**
 * The daemon's feed from received BGP routes to the route programmer: UPDATE bursts coalesce on
 * the injected clock into one hand-over, a peer going down is handed over at once, nothing is
 * handed over after stop, and UPDATEs that change nothing installable (only `install: false` peers,
 * or nothing kept) hand nothing over, so they cost no kernel reconcile.
 */
import t from 'tap';
import { LEARNED_COALESCE_MS, LearnedFeed } from '../../src/daemon/learned-feed.js';
import { ManualClock } from '../../src/lib/clock.js';
import { parsePrefix } from '../../src/net/prefix.js';
import type { LearnedChange, LearnedHandover } from '../../src/routes/learned-table.js';
import type { ShownOnlyRoutes } from '../../src/routes/learned-view.js';

function setup() {
  let listener: ((peerDown: boolean) => void) | undefined;
  let pending: LearnedChange[] = [];
  let shownPaths = 0;
  const shownRoutes: ShownOnlyRoutes = {
    paths: () => shownPaths,
    prefixes: () => shownPaths,
    first: () => [],
  };
  const source = {
    onReceivedChange: (fn: (peerDown: boolean) => void) => {
      listener = fn;
    },
    learnedChanges: () => {
      const out = pending;
      pending = [];
      return out;
    },
    shownRoutes,
  };
  const handed: LearnedHandover[] = [];
  const clock = new ManualClock();
  const pods = [parsePrefix('198.19.0.0/17')];
  const feed = new LearnedFeed(source, { applyLearned: (h) => handed.push(h) }, pods, clock);
  return {
    feed,
    clock,
    handed,
    emit: (peerDown: boolean) => listener?.(peerDown),
    change: (...addresses: string[]) => {
      pending.push(...addresses.map((address) => ({ kind: 'gone' as const, address })));
    },
    setShown: (n: number) => {
      shownPaths = n;
    },
  };
}

t.test('a burst of UPDATEs is one hand-over after the coalescing delay', async (t) => {
  const { feed, clock, handed, emit, change } = setup();
  feed.flush();
  t.equal(handed.length, 1, 'the first hand-over, empty, so the sink starts from the truth');
  for (let i = 0; i < 1000; i++) {
    change(`198.18.0.${i % 2}`);
    emit(false);
  }
  t.equal(handed.length, 1, 'nothing before the timer');
  t.equal(clock.armed, 1, 'one timer for the whole burst');
  clock.advance(LEARNED_COALESCE_MS - 1);
  t.equal(handed.length, 1);
  clock.advance(1);
  t.equal(handed.length, 2);
  t.equal(handed[1]?.changes.length, 1000, 'every change since the last hand-over, in order');
  t.equal(handed[1]?.podNetworks.length, 1, 'the pod networks go along');
  change('198.18.0.0');
  emit(false);
  clock.advance(LEARNED_COALESCE_MS);
  t.equal(handed.length, 3, 'a later UPDATE arms a new timer');
  t.equal(handed[2]?.changes.length, 1, 'with only what changed since');
});

t.test('a peer down is handed over at once and cancels a pending timer', async (t) => {
  const { feed, clock, handed, emit, change } = setup();
  feed.flush();
  change('198.18.0.0');
  emit(false);
  change('198.18.0.2');
  emit(true);
  t.equal(handed.length, 2, 'at once');
  t.same(
    handed[1]?.changes.map((c) => c.kind === 'gone' && c.address),
    ['198.18.0.0', '198.18.0.2'],
  );
  t.equal(clock.armed, 0, 'the pending timer is gone');
  clock.advance(LEARNED_COALESCE_MS * 2);
  t.equal(handed.length, 2, 'nothing more to hand over');
});

t.test('flush hands over now; after stop nothing is handed over', async (t) => {
  const { feed, clock, handed, emit, change } = setup();
  feed.flush();
  t.equal(handed.length, 1);
  change('198.18.0.0');
  emit(false);
  feed.stop();
  clock.advance(LEARNED_COALESCE_MS);
  emit(true);
  feed.flush();
  t.equal(handed.length, 1);
});

t.test(
  'UPDATEs of install: false peers only: no hand-over, except when such paths appear or go',
  async (t) => {
    const { feed, clock, handed, emit, setShown } = setup();
    feed.flush();
    t.equal(handed.length, 1, 'the first hand-over says "nothing"');
    for (let i = 0; i < 10; i++) {
      emit(false);
      clock.advance(LEARNED_COALESCE_MS);
    }
    t.equal(handed.length, 1, 'nothing changed: nothing handed over');
    setShown(400);
    emit(false);
    clock.advance(LEARNED_COALESCE_MS);
    t.equal(handed.length, 2, 'paths to show appeared (the view needs a reconcile for their next hops)');
    t.same(handed[1]?.changes, [], 'but no route is handed over');
    t.equal(handed[1]?.shown?.paths(), 400, 'the view reads them where they are kept');
    for (let i = 0; i < 10; i++) {
      setShown(400 * (i + 2));
      emit(false);
      clock.advance(LEARNED_COALESCE_MS);
    }
    t.equal(handed.length, 2, 'more of them: still nothing handed over');
    setShown(0);
    emit(true);
    t.equal(handed.length, 3, 'they went');
  },
);
