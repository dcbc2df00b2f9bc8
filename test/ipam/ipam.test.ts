import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { type IpamConfig, ipamSchema } from '../../src/config/ipam.js';
import { Ipam, IpamExhaustedError, IpamPlacementError } from '../../src/ipam/ipam.js';
import { FileNodeState, MemoryNodeState, type NodeStateStore } from '../../src/ipam/state.js';
import { MemoryBlockStore } from '../../src/ipam/store/memory.js';
import { NodeAliveError } from '../../src/ipam/store/types.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { prefixRange } from '../../src/net/aggregate.js';
import { formatPrefix, parseAddress, parsePrefix, toBigInt } from '../../src/net/prefix.js';

function cfg(over: Partial<Record<keyof IpamConfig, unknown>> = {}): IpamConfig {
  return ipamSchema.parse({
    networks: [{ name: 'pods', cidr: '198.18.0.0/24', blockSize: 29, gateway: '198.18.0.1' }],
    quarantine: 10,
    blockGrace: 60,
    ...over,
  });
}

interface Env {
  store: MemoryBlockStore;
  clock: ManualClock;
}

function env(): Env {
  return { store: new MemoryBlockStore(), clock: new ManualClock(1000) };
}

function open(
  e: Env,
  name: string,
  config = cfg(),
  state: NodeStateStore = new MemoryNodeState(),
  labels: Record<string, string> = {},
) {
  return Ipam.open({
    config,
    node: { name, labels },
    store: e.store,
    clock: e.clock,
    logger: silentLogger,
    state,
  });
}

const owner = (i: number) => ({ containerId: `c${i}`, ifname: 'eth0' });
const ann = (ipam: Ipam): string[] => ipam.announcement().map(formatPrefix);

t.test('addresses skip reserved ones; blocks are claimed buddy-style and aggregate', async (t) => {
  const e = env();
  const ipam = await open(e, 'n1');
  const first = await ipam.allocate(owner(0));
  t.same(first, {
    address: '198.18.0.2',
    prefixLength: 24,
    gateway: '198.18.0.1',
    block: '198.18.0.0/29',
    network: 'pods',
    group: 'default',
  });
  t.same(await ipam.allocate(owner(0)), first, 'idempotent per owner');
  const got = [first.address];
  for (let i = 1; i < 15; i++) got.push((await ipam.allocate(owner(i))).address);
  // .0 (range start) and .1 (gateway) never: 6 in the first block, 8 in its buddy .8/29, then .16/29.
  t.same(got.slice(0, 7), [
    '198.18.0.2',
    '198.18.0.3',
    '198.18.0.4',
    '198.18.0.5',
    '198.18.0.6',
    '198.18.0.7',
    '198.18.0.8',
  ]);
  t.same(ann(ipam), ['198.18.0.0/28', '198.18.0.16/29']);
  t.same([...ipam.blocksByNode().get('n1')!].map(formatPrefix), [
    '198.18.0.0/29',
    '198.18.0.8/29',
    '198.18.0.16/29',
  ]);
  await ipam.close();
});

t.test('a freed address waits out the quarantine; FIFO reuse', async (t) => {
  const e = env();
  const ipam = await open(
    e,
    'n1',
    cfg({ networks: [{ name: 'pods', cidr: '198.18.0.0/29', blockSize: 29 }] }),
  );
  const a = [];
  for (let i = 0; i < 6; i++) a.push((await ipam.allocate(owner(i))).address);
  t.same(a, ['198.18.0.1', '198.18.0.2', '198.18.0.3', '198.18.0.4', '198.18.0.5', '198.18.0.6']);
  t.ok(await ipam.release(owner(2)));
  t.notOk(await ipam.release(owner(2)), 'second release is a no-op');
  await t.rejects(ipam.allocate(owner(9)), IpamExhaustedError, 'quarantined address not reused');
  await t.rejects(ipam.allocate(owner(9)), /group default: no free address or block left in network pods/);
  e.clock.advance(9_999);
  await t.rejects(ipam.allocate(owner(9)), IpamExhaustedError);
  e.clock.advance(1);
  t.equal((await ipam.allocate(owner(9))).address, '198.18.0.3');
  await ipam.close();
});

