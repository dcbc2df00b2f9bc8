/**
 * Releasing the blocks of deleted Nodes (src/k8s/node-gc.ts), driving the real client library
 * against the local stand-in (test/k8s/api-server.ts: it follows the Kubernetes API conventions,
 * it is NOT a real API server). The block store side is a small fake that records releases;
 * time is a ManualClock, so the grace period passes without waiting.
 */
import t, { type Test } from 'tap';
import { NodeAliveError } from '../../src/ipam/store/types.js';
import { NodeGc, openNodeListApi } from '../../src/k8s/node-gc.js';
import { ManualClock } from '../../src/lib/clock.js';
import { FakeKubeApi, makeNode } from './api-server.js';
import { recordingLogger, waitFor, writeKubeconfig } from './helpers.js';

const GRACE = 300_000;

async function setup(t: Test, storeNodes = ['node-a', 'node-b', 'node-c']) {
  const api = new FakeKubeApi();
  api.token = 'test-token';
  for (const n of ['node-a', 'node-b', 'node-c']) api.put(makeNode(n));
  await api.listen();
  t.teardown(() => api.close());
  const clock = new ManualClock(0);
  const logger = recordingLogger();
  const store = new Set(storeNodes);
  const releases: string[] = [];
  const alive = new Set<string>();
  let leader = true;
  const gc = new NodeGc({
    api: await openNodeListApi({ kubeconfig: writeKubeconfig(api.url), env: {} }),
    ipam: {
      storeNodes: async () => [...store],
      async releaseNode(name) {
        if (alive.has(name)) throw new NodeAliveError(name, 'its etcd lease');
        releases.push(name);
        store.delete(name);
        return 2;
      },
    },
    self: 'node-a',
    clock,
    logger,
    graceMs: GRACE,
    retryMs: 60_000,
    isLeader: () => leader,
  });
  t.teardown(() => gc.stop());
  const watching = () => waitFor(() => api.openWatches > 0, 'the Node watch');
  const settle = () => new Promise((r) => setTimeout(r, 50));
  return {
    api,
    clock,
    logger,
    gc,
    store,
    releases,
    alive,
    watching,
    settle,
    setLeader: (v: boolean) => {
      leader = v;
    },
  };
}

t.test('a deleted Node is released once, after the grace period', async (t) => {
  const { api, clock, gc, releases, logger, watching, settle } = await setup(t);
  gc.start();
  await watching();
  t.equal(api.watchRequests()[0]?.query.fieldSelector, undefined, 'watches every Node');
  const del = await fetch(`${api.url}/api/v1/nodes/node-c`, {
    method: 'DELETE',
    headers: { authorization: 'Bearer test-token' },
  });
  t.equal(del.status, 200, 'DELETE /api/v1/nodes/node-c');
  await waitFor(() => gc.waiting.includes('node-c'), 'node-c waiting');
  clock.advance(GRACE - 1);
  await settle();
  t.same(releases, [], 'nothing released before the grace period ends');
  clock.advance(1);
  await waitFor(() => releases.length > 0, 'the release');
  t.same(releases, ['node-c']);
  t.same(gc.released, [{ node: 'node-c', blocks: 2 }]);
  t.ok(
    logger.records.some((r) => r.msg === 'released 2 block(s) of deleted Node node-c'),
    'the release is logged',
  );
  api.bookmark();
  clock.advance(GRACE * 3);
  await settle();
  t.same(releases, ['node-c'], 'released once');
});

t.test('a Node that comes back within the grace period keeps its blocks', async (t) => {
  const { api, clock, gc, releases, logger, watching, settle } = await setup(t);
  gc.start();
  await watching();
  api.delete('node-b');
  await waitFor(() => gc.waiting.includes('node-b'), 'node-b waiting');
  clock.advance(GRACE / 2);
  api.put(makeNode('node-b'));
  await waitFor(() => gc.waiting.length === 0, 'the release cancelled');
  clock.advance(GRACE);
  await settle();
  t.same(releases, []);
  t.ok(logger.records.some((r) => r.msg === 'Node node-b came back; its blocks stay'));
});

t.test('a store node with no Node object at start waits too; this node never goes', async (t) => {
  const { clock, gc, releases, watching } = await setup(t, ['node-a', 'node-b', 'node-gone']);
  gc.start();
  await watching();
  await waitFor(() => gc.waiting.includes('node-gone'), 'node-gone waiting');
  t.same(gc.waiting, ['node-gone'], 'only the node missing from the API');
  clock.advance(GRACE);
  await waitFor(() => releases.length > 0, 'the release');
  t.same(releases, ['node-gone']);
});

t.test('only while leader; a node still alive in the store is retried', async (t) => {
  const { api, clock, gc, releases, alive, watching, settle, setLeader } = await setup(t);
  gc.start();
  await watching();
  alive.add('node-c');
  api.delete('node-c');
  await waitFor(() => gc.waiting.includes('node-c'), 'node-c waiting');
  clock.advance(GRACE);
  await settle();
  t.same(releases, [], 'alive: not released');
  t.same(gc.waiting, ['node-c'], 'retried later');
  alive.delete('node-c');
  setLeader(false);
  clock.advance(60_000);
  await settle();
  t.same(releases, [], 'lost the Lease meanwhile: nothing released');
  gc.stop();
  t.same(gc.waiting, [], 'stop forgets pending releases');
});

t.test('410 Gone relists; a deletion missed meanwhile is still found', async (t) => {
  const { api, clock, gc, releases, watching } = await setup(t);
  gc.start();
  await watching();
  await api.close();
  api.delete('node-c');
  api.compact();
  await api.listen();
  // The watch broke while the server was away: the back-off timers run on the ManualClock.
  await waitFor(
    () => {
      clock.advance(1000);
      return gc.waiting.includes('node-c');
    },
    'node-c found missing after the relist',
    10_000,
  );
  t.ok(
    api.requests.filter((r) => r.path === '/api/v1/nodes' && r.query.watch !== 'true').length >= 2,
    'listed again',
  );
  clock.advance(GRACE);
  await waitFor(() => releases.length > 0, 'the release');
  t.same(releases, ['node-c']);
});

t.test('ipam.releaseDeletedNodesAfter and ipam.leaderLease: defaults, off, refused values', async (t) => {
  const { parseConfig } = await import('../../src/config/index.js');
  const ipam = (extra: string) =>
    parseConfig(`ipam: { networks: [{ name: p, cidr: 198.19.0.0/16 }]${extra} }`).ipam;
  t.equal(ipam('')?.releaseDeletedNodesAfter, 300, 'default 300 s');
  t.equal(ipam('')?.leaderLease, 15, 'default lease 15 s');
  t.equal(ipam(', releaseDeletedNodesAfter: false')?.releaseDeletedNodesAfter, false, 'false: off');
  for (const v of ['0', '-5', '1.5', 'true', '"300"', '604801'])
    t.throws(
      () => ipam(`, releaseDeletedNodesAfter: ${v}`),
      /ipam\.releaseDeletedNodesAfter: .* is not a number of seconds \(or false\) in 1\.\.604800/,
      `${v} refused`,
    );
  t.throws(() => ipam(', leaderLease: 1'), /ipam\.leaderLease: 1 is not a number of seconds in 2\.\.300/);
});
