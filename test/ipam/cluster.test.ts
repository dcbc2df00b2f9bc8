/**
 * The cluster view: claims and node records from the store, paired into this node's aggregate,
 * the layer 2 peers and a plain snapshot of every node; listeners hear of each change.
 */
import t from 'tap';
import { ipamSchema } from '../../src/config/ipam.js';
import { ClusterView } from '../../src/ipam/cluster.js';
import { Ipam } from '../../src/ipam/ipam.js';
import { MemoryNodeState } from '../../src/ipam/state.js';
import { MemoryBlockStore } from '../../src/ipam/store/memory.js';
import type { BlockClaim, NodeInfo, NodeRecord } from '../../src/ipam/store/types.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { formatPrefix, parsePrefix } from '../../src/net/prefix.js';

const claim = (block: string, node: string): BlockClaim => ({
  block,
  node,
  group: 'default',
  network: 'pods',
  claimId: `${node}-${block}`,
});

/** A memory store whose node records can be made to fail, and which counts registrations. */
class FlakyStore extends MemoryBlockStore {
  failNodes = 0;
  registrations: { node: string; info: NodeInfo | undefined }[] = [];
  override async nodes(): Promise<NodeRecord[]> {
    if (this.failNodes > 0) {
      this.failNodes--;
      throw new Error('store unreachable');
    }
    return super.nodes();
  }
  override async register(node: string, info?: NodeInfo): Promise<void> {
    this.registrations.push({ node, info });
    return super.register(node, info);
  }
}

const settle = () => new Promise((r) => setImmediate(r));

function view(store: MemoryBlockStore, clock = new ManualClock(0)) {
  const v = new ClusterView({ node: 'n1', store, clock, logger: silentLogger, inUse: () => [] });
  for (const c of [claim('198.18.0.0/29', 'n1'), claim('198.18.0.8/29', 'n2')]) v.noteClaim(c);
  v.start();
  return v;
}

const peersText = (v: ClusterView) =>
  v.peers().map((p) => `${p.node} ${p.addresses.join(',')} ${p.blocks.map(formatPrefix).join(',')}`);

t.test('peers pair node records with claims; this node is never a peer', async (t) => {
  const store = new FlakyStore();
  await store.register('n1', { addresses: ['198.18.5.1'] });
  await store.register('n2', { addresses: ['198.18.5.2'] });
  await store.claim(claim('198.18.0.0/29', 'n1'));
  await store.claim(claim('198.18.0.8/29', 'n2'));
  const v = view(store);
  t.same(v.peers(), [], 'no peers before node records are tracked');
  let changes = 0;
  v.onChange(() => changes++);
  await v.trackNodes();
  t.same(peersText(v), ['n2 198.18.5.2 198.18.0.8/29']);
  t.equal(changes, 1, 'told once');
  // A node with a record but no claim yet is a peer without blocks; its first claim shows up.
  await store.register('n3', { addresses: ['198.18.5.3'] });
  await settle();
  await v.refresh();
  t.same(peersText(v), ['n2 198.18.5.2 198.18.0.8/29', 'n3 198.18.5.3 ']);
  await store.claim(claim('198.18.0.16/29', 'n3'));
  await settle();
  await v.refresh();
  t.same(peersText(v), ['n2 198.18.5.2 198.18.0.8/29', 'n3 198.18.5.3 198.18.0.16/29']);
  const before = changes;
  await v.refresh();
  t.equal(changes, before, 'no change, no news');
  // Released for good: neither claims nor record, so no peer.
  store.kill('n2');
  await store.releaseNode('n2');
  await settle();
  await v.refresh();
  t.same(peersText(v), ['n3 198.18.5.3 198.18.0.16/29']);
  await v.close();
});

