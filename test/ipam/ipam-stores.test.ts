/**
 * The Ipam facade over the real stores: two nodes sharing a file store (two store clients, as two
 * processes would) and over a real etcd; each sees the other's blocks through the store's watch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { interopGate, Lab, startEtcd } from '../../lab/fixture/index.js';
import { ipamSchema } from '../../src/config/ipam.js';
import { Ipam } from '../../src/ipam/ipam.js';
import { FileNodeState } from '../../src/ipam/state.js';
import { openStore } from '../../src/ipam/store/open.js';
import type { BlockStore } from '../../src/ipam/store/types.js';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { formatPrefix } from '../../src/net/prefix.js';

// A real etcd needs the tool and root (the lab fixture); without them the etcd case skips, under CI=true it fails.
const gate = interopGate(['etcd']);

const owner = (i: number) => ({ containerId: `c${i}`, ifname: 'eth0' });

async function until(what: string, fn: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function twoNodes(t: Test, storeUrl: string, etcd?: Record<string, unknown>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'podroute-ipam-'));
  const config = ipamSchema.parse({
    store: storeUrl,
    ...(etcd ? { etcd } : {}),
    stateDir: dir,
    networks: [{ name: 'pods', cidr: '198.18.0.0/20', blockSize: 26 }],
    groups: [
      { name: 'rack-1', selector: { rack: '1' }, cidrs: ['198.18.0.0/21'] },
      { name: 'rack-2', selector: { rack: '2' }, cidrs: ['198.18.8.0/21'] },
    ],
  });
  const stores: BlockStore[] = [];
  const ipams: Ipam[] = [];
  t.teardown(async () => {
    for (const i of ipams) await i.close();
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const node = async (name: string, rack: string): Promise<Ipam> => {
    const store = await openStore(config, silentLogger);
    stores.push(store);
    const ipam = await Ipam.open({
      config,
      node: { name, labels: { rack } },
      store,
      clock: systemClock,
      logger: silentLogger,
    });
    ipams.push(ipam);
    return ipam;
  };
  const a = await node('a', '1');
  const b = await node('b', '2');
  let aSaw = 0;
  a.onChange(() => aSaw++);
  for (let i = 0; i < 100; i++) await a.allocate(owner(i));
  t.same(a.announcement().map(formatPrefix), ['198.18.0.0/25'], 'two /26 buddies: one /25');
  await b.allocate(owner(0));
  t.same(b.announcement().map(formatPrefix), ['198.18.8.0/26']);
  await until('a sees b', () => a.blocksByNode().has('b'));
  t.ok(aSaw >= 1, 'a was told');
  t.same(
    [...a.blocksByNode()].map(([n, ps]) => [n, ps.map(formatPrefix)]),
    [
      ['a', ['198.18.0.0/26', '198.18.0.64/26']],
      ['b', ['198.18.8.0/26']],
    ],
  );
  // Restart node a: same addresses from its state file, same blocks from the store.
  const before = (await a.allocate(owner(42))).address;
  await a.close();
  ipams.splice(ipams.indexOf(a), 1);
  const a2 = await node('a', '1');
  t.equal((await a2.allocate(owner(42))).address, before);
  const saved = await new FileNodeState(join(dir, 'ipam-a.json')).load();
  t.equal(saved?.allocations.find((x) => x.owner === 'c42/eth0')?.address, before, 'state file in stateDir');
  t.same(a2.announcement().map(formatPrefix), ['198.18.0.0/25']);
  await t.rejects(b.releaseNode('a'), /still looks alive/);
}

t.test('file store', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podroute-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await twoNodes(t, `file://${join(dir, 'ipam.json')}`);
});

t.test('etcd store', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const etcd = await startEtcd(lab);
  await twoNodes(t, `etcd://127.0.0.1:${etcd.clientPort}`, { prefix: '/podroute-ipam-it', leaseTtl: 5 });
});
