/** IPAM's side of CNI 1.1 GC (SPEC.md "GC"): what is not listed is released as DEL releases it. */
import t from 'tap';
import { ipamSchema } from '../../src/config/ipam.js';
import { Ipam } from '../../src/ipam/ipam.js';
import { MemoryNodeState } from '../../src/ipam/state.js';
import { MemoryBlockStore } from '../../src/ipam/store/memory.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';

async function open(quarantine: number) {
  const clock = new ManualClock(1000);
  const state = new MemoryNodeState();
  const ipam = await Ipam.open({
    config: ipamSchema.parse({
      networks: [{ name: 'pods', cidr: '198.18.0.0/24', blockSize: 29 }],
      quarantine,
      blockGrace: 60,
    }),
    node: { name: 'n1', labels: {} },
    store: new MemoryBlockStore(),
    clock,
    logger: silentLogger,
    state,
  });
  return { ipam, clock, state };
}

const o = (containerId: string, ifname = 'eth0') => ({ containerId, ifname });

t.test('GC releases every allocation whose attachment is not listed, and only those', async (t) => {
  const { ipam, state } = await open(10);
  t.teardown(() => ipam.close());
  const held = [o('c1'), o('c2'), o('c2', 'net1'), o('c3')];
  const addr = new Map<string, string>();
  for (const w of held) addr.set(`${w.containerId}/${w.ifname}`, (await ipam.allocate(w)).address);

  const released = await ipam.gc([o('c1'), o('c2'), o('gone-long-ago')]);
  t.same(
    released.sort((a, b) => `${a.containerId}${a.ifname}`.localeCompare(`${b.containerId}${b.ifname}`)),
    [o('c2', 'net1'), o('c3')],
    'an attachment is container id and ifname: c2/net1 goes though c2/eth0 stays',
  );
  t.equal(ipam.lookup(o('c1'))?.address, addr.get('c1/eth0'));
  t.equal(ipam.lookup(o('c2'))?.address, addr.get('c2/eth0'));
  t.equal(ipam.lookup(o('c3')), undefined);
  t.equal(ipam.lookup(o('c2', 'net1')), undefined);
  t.same(
    (await state.load())?.allocations.map((a) => a.owner).sort(),
    ['c1/eth0', 'c2/eth0'],
    'the release is saved',
  );

  // Released addresses wait out the quarantine like DEL's.
  const next = await ipam.allocate(o('c4'));
  t.notOk([addr.get('c3/eth0'), addr.get('c2/net1')].includes(next.address), 'no quarantined reuse');
  t.same(await ipam.gc([o('c1'), o('c2'), o('c4')]), [], 'nothing stale: nothing released');
  t.same(await ipam.release(o('c3')), false, 'DEL after GC still succeeds (nothing to free)');
});

t.test('GC with an empty list releases everything; the emptied block can be given back', async (t) => {
  const { ipam, clock } = await open(0);
  t.teardown(() => ipam.close());
  for (let i = 0; i < 3; i++) await ipam.allocate(o(`c${i}`));
  t.equal(ipam.announcement().length, 1);
  t.equal((await ipam.gc([])).length, 3);
  clock.advance(61_000);
  await new Promise((r) => setImmediate(r));
  t.same(ipam.announcement(), [], 'the empty block went back after its grace');
});