t.test('an empty block goes back after the grace period; the announcement shrinks', async (t) => {
  const e = env();
  const ipam = await open(e, 'n1');
  let changes = 0;
  ipam.onChange(() => changes++);
  for (let i = 0; i < 7; i++) await ipam.allocate(owner(i));
  t.same(ann(ipam), ['198.18.0.0/28']);
  t.equal(changes, 2, 'one change per claimed block');
  await ipam.release(owner(6)); // the only address of .8/29
  e.clock.advance(10_000); // quarantine over: the block is empty, grace starts
  e.clock.advance(59_000);
  await new Promise((r) => setImmediate(r));
  t.same(ann(ipam), ['198.18.0.0/28'], 'still held during grace');
  e.clock.advance(1_000);
  await new Promise((r) => setImmediate(r));
  t.same(ann(ipam), ['198.18.0.0/29']);
  t.same(
    (await e.store.list()).map((c) => c.block),
    ['198.18.0.0/29'],
  );
  t.equal(changes, 3);
  // Allocating into an empty block during grace keeps it.
  await ipam.allocate(owner(7)); // fills .0/29 again? it has 6 used: .7 was not used -> claims .8 again
  t.same(ann(ipam), ['198.18.0.0/28']);
  await ipam.close();
});

t.test('restart: allocations and quarantine survive; nothing handed out twice', async (t) => {
  const e = env();
  const state = new MemoryNodeState();
  let ipam = await open(e, 'n1', cfg(), state);
  for (let i = 0; i < 4; i++) await ipam.allocate(owner(i));
  await ipam.release(owner(1)); // .3 quarantined
  await ipam.close();
  state.freeze();
  ipam = await open(e, 'n1', cfg(), state);
  t.equal(ipam.lookup(owner(0))?.address, '198.18.0.2');
  t.equal((await ipam.allocate(owner(3))).address, '198.18.0.5', 'same owner, same address');
  const fresh = [];
  for (let i = 10; i < 13; i++) fresh.push((await ipam.allocate(owner(i))).address);
  t.same(fresh, ['198.18.0.6', '198.18.0.7', '198.18.0.8'], '.3 still quarantined, others in use');
  await ipam.close();
});

t.test('restart after the store lost a claim: the block is claimed again', async (t) => {
  const e = env();
  const state = new MemoryNodeState();
  let ipam = await open(e, 'n1', cfg(), state);
  await ipam.allocate(owner(0));
  await ipam.close();
  state.freeze();
  const e2 = { store: new MemoryBlockStore(), clock: e.clock };
  ipam = await open(e2, 'n1', cfg(), state);
  t.same(
    (await e2.store.list()).map((c) => `${c.block} ${c.node}`),
    ['198.18.0.0/29 n1'],
  );
  t.equal(ipam.lookup(owner(0))?.address, '198.18.0.2');
  t.equal((await ipam.allocate(owner(1))).address, '198.18.0.3');
  await ipam.close();
});

t.test('file node state: durable, and a corrupt file is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podroute-ipam-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const e = env();
  const file = join(dir, 'n1.json');
  let ipam = await open(e, 'n1', cfg(), new FileNodeState(file));
  await Promise.all([0, 1, 2].map((i) => ipam.allocate(owner(i))));
  await ipam.close();
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  t.equal(saved.allocations.length, 3);
  ipam = await open(e, 'n1', cfg(), new FileNodeState(file));
  t.equal(ipam.lookup(owner(2))?.address !== undefined, true);
  await ipam.close();
  writeFileSync(file, '{"version":1,"allocations":[');
  await t.rejects(open(e, 'n1', cfg(), new FileNodeState(file)), /n1\.json is corrupt/);
});

t.test('placement errors, VLAN leases, releaseNode', async (t) => {
  const e = env();
  const config = cfg({
    networks: [
      { name: 'v10', cidr: '198.18.0.0/24', blockSize: 28, vlan: 10, gateway: '198.18.0.1' },
      { name: 'v20', cidrs: ['198.18.8.0/28', '198.18.9.0/28'], blockSize: 28 },
    ],
    groups: [
      { name: 'a', selector: { zone: 'a' }, networks: ['v10'] },
      { name: 'b', selector: { zone: 'b' }, networks: ['v20'] },
    ],
  });
  await t.rejects(open(e, 'n0', config, new MemoryNodeState(), { zone: 'c' }), IpamPlacementError);
  await t.rejects(
    open(e, 'n0', config, new MemoryNodeState(), { zone: 'c' }),
    /node\.labels: \{"zone":"c"\} matches no group in ipam\.groups \(a \{"zone":"a"\}, b \{"zone":"b"\}\)/,
  );
  const a = await open(e, 'na', config, new MemoryNodeState(), { zone: 'a' });
  t.same(await a.allocate(owner(1)), {
    address: '198.18.0.2',
    prefixLength: 24,
    gateway: '198.18.0.1',
    vlan: 10,
    block: '198.18.0.0/28',
    network: 'v10',
    group: 'a',
  });
  const b = await open(e, 'nb', config, new MemoryNodeState(), { zone: 'b' });
  const got = [];
  for (let i = 0; i < 15; i++) got.push((await b.allocate(owner(i))).address);
  t.equal(got[0], '198.18.8.1', 'multi-segment: first range, minus its first address');
  t.equal(got[13], '198.18.8.14');
  t.equal(got[14], '198.18.9.1', 'then the second range');
  t.same(
    got.filter((x) => x.endsWith('.15')),
    [],
    'last address of each range never used',
  );
  t.equal((await b.allocate(owner(1))).prefixLength, 32, 'no gateway: host route');
  let seen = 0;
  a.onChange(() => seen++);
  await t.rejects(a.releaseNode('nb'), NodeAliveError);
  await b.close();
  e.store.kill('nb');
  t.equal(await a.releaseNode('nb'), 2);
  t.equal(seen, 1, 'other node change seen');
  t.same([...a.blocksByNode().keys()], ['na']);
  await a.close();
});