t.test('a failed node record read keeps the peers and retries after 5 s', async (t) => {
  const store = new FlakyStore();
  const clock = new ManualClock(0);
  await store.register('n2', { addresses: ['198.18.5.2'] });
  await store.claim(claim('198.18.0.8/29', 'n2'));
  const v = view(store, clock);
  store.failNodes = 1;
  const untrack = await v.trackNodes();
  t.same(v.peers(), []);
  clock.advance(4999);
  await settle();
  t.same(v.peers(), []);
  clock.advance(1);
  await settle();
  t.same(peersText(v), ['n2 198.18.5.2 198.18.0.8/29']);
  // Records are followed while anyone tracks them.
  const untrackOther = await v.trackNodes();
  await untrackOther();
  await store.register('n3', { addresses: ['198.18.5.3'] });
  await settle();
  await v.refresh();
  t.same(peersText(v), ['n2 198.18.5.2 198.18.0.8/29', 'n3 198.18.5.3 '], 'one tracker left');
  // Once no one tracks them, the peers stay as they were.
  await untrack();
  await store.register('n4', { addresses: ['198.18.5.4'] });
  await settle();
  await v.refresh();
  t.same(peersText(v), ['n2 198.18.5.2 198.18.0.8/29', 'n3 198.18.5.3 ']);
  await v.close();
});

t.test('routing: the aggregate of this node blocks, and the snapshot of every node', async (t) => {
  const store = new FlakyStore();
  await store.register('n1', { addresses: ['198.18.5.1'] });
  await store.register('n2', { addresses: ['198.18.5.2', '2001:db8::2'] });
  store.kill('n2');
  const v = view(store);
  let changes = 0;
  v.onChange(() => changes++);
  v.setLocalBlocks(['198.18.0.0/29', '198.18.0.8/29'].map((p) => parsePrefix(p)));
  t.same(v.routing().aggregate.map(formatPrefix), ['198.18.0.0/28']);
  t.equal(changes, 1);
  const unregistered = v.snapshot();
  t.same(
    unregistered.nodes.map((n) => [n.node, n.registered, n.addresses.length]),
    [
      ['n1', false, 0],
      ['n2', false, 0],
    ],
    'without node records: nodes known by their claims only',
  );
  await v.trackNodes();
  const snap = v.snapshot();
  t.same(
    snap.nodes.map((n) => ({
      node: n.node,
      self: n.self,
      registered: n.registered,
      alive: n.alive,
      addresses: n.addresses,
      blocks: n.blocks.map((b) => `${b.block} ${b.network} ${b.group} ${formatPrefix(b.prefix)}`),
    })),
    [
      {
        node: 'n1',
        self: true,
        registered: true,
        alive: true,
        addresses: ['198.18.5.1'],
        blocks: ['198.18.0.0/29 pods default 198.18.0.0/29'],
      },
      {
        node: 'n2',
        self: false,
        registered: true,
        alive: false,
        addresses: ['198.18.5.2', '2001:db8::2'],
        blocks: ['198.18.0.8/29 pods default 198.18.0.8/29'],
      },
    ],
  );
  await v.close();
});

t.test('Ipam.open registers the node once, with its addresses', async (t) => {
  const store = new FlakyStore();
  const ipam = await Ipam.open({
    config: ipamSchema.parse({ networks: [{ name: 'pods', cidr: '198.18.0.0/24', blockSize: 29 }] }),
    node: { name: 'n1', labels: {}, addresses: ['198.18.5.1'] },
    store,
    clock: new ManualClock(0),
    logger: silentLogger,
    state: new MemoryNodeState(),
  });
  t.same(store.registrations, [{ node: 'n1', info: { addresses: ['198.18.5.1'] } }]);
  t.same(await store.nodes(), [{ node: 'n1', addresses: ['198.18.5.1'], alive: true }]);
  await ipam.allocate({ containerId: 'c', ifname: 'eth0' });
  t.same(
    ipam.cluster.snapshot().nodes[0]?.blocks.map((b) => b.block),
    ['198.18.0.0/29'],
  );
  await ipam.close();
});
