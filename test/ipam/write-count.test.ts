/**
 * What one CNI ADD and one DEL cost in writes, pinned: on a node that holds its block, an ADD and a
 * DEL each save the node state once and touch the block store not at all; concurrent calls share
 * the file's writes (group commit); the file store's directory is made once, not per write, and
 * made again if it disappears while the daemon runs. The calls still answer by rejection, never a
 * synchronous throw.
 */
import { promises as fsp, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ipamSchema } from '../../src/config/ipam.js';
import { Ipam } from '../../src/ipam/ipam.js';
import { FileNodeState, MemoryNodeState, type NodeStateData } from '../../src/ipam/state.js';
import { MemoryBlockStore } from '../../src/ipam/store/memory.js';
import type { BlockClaim } from '../../src/ipam/store/types.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';

const config = ipamSchema.parse({
  networks: [{ name: 'pods', cidr: '198.18.0.0/24', blockSize: 26, gateway: '198.18.0.1' }],
  quarantine: 0,
  blockGrace: 60,
});

/** A memory block store that counts the calls that write. */
class CountingStore extends MemoryBlockStore {
  writes = 0;
  override claim(c: BlockClaim) {
    this.writes++;
    return super.claim(c);
  }
  override release(block: string, node: string) {
    this.writes++;
    return super.release(block, node);
  }
}

/** Node state kept in memory that counts its saves. */
class CountingState extends MemoryNodeState {
  saves = 0;
  override save(snapshot: () => NodeStateData): Promise<void> {
    this.saves++;
    return super.save(snapshot);
  }
}

const owner = (i: number) => ({ containerId: `c${i}`, ifname: 'eth0' });

t.test('ADD and DEL save the node state once each and leave the block store alone', async (t) => {
  const store = new CountingStore();
  const state = new CountingState();
  const ipam = await Ipam.open({
    config,
    node: { name: 'n1', labels: {} },
    store,
    clock: new ManualClock(1000),
    logger: silentLogger,
    state,
  });
  await ipam.allocate(owner(0)); // claims the first block
  const [writes, saves] = [store.writes, state.saves];
  for (let i = 1; i <= 20; i++) {
    await ipam.allocate(owner(i));
    await ipam.release(owner(i));
  }
  t.equal(state.saves - saves, 40, 'one save per ADD, one per DEL');
  t.equal(store.writes - writes, 0, 'no block store write while the block has room');
  t.same(await ipam.allocate(owner(0)), ipam.lookup(owner(0)), 'an ADD again answers the lease it has');
  t.equal(state.saves - saves, 40, '... without a save');
  t.equal(await ipam.release(owner(99)), false, 'a DEL of nothing is false');
  t.equal(state.saves - saves, 40, '... without a save');
  await ipam.close();
});

t.test('errors come back as rejections, as from an async function', async (t) => {
  const ipam = await Ipam.open({
    config,
    node: { name: 'n1', labels: {} },
    store: new MemoryBlockStore(),
    clock: new ManualClock(1000),
    logger: silentLogger,
    state: new MemoryNodeState(),
  });
  let p: Promise<unknown> | undefined;
  t.doesNotThrow(() => {
    p = ipam.allocate(owner(1), { network: 'nope' });
  });
  await t.rejects(p!, /network nope/);
  await ipam.close();
  t.doesNotThrow(() => {
    p = ipam.allocate(owner(2));
  });
  await t.rejects(p!, /ipam is closed/);
});

t.test(
  'file state: concurrent calls share writes; the directory is made once, again if removed',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'podroute-writes-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const stateDir = join(dir, 'state');
    const counts = { mkdir: 0, rename: 0 };
    const { mkdir, rename } = fsp;
    fsp.mkdir = ((...a: Parameters<typeof mkdir>) => {
      counts.mkdir++;
      return mkdir(...a);
    }) as typeof mkdir;
    fsp.rename = ((...a: Parameters<typeof rename>) => {
      counts.rename++;
      return rename(...a);
    }) as typeof rename;
    t.teardown(() => {
      fsp.mkdir = mkdir;
      fsp.rename = rename;
    });
    const state = new FileNodeState(join(stateDir, 'ipam-n1.json'));
    const ipam = await Ipam.open({
      config,
      node: { name: 'n1', labels: {} },
      store: new MemoryBlockStore(),
      clock: new ManualClock(1000),
      logger: silentLogger,
      state,
    });
    await ipam.allocate(owner(0));
    const base = { ...counts };
    await Promise.all(Array.from({ length: 16 }, (_, i) => ipam.allocate(owner(i + 1))));
    const shared = counts.rename - base.rename;
    t.ok(shared <= 2, `16 concurrent ADDs share writes (${shared})`);
    for (let i = 1; i <= 16; i++) await ipam.release(owner(i));
    t.equal(counts.rename - base.rename - shared, 16, 'each sequential DEL is one write');
    t.equal(counts.mkdir - base.mkdir, 0, 'no mkdir per write once the directory is there');
    rmSync(stateDir, { recursive: true, force: true });
    await ipam.release(owner(0));
    const saved = JSON.parse(readFileSync(join(stateDir, 'ipam-n1.json'), 'utf8')) as NodeStateData;
    t.same(saved.allocations, [], 'the removed directory is made again and the state written');
    await ipam.close();
  },
);