t.test('property: many nodes, random allocate/release, invariants hold', async (t) => {
  const ops = fc.array(
    fc.record({
      node: fc.integer({ min: 0, max: 2 }),
      owner: fc.integer({ min: 0, max: 20 }),
      free: fc.boolean(),
      tick: fc.nat(12_000),
    }),
    { minLength: 20, maxLength: 200, size: 'max' },
  );
  await fc.assert(
    fc.asyncProperty(ops, async (steps) => {
      const e = env();
      const config = cfg({
        networks: [{ name: 'pods', cidr: '198.18.0.0/26', blockSize: 30, gateway: '198.18.0.1' }],
      });
      const nodes = await Promise.all([0, 1, 2].map((i) => open(e, `n${i}`, config)));
      const reserved = new Set(['198.18.0.0', '198.18.0.63', '198.18.0.1']);
      for (const s of steps) {
        const ipam = nodes[s.node]!;
        if (s.free) await ipam.release(owner(s.owner));
        else
          await ipam.allocate(owner(s.owner)).catch((err) => {
            if (!(err instanceof IpamExhaustedError)) throw err;
          });
        e.clock.advance(s.tick);
        await new Promise((r) => setImmediate(r));
        await Promise.all(nodes.map((n) => n.refresh()));
        // Invariants.
        const claims = await e.store.list();
        const blocks = claims.map((c) => prefixRange(parsePrefix(c.block)));
        for (let i = 0; i < blocks.length; i++)
          for (let j = i + 1; j < blocks.length; j++)
            if (blocks[i]!.first <= blocks[j]!.last && blocks[j]!.first <= blocks[i]!.last) return false;
        const used = new Set<string>();
        for (const [ni, n] of nodes.entries()) {
          const mine = claims
            .filter((c) => c.node === `n${ni}`)
            .map((c) => prefixRange(parsePrefix(c.block)));
          // The announcement covers exactly this node's blocks.
          const annSize = n
            .announcement()
            .reduce((sum, p) => sum + (prefixRange(p).last - prefixRange(p).first + 1n), 0n);
          const blkSize = mine.reduce((sum, r) => sum + (r.last - r.first + 1n), 0n);
          if (annSize !== blkSize) return false;
          for (const p of n.announcement()) {
            const r = prefixRange(p);
            if (!mine.some((m) => m.first >= r.first && m.last <= r.last)) return false;
          }
          for (let o = 0; o <= 20; o++) {
            const l = n.lookup(owner(o));
            if (!l) continue;
            if (used.has(l.address) || reserved.has(l.address)) return false;
            used.add(l.address);
            const v = toBigInt(parseAddress(l.address));
            // In exactly one block, and that block is this node's.
            if (blocks.filter((b) => v >= b.first && v <= b.last).length !== 1) return false;
            if (!mine.some((b) => v >= b.first && v <= b.last)) return false;
          }
        }
      }
      await Promise.all(nodes.map((n) => n.close()));
      return true;
    }),
    { numRuns: 60 },
  );
  t.pass('60 random runs');
});

