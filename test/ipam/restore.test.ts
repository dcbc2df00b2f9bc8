/**
 * The restore planner as a table: store claims and saved node state in, the plan out (blocks to
 * hold with their taken offsets, live addresses, quarantine in expiry order, blocks to claim
 * again, dropped rows with their reason, blocks that fit no network any more).
 */
import t from 'tap';
import { ipamSchema } from '../../src/config/ipam.js';
import { AddressPool, HeldBlock } from '../../src/ipam/allocator.js';
import { applyRestore, planRestore, type RestoreInput, type RestorePlan } from '../../src/ipam/restore.js';
import type { NodeStateData } from '../../src/ipam/state.js';
import type { BlockClaim } from '../../src/ipam/store/types.js';
import { Topology } from '../../src/ipam/topology.js';

// pods: 198.18.0.0/24 in /29 blocks, .0 and .255 and the gateway .1 never handed out.
// wide: 198.18.1.0/24 in /28 blocks.
const topology = Topology.build(
  ipamSchema.parse({
    networks: [
      { name: 'pods', cidr: '198.18.0.0/24', blockSize: 29, gateway: '198.18.0.1' },
      { name: 'wide', cidr: '198.18.1.0/24', blockSize: 28 },
    ],
  }),
);

const claim = (block: string, network = 'pods'): BlockClaim => ({
  block,
  node: 'n1',
  group: 'default',
  network,
  claimId: `id-${block}`,
});

const state = (
  allocations: [owner: string, address: string, block: string][],
  quarantine: [address: string, block: string, remainingMs: number][] = [],
): NodeStateData => ({
  version: 1,
  node: 'n1',
  allocations: allocations.map(([owner, address, block]) => ({ owner, address, block })),
  quarantine: quarantine.map(([address, block, remainingMs]) => ({ address, block, remainingMs })),
});

/** A plan in one line per part, so the table reads like the plan. */
function summary(p: RestorePlan) {
  return {
    reclaim: p.reclaim.map((r) => `${r.block} ${r.network}`),
    blocks: p.blocks.map(
      (b) => `${b.block} ${b.network.name} [${[...b.exclude].sort((x, y) => x - y).join(',')}]`,
    ),
    live: p.live.map((l) => `${l.owner} ${l.block} +${l.offset}`),
    quarantine: p.quarantine.map((q) => `${q.block} +${q.offset} ${q.remainingMs}ms`),
    dropped: p.dropped.map((d) => `${d.reason} ${d.address}${d.holder ? ` (${d.holder})` : ''}`),
    unfit: [...p.unfit],
  };
}

const none = { reclaim: [], blocks: [], live: [], quarantine: [], dropped: [], unfit: [] };

