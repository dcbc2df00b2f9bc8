/**
 * The node watcher with the real client library (@kubernetes/client-node 1.4.0) against a local
 * stand-in server that follows the Kubernetes API conventions (test/k8s/api-server.ts; not a real
 * API server): GET of the Node, list + watch from resourceVersion, bookmarks, 410 Gone forcing a
 * relist, a watch cut mid-stream, 401/403 with a clear error, an API unreachable at start
 * (retried on the injected clock), an outage once running changing nothing.
 */
import t, { type Test } from 'tap';
import { openNodeApi } from '../../src/k8s/client.js';
import { identityFromNode, type NodeIdentity } from '../../src/k8s/node-identity.js';
import { NodeWatcher } from '../../src/k8s/node-watch.js';
import { ManualClock, systemClock } from '../../src/lib/clock.js';
import { FakeKubeApi, makeNode } from './api-server.js';
import { recordingLogger, waitFor, writeKubeconfig } from './helpers.js';

const node1 = () =>
  makeNode('node1', {
    labels: { 'topology.kubernetes.io/zone': 'a', 'topology.kubernetes.io/region': 'r1', rack: '1' },
    addresses: ['198.18.0.2', '2001:db8::2'],
    podCIDRs: ['198.19.0.0/24', '2001:db8:1::/64'],
  });

async function setup(t: Test, opts: { clock?: ManualClock; listen?: boolean } = {}) {
  const api = new FakeKubeApi();
  api.token = 'test-token';
  api.put(node1());
  await api.listen();
  if (opts.listen === false) await api.close();
  const logger = recordingLogger();
  const client = await openNodeApi({ kubeconfig: writeKubeconfig(api.url) });
  const watcher = new NodeWatcher({
    api: client,
    name: 'node1',
    clock: opts.clock ?? systemClock,
    logger,
    backoff: { initialMs: 50, maxMs: 200, random: null },
  });
  const changes: Array<{ now: NodeIdentity; before: NodeIdentity }> = [];
  watcher.onChange((now, before) => changes.push({ now, before }));
  t.teardown(async () => {
    watcher.stop();
    await api.close();
  });
  return { api, logger, watcher, changes };
}

t.test('identity: labels, InternalIP addresses (IPv4 + IPv6), router id, pod CIDRs', async (t) => {
  const id = identityFromNode(node1());
  t.same(id.addresses, ['198.18.0.2', '2001:db8::2'], 'Hostname addresses left out');
  t.equal(id.routerId, '198.18.0.2');
  t.same(id.podCIDRs, ['198.19.0.0/24', '2001:db8:1::/64']);
  t.equal(id.labels['topology.kubernetes.io/zone'], 'a');
  const v6 = identityFromNode(makeNode('n', { addresses: ['2001:db8::9'] }));
  t.equal(v6.routerId, undefined, 'IPv6-only node: no default router id');
  const old = identityFromNode({ metadata: { name: 'o' }, spec: { podCIDR: '198.19.9.0/24' } });
  t.same(old.podCIDRs, ['198.19.9.0/24'], 'single spec.podCIDR of older clusters');
});

t.test('GET, then list + watch from the list resourceVersion with bookmarks', async (t) => {
  const { api, watcher } = await setup(t);
  const id = await watcher.start();
  t.same(id.labels.rack, '1');
  t.equal(api.requests[0]?.path, '/api/v1/nodes/node1', 'first a GET of its own Node');
  const w = await waitFor(() => api.watchRequests()[0], 'the first watch');
  const list = api.requests.find((r) => r.path === '/api/v1/nodes' && r.query.watch !== 'true');
  t.equal(list?.query.fieldSelector, 'metadata.name=node1', 'the list selects this node only');
  t.equal(w.query.resourceVersion, api.resourceVersion, 'the watch starts at the list version');
  t.equal(w.query.allowWatchBookmarks, 'true');
  t.equal(w.query.fieldSelector, 'metadata.name=node1');
});

t.test('a label change is seen within a second and logged', async (t) => {
  const { api, watcher, changes, logger } = await setup(t);
  await watcher.start();
  await waitFor(() => api.openWatches > 0, 'an open watch');
  const at = Date.now();
  api.label('node1', { rack: '2' });
  const c = await waitFor(() => changes[0], 'the change', 1000);
  t.ok(Date.now() - at < 1000, `seen after ${Date.now() - at} ms`);
  t.equal(c.before.labels.rack, '1');
  t.equal(c.now.labels.rack, '2');
  const line = logger.records.find((r) => r.msg === 'Node labels changed');
  t.same(line?.obj.changed, { rack: { from: '1', to: '2' } });
  // A write that changes nothing podroute uses (an annotation) is no change.
  const n = structuredClone(node1());
  n.metadata = { ...n.metadata, labels: { ...n.metadata?.labels, rack: '2' }, annotations: { x: 'y' } };
  api.put(n);
  api.label('node1', { rack: '3' });
  await waitFor(() => changes.length === 2, 'the second change');
  t.equal(changes[1]?.now.labels.rack, '3');
});