t.test('a running cluster gains a group and a network: held blocks and placement stay', async (t) => {
  const e = env();
  const state = new MemoryNodeState();
  const v1 = cfg({
    networks: [{ name: 'pods', cidr: '198.18.0.0/24', blockSize: 28 }],
    groups: [{ name: 'r1', selector: { rack: '1' } }],
  });
  let ipam = await open(e, 'n1', v1, state, { rack: '1' });
  const before = [];
  for (let i = 0; i < 20; i++) before.push((await ipam.allocate(owner(i))).address);
  const blocks = ipam.show().local.blocks.map((b) => b.block);
  await ipam.close();
  state.freeze();
  // New network listed first, new sibling group listed first and equally matching: nothing moves.
  const v2 = cfg({
    networks: [
      { name: 'extra', cidr: '198.19.0.0/24', blockSize: 28 },
      { name: 'pods', cidr: '198.18.0.0/24', blockSize: 28 },
    ],
    groups: [
      { name: 'r0', selector: { rack: '1' }, cidrs: ['198.18.0.128/25', '198.19.0.0/24'] },
      { name: 'r1', selector: { rack: '1' } },
    ],
  });
  ipam = await open(e, 'n1', v2, state, { rack: '1' });
  t.equal(ipam.groupName, 'r1', 'node stays in the group it holds blocks in');
  t.same(
    ipam.show().local.blocks.map((b) => b.block),
    blocks,
  );
  for (let i = 0; i < 20; i++) t.equal(ipam.lookup(owner(i))?.address, before[i]);
  // New blocks of the old group avoid the new group's explicit range.
  const more = [];
  for (let i = 20; i < 120; i++) more.push(await ipam.allocate(owner(i), { network: 'pods' }));
  t.notOk(
    more.some((l) => Number(l.address.split('.')[3]) >= 128),
    'r1 never takes blocks inside r0',
  );
  await t.rejects(ipam.allocate(owner(999), { network: 'extra' }), /not one of group r1's networks|no free/);
  await ipam.close();
});

t.test('concurrent allocations on a fresh node share claimed blocks and stay distinct', async (t) => {
  const e = env();
  const ipam = await open(
    e,
    'n1',
    cfg({ networks: [{ name: 'pods', cidr: '198.18.0.0/22', blockSize: 26 }] }),
  );
  const leases = await Promise.all(Array.from({ length: 250 }, (_, i) => ipam.allocate(owner(i))));
  t.equal(new Set(leases.map((l) => l.address)).size, 250);
  t.same(ann(ipam), ['198.18.0.0/24'], '4 blocks claimed buddy-style: one /24');
  const show = ipam.show();
  t.equal(show.local.used, 250);
  t.equal(show.local.capacity, 255, '256 minus the range start');
  t.equal(show.local.usePercent, 98);
  t.same(show.nodes, [
    { node: 'n1', blocks: show.local.blocks.map((b) => b.block), announcement: ['198.18.0.0/24'] },
  ]);
  t.same(show.networks[0], {
    name: 'pods',
    cidrs: ['198.18.0.0/22'],
    blockSize: 26,
    blocksClaimed: 4,
    blocksTotal: 16,
  });
  t.same(JSON.parse(JSON.stringify(show)), show, 'JSON-friendly');
  await ipam.close();
});

t.test('IPv6 network: reserved first address and gateway, buddy aggregation', async (t) => {
  const e = env();
  const ipam = await open(
    e,
    'n6',
    cfg({ networks: [{ name: 'v6', cidr: '2001:db8:1::/120', blockSize: 124, gateway: '2001:db8:1::1' }] }),
  );
  t.same(await ipam.allocate(owner(0)), {
    address: '2001:db8:1::2',
    prefixLength: 120,
    gateway: '2001:db8:1::1',
    block: '2001:db8:1::/124',
    network: 'v6',
    group: 'default',
  });
  for (let i = 1; i < 20; i++) await ipam.allocate(owner(i));
  t.equal(ipam.lookup(owner(14))?.address, '2001:db8:1::10', 'second block after 14 in the first');
  t.same(ann(ipam), ['2001:db8:1::/123']);
  await ipam.close();
});

t.test('a saved state with bad or duplicate rows loads what is sound', async (t) => {
  const e = env();
  const state = new MemoryNodeState({
    version: 1,
    node: 'n1',
    allocations: [
      { owner: 'c1/eth0', address: '198.18.0.5', block: '198.18.0.0/29' },
      { owner: 'c2/eth0', address: '198.18.0.5', block: '198.18.0.0/29' },
      { owner: 'c3/eth0', address: '198.18.9.9', block: '198.18.0.0/29' },
      { owner: 'c4/eth0', address: 'nonsense', block: 'nonsense' },
    ],
    quarantine: [{ address: '198.18.0.6', block: '198.18.0.0/29', remainingMs: 5000 }],
  });
  const ipam = await open(e, 'n1', cfg(), state);
  t.equal(ipam.lookup({ containerId: 'c1', ifname: 'eth0' })?.address, '198.18.0.5');
  t.equal(ipam.lookup({ containerId: 'c2', ifname: 'eth0' }), undefined, 'duplicate dropped');
  t.equal(ipam.lookup({ containerId: 'c3', ifname: 'eth0' }), undefined, 'address outside its block dropped');
  t.same(
    (await e.store.list()).map((c) => c.block),
    ['198.18.0.0/29'],
    'block re-claimed from the state',
  );
  const got = [];
  for (let i = 10; i < 14; i++) got.push((await ipam.allocate(owner(i))).address);
  t.same(got, ['198.18.0.2', '198.18.0.3', '198.18.0.4', '198.18.0.7'], '.5 in use, .6 in quarantine');
  await ipam.close();
});