const cases: { name: string; input: Omit<RestoreInput, 'topology'>; want: ReturnType<typeof summary> }[] = [
  { name: 'a fresh node: nothing to restore', input: { mine: [], saved: undefined }, want: none },
  {
    name: 'claims but no saved state (state file lost): blocks held, empty',
    input: { mine: [claim('198.18.0.8/29'), claim('198.18.0.16/29')], saved: undefined },
    want: { ...none, blocks: ['198.18.0.8/29 pods []', '198.18.0.16/29 pods []'] },
  },
  {
    name: 'allocations and quarantine in a claimed block; quarantine in expiry order',
    input: {
      mine: [claim('198.18.0.0/29')],
      saved: state(
        [
          ['c1/eth0', '198.18.0.2', '198.18.0.0/29'],
          ['c2/eth0', '198.18.0.4', '198.18.0.0/29'],
        ],
        [
          ['198.18.0.5', '198.18.0.0/29', 9000],
          ['198.18.0.3', '198.18.0.0/29', 1000],
        ],
      ),
    },
    want: {
      ...none,
      blocks: ['198.18.0.0/29 pods [2,3,4,5]'],
      live: ['c1/eth0 198.18.0.0/29 +2', 'c2/eth0 198.18.0.0/29 +4'],
      quarantine: ['198.18.0.0/29 +3 1000ms', '198.18.0.0/29 +5 9000ms'],
    },
  },
  {
    name: 'the store lost a claim the state needs: claim it again, once per block',
    input: {
      mine: [claim('198.18.0.0/29')],
      saved: state([
        ['c1/eth0', '198.18.0.10', '198.18.0.8/29'],
        ['c2/eth0', '198.18.0.11', '198.18.0.8/29'],
        ['c3/eth0', '198.18.1.3', '198.18.1.0/28'],
      ]),
    },
    want: {
      ...none,
      reclaim: ['198.18.0.8/29 pods', '198.18.1.0/28 wide'],
      blocks: ['198.18.0.0/29 pods []', '198.18.0.8/29 pods [2,3]', '198.18.1.0/28 wide [3]'],
      live: ['c1/eth0 198.18.0.8/29 +2', 'c2/eth0 198.18.0.8/29 +3', 'c3/eth0 198.18.1.0/28 +3'],
    },
  },
  {
    name: 'second pass: the claim-again succeeded for one block, another node holds the other',
    input: {
      mine: [claim('198.18.0.0/29'), claim('198.18.1.0/28', 'wide')],
      refused: new Map([['198.18.0.8/29', 'n2']]),
      saved: state(
        [
          ['c1/eth0', '198.18.0.10', '198.18.0.8/29'],
          ['c3/eth0', '198.18.1.3', '198.18.1.0/28'],
        ],
        [['198.18.0.12', '198.18.0.8/29', 500]],
      ),
    },
    want: {
      ...none,
      blocks: ['198.18.0.0/29 pods []', '198.18.1.0/28 wide [3]'],
      live: ['c3/eth0 198.18.1.0/28 +3'],
      dropped: ['held 198.18.0.10 (n2)', 'held 198.18.0.12 (n2)'],
    },
  },
  {
    name: 'bad rows: duplicate address, address outside its block, unparsable, no network',
    input: {
      mine: [claim('198.18.0.0/29')],
      saved: state(
        [
          ['c1/eth0', '198.18.0.5', '198.18.0.0/29'],
          ['c2/eth0', '198.18.0.5', '198.18.0.0/29'],
          ['c3/eth0', '198.18.9.9', '198.18.0.0/29'],
          ['c4/eth0', 'nonsense', 'nonsense'],
          ['c5/eth0', '198.19.0.2', '198.19.0.0/29'],
        ],
        [['198.18.0.5', '198.18.0.0/29', 100]],
      ),
    },
    want: {
      ...none,
      blocks: ['198.18.0.0/29 pods [5]'],
      live: ['c1/eth0 198.18.0.0/29 +5'],
      dropped: [
        'invalid 198.18.0.5',
        'invalid 198.18.9.9',
        'invalid nonsense',
        'no-network 198.19.0.2',
        'invalid 198.18.0.5',
      ],
    },
  },
  {
    name: 'a held block no longer fits its network (block size changed): left claimed, unused',
    input: {
      mine: [claim('198.18.1.0/29', 'wide')],
      saved: state([['c1/eth0', '198.18.1.2', '198.18.1.0/29']], [['198.18.1.3', '198.18.1.0/29', 100]]),
    },
    want: { ...none, dropped: ['unusable 198.18.1.2'], unfit: ['198.18.1.0/29'] },
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    t.same(summary(planRestore({ topology, ...c.input })), c.want);
  });
}

t.test('planning twice with the claim-again outcome needs no more claims', async (t) => {
  const saved = state([['c1/eth0', '198.18.0.10', '198.18.0.8/29']]);
  const first = planRestore({ topology, mine: [], saved });
  t.same(first.reclaim, [{ block: '198.18.0.8/29', network: 'pods' }]);
  const second = planRestore({ topology, mine: [claim('198.18.0.8/29')], saved });
  t.same(second.reclaim, []);
  t.same(summary(second), { ...summary(first), reclaim: [] }, 'same plan once the claim exists');
});

t.test('applying a plan: addresses taken, quarantine restarts from now, never below zero', async (t) => {
  const plan = planRestore({
    topology,
    mine: [claim('198.18.0.0/29')],
    saved: state([['c1/eth0', '198.18.0.2', '198.18.0.0/29']], [['198.18.0.3', '198.18.0.0/29', -50]]),
  });
  const pool = new AddressPool(10_000);
  const held = applyRestore(plan, pool, 1000);
  t.equal(held.length, 1);
  t.ok(held[0] instanceof HeldBlock);
  t.equal(pool.get('c1/eth0')?.address, '198.18.0.2');
  t.equal(pool.nextExpiry(), 1000, 'an overdue quarantine entry is over at once');
  t.same(
    [0, 1, 2, 3].map((i) => pool.allocate(`n${i}`, 'pods', 1000)?.address),
    ['198.18.0.4', '198.18.0.5', '198.18.0.6', '198.18.0.7'],
    '.3 comes back last, after its quarantine',
  );
});