t.test('a bookmark moves the resourceVersion a cut watch resumes from', async (t) => {
  const { api, watcher, changes } = await setup(t);
  await watcher.start();
  await waitFor(() => api.openWatches > 0, 'an open watch');
  api.put(makeNode('other')); // another node's write moves the store version; this watch does not see it
  api.bookmark();
  const bookmarked = api.resourceVersion;
  await new Promise((r) => setTimeout(r, 50));
  t.equal(api.cutWatches(), 1, 'cut mid-line');
  const second = await waitFor(() => api.watchRequests()[1], 'the watch resumed');
  t.equal(second.query.resourceVersion, bookmarked, 'resumed from the bookmark, not the list');
  t.equal(
    api.requests.filter((r) => r.path === '/api/v1/nodes' && r.query.watch !== 'true').length,
    1,
    'no relist',
  );
  api.label('node1', { rack: '5' });
  await waitFor(() => changes[0], 'a change after the cut');
  t.equal(changes[0]?.now.labels.rack, '5');
});

for (const goneAs of ['event', 'status'] as const) {
  t.test(`410 Gone (${goneAs === 'event' ? 'ERROR event' : 'HTTP status'}) forces a relist`, async (t) => {
    const { api, watcher, changes, logger } = await setup(t);
    api.goneAs = goneAs;
    await watcher.start();
    await waitFor(() => api.openWatches > 0, 'an open watch');
    // While the watch is down, the node changes and the history is compacted past our version.
    await api.close();
    api.label('node1', { rack: '7' });
    api.compact();
    await api.listen();
    await waitFor(() => changes[0], 'the change, through a relist', 5000);
    t.equal(changes[0]?.now.labels.rack, '7');
    const lists = api.requests.filter((r) => r.path === '/api/v1/nodes' && r.query.watch !== 'true');
    t.equal(lists.length, 2, 'listed again');
    t.ok(
      logger.records.some((r) => r.msg.includes('410 Gone')),
      'logged',
    );
    const last = await waitFor(() => api.openWatches > 0 && api.watchRequests().at(-1), 'a new watch');
    t.equal(last.query.resourceVersion, api.resourceVersion, 'watching from the new list');
  });
}

t.test('API unreachable at start: retried with back-off on the injected clock, says why', async (t) => {
  const clock = new ManualClock();
  const { api, watcher, logger } = await setup(t, { clock, listen: false });
  let done: NodeIdentity | undefined;
  void watcher.start().then((id) => {
    done = id;
  });
  const first = await waitFor(() => logger.records.find((r) => r.level === 'warn'), 'a warning');
  t.match(
    first.msg,
    /reading the Node object failed: cannot reach the API server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); retrying/,
  );
  t.equal(first.obj.retryInMs, 50);
  clock.advance(50);
  const second = await waitFor(() => logger.records.filter((r) => r.level === 'warn')[1], 'a second warning');
  t.equal(second.obj.retryInMs, 100, 'the delay doubles');
  t.equal(done, undefined, 'not started while unreachable');
  await api.listen();
  clock.advance(100);
  await waitFor(() => done, 'started once the API answers');
  t.equal(done?.labels.rack, '1');
  t.equal(watcher.error, '');
});

for (const [code, setupFn, rx] of [
  [
    401,
    (api: FakeKubeApi) => (api.token = 'another-token'),
    /refused the credentials \(401 Unauthorized.*check the ServiceAccount token/,
  ],
  [
    403,
    (api: FakeKubeApi) => api.forbid.add('get'),
    /forbids reading Node node1 \(403 Forbidden: nodes "node1" is forbidden: User "system:serviceaccount:podroute:podroute" cannot get.*needs get, list and watch on nodes/,
  ],
] as const) {
  t.test(`${code}: a clear error, retried`, async (t) => {
    const clock = new ManualClock();
    const { api, watcher, logger } = await setup(t, { clock });
    setupFn(api);
    void watcher.start().catch(() => {});
    const w = await waitFor(() => logger.records.find((r) => r.level === 'warn'), 'a warning');
    t.match(w.msg, rx);
    t.equal(w.obj.status, code);
    t.match(watcher.error, rx);
  });
}

t.test('an API outage once running changes nothing; the watch comes back', async (t) => {
  const { api, watcher, changes, logger } = await setup(t);
  await watcher.start();
  await waitFor(() => api.openWatches > 0, 'an open watch');
  await api.close();
  await waitFor(
    () => logger.records.some((r) => r.level === 'warn' && /watching the Node failed/.test(r.msg)),
    'the failure logged',
  );
  t.equal(watcher.identity?.labels.rack, '1', 'identity kept');
  t.equal(changes.length, 0, 'nothing changed');
  await api.listen();
  await waitFor(() => api.openWatches > 0, 'the watch back', 5000);
  api.label('node1', { rack: '9' });
  await waitFor(() => changes[0], 'a change after the outage');
  t.equal(changes[0]?.now.labels.rack, '9');
});
