/**
 * The VPC route planner: worked examples for each phase, then properties over random clusters
 * (fast-check): the budget holds, every block of a healthy node is reachable in one forwarding
 * hop or reported, no route sends a zone's pods through another zone, and one join or leave
 * changes few routes.
 */
import fc from 'fast-check';
import t from 'tap';
import { aggregate } from '../../../src/net/aggregate.js';
import { parsePrefix } from '../../../src/net/prefix.js';
import type { PlanNode } from '../../../src/routes/aws/plan-types.js';
import { planRoutes } from '../../../src/routes/aws/planner.js';
import { changes, clusterArb, node, POD_NETWORK, soundness } from './helpers.js';

const dests = (p: { routes: readonly { destination: string; node: string }[] }) =>
  p.routes.map((r) => `${r.destination} ${r.node}`);

t.test('per-node routes while they fit', async (t) => {
  const nodes = [node('a', 'z1', 's1', [0, 1]), node('b', 'z1', 's1', [4]), node('c', 'z2', 's2', [8])];
  const plan = planRoutes(nodes, { budget: 3 });
  t.same(dests(plan), ['198.19.0.0/25 a', '198.19.1.0/26 b', '198.19.2.0/26 c'], 'a: /26+/26 = one /25');
  t.same(plan.forwarders, []);
  t.same(plan.unplanned, []);
  t.same(plan.routes[0], {
    destination: '198.19.0.0/25',
    node: 'a',
    instanceId: nodes[0]!.instanceId,
    eniId: nodes[0]!.eniId,
    via: 'node',
  });
});

t.test('over budget: one aggregate per zone to a healthy forwarder; zones never mixed', async (t) => {
  const nodes = [
    node('a', 'z1', 's1', [0]),
    node('b', 'z1', 's1', [1]),
    node('c', 'z1', 's1', [2, 3]),
    node('d', 'z2', 's2', [4]),
    node('e', 'z2', 's2', [5], { healthy: false }),
  ];
  const plan = planRoutes(nodes, { budget: 2 });
  t.same(
    plan.routes.map((r) => [r.destination, r.via, r.group]),
    [
      ['198.19.0.0/24', 'forwarder', 'z1/s1'],
      ['198.19.1.0/26', 'node', undefined],
    ],
    'z1 collapsed; z2 did not need to be',
  );
  t.same(plan.unplanned, [{ block: '198.19.1.64/26', node: 'e', reason: 'node e is not healthy' }]);
  t.same(soundness(nodes, plan), []);
  // One more node in z2: now z2 needs its aggregate, and e's block rides along (same route count).
  const more = [...nodes, node('f', 'z2', 's2', [6, 7])];
  const p2 = planRoutes(more, { budget: 2 });
  t.same(
    p2.routes.map((r) => [r.destination, r.via, r.group]),
    [
      ['198.19.0.0/24', 'forwarder', 'z1/s1'],
      ['198.19.1.0/24', 'forwarder', 'z2/s2'],
    ],
  );
  t.same(p2.unplanned, []);
  t.ok(['d', 'f'].includes(p2.routes[1]!.node), 'a healthy node of z2 forwards');
  t.same(soundness(more, p2), []);
});

t.test('racks are collapsed before zones, and only as far as needed', async (t) => {
  const nodes = [
    node('a', 'z1', 's1', [0], { rack: 'r1' }),
    node('b', 'z1', 's1', [1], { rack: 'r1' }),
    node('c', 'z1', 's1', [2], { rack: 'r2' }),
    node('d', 'z1', 's1', [3], { rack: 'r2' }),
    node('e', 'z1', 's1', [9], { rack: 'r3' }),
  ];
  t.equal(planRoutes(nodes, { budget: 5 }).forwarders.length, 0);
  const four = planRoutes(nodes, { budget: 4 });
  t.same(
    four.forwarders.map((f) => [f.group, f.level]),
    [['z1/s1/r1', 'rack']],
    'one rack suffices',
  );
  const three = planRoutes(nodes, { budget: 3 });
  t.same(
    three.forwarders.map((f) => f.group),
    ['z1/s1/r1', 'z1/s1/r2'],
  );
  const two = planRoutes(nodes, { budget: 2 });
  t.same(
    two.forwarders.map((f) => [f.group, f.level]),
    [['z1/s1', 'zone']],
  );
  t.same(
    dests(two).map((d) => d.split(' ')[0]),
    ['198.19.0.0/24', '198.19.2.64/26'],
    'exact aggregate: 2 routes',
  );
  for (const p of [four, three, two]) t.same(soundness(nodes, p), []);
});

t.test('coarser aggregates inside the pod networks, never over another node’s block', async (t) => {
  // z1 holds blocks 0 and 2 (a gap at 1, unused); z2 holds block 8.
  const nodes = [node('a', 'z1', 's1', [0]), node('b', 'z1', 's1', [2]), node('c', 'z2', 's2', [8])];
  t.equal(
    planRoutes(nodes, { budget: 2 }).unplanned.length,
    1,
    'without networks: no widening, one block left out',
  );
  const plan = planRoutes(nodes, { budget: 2, networks: [POD_NETWORK] });
  t.same(
    dests(plan).map((d) => d.split(' ')[0]),
    ['198.19.0.0/24', '198.19.2.0/26'],
  );
  t.same(plan.unplanned, []);
  // With block 1 held in z2, z1's /24 would cover it and z2's blocks 1 and 8 have z1's between
  // them: nothing can be widened, and two of the four blocks do not fit.
  const blocked = [...nodes, node('d', 'z2', 's2', [1])];
  const p2 = planRoutes(blocked, { budget: 2, networks: [POD_NETWORK] });
  t.equal(p2.routes.length, 2);
  t.same(soundness(blocked, p2), []);
  t.ok(p2.unplanned.every((u) => u.reason === 'route budget 2 exhausted'));
  t.equal(p2.unplanned.length, 2);
});

t.test('what does not fit is reported; the budget is never exceeded', async (t) => {
  const nodes = [node('a', 'z1', 's1', [0]), node('b', 'z2', 's2', [4]), node('c', 'z3', 's3', [8])];
  const plan = planRoutes(nodes, { budget: 2 });
  t.equal(plan.routes.length, 2);
  t.same(plan.unplanned, [{ block: '198.19.2.0/26', node: 'c', reason: 'route budget 2 exhausted' }]);
  const none = planRoutes(nodes, { budget: 0 });
  t.same(none.routes, []);
  t.equal(none.unplanned.length, 3);
});

t.test('cross-zone groups only when allowed, and only on a shared subnet', async (t) => {
  const nodes = [node('a', 'z1', 'shared', [0]), node('b', 'z2', 'shared', [1])];
  const strict = planRoutes(nodes, { budget: 1 });
  t.equal(strict.routes.length, 1);
  t.equal(strict.unplanned.length, 1, 'without allowCrossZone one zone is left out');
  const loose = planRoutes(nodes, { budget: 1, allowCrossZone: true });
  t.same(
    dests(loose).map((d) => d.split(' ')[0]),
    ['198.19.0.0/25'],
  );
  t.same(
    loose.forwarders.map((f) => [f.group, f.level]),
    [['shared', 'subnet']],
  );
  t.same(soundness(nodes, loose, true), []);
});

t.test('unhealthy nodes, overlapping blocks', async (t) => {
  const nodes = [
    node('a', 'z1', 's1', [0]),
    node('b', 'z1', 's1', [4], { healthy: false }),
    { ...node('c', 'z1', 's1', []), blocks: [parsePrefix('198.19.0.0/25')] },
  ];
  const plan = planRoutes(nodes, { budget: 10 });
  t.same(plan.routes, []);
  t.same(
    plan.unplanned.map((u) => `${u.block} ${u.node}: ${u.reason}`),
    [
      '198.19.0.0/25 c: overlaps block 198.19.0.0/26 of node a',
      '198.19.0.0/26 a: overlaps block 198.19.0.0/25 of node c',
      '198.19.1.0/26 b: node b is not healthy',
    ],
  );
});

t.test('forwarders stay put across re-plans; a dead forwarder is replaced', async (t) => {
  const nodes = [0, 1, 2, 3].map((i) => node(`n${i}`, 'z1', 's1', [i]));
  const first = planRoutes(nodes, { budget: 1 });
  const fw = first.forwarders[0]!.node;
  const joined = [...nodes, node('n9', 'z1', 's1', [4])];
  const second = planRoutes(joined, { budget: 1, previous: first });
  t.equal(second.forwarders[0]!.node, fw, 'a join keeps the forwarder');
  const dead = joined.map((n) => (n.name === fw ? { ...n, healthy: false } : n));
  const third = planRoutes(dead, { budget: 1, previous: second });
  t.not(third.forwarders[0]!.node, fw);
  t.same(soundness(dead, third), []);
});

t.test('hysteresis: a cluster at the threshold does not flap', async (t) => {
  const nodes = Array.from({ length: 21 }, (_, i) =>
    node(`n${i}`, 'z1', 's1', [i], { rack: `r${Math.floor(i / 8)}` }),
  );
  const over = planRoutes(nodes, { budget: 20 });
  t.ok(over.forwarders.length > 0);
  const back = planRoutes(nodes.slice(0, 20), { budget: 20, previous: over });
  t.ok(back.forwarders.length > 0, 'one leave at the threshold keeps the aggregate');
  const far = planRoutes(nodes.slice(0, 15), { budget: 20, previous: back });
  t.same(far.forwarders, [], 'with room to spare, per-node routes again');
});

// ===== properties =====

const budgetArb = fc.integer({ min: 0, max: 60 });

t.test('property: never more routes than the budget; sound; reports what it leaves out', async (t) => {
  fc.assert(
    fc.property(clusterArb, budgetArb, fc.boolean(), (nodes, budget, cross) => {
      const plan = planRoutes(nodes, { budget, allowCrossZone: cross, networks: [POD_NETWORK] });
      if (plan.routes.length > budget) return false;
      const problems = soundness(nodes, plan, cross);
      if (problems.length > 0) throw new Error(problems.join('\n'));
      // Something left out for the budget only when the budget is used up.
      if (plan.unplanned.some((u) => u.reason.startsWith('route budget')) && plan.routes.length !== budget)
        throw new Error(`left blocks out with ${plan.routes.length}/${budget} routes used`);
      // When every zone group fits as one exact aggregate, nothing is left out for the budget.
      const zones = new Map<string, PlanNode[]>();
      for (const n of nodes)
        zones.set(`${n.zone}/${n.subnet}`, [...(zones.get(`${n.zone}/${n.subnet}`) ?? []), n]);
      const minimal = [...zones.values()]
        .filter((g) => g.some((n) => n.healthy))
        .reduce((s, g) => s + aggregate(g.flatMap((n) => n.blocks)).length, 0);
      if (budget >= minimal && plan.unplanned.some((u) => u.reason.startsWith('route budget')))
        throw new Error(`budget ${budget} >= ${minimal} yet blocks were left out`);
      return true;
    }),
    { numRuns: 400 },
  );
  t.pass('400 random clusters');
});

t.test('property: one join or leave changes few routes', async (t) => {
  fc.assert(
    fc.property(clusterArb, budgetArb, fc.nat(), fc.boolean(), (nodes, budget, pick, join) => {
      const opts = { budget, networks: [POD_NETWORK] };
      const before = planRoutes(nodes, opts);
      let after: ReturnType<typeof planRoutes>;
      let changed: PlanNode;
      if (join) {
        const model = nodes[pick % nodes.length]!;
        changed = node('joiner', model.zone, model.subnet, [1000], { rack: model.rack });
        after = planRoutes([...nodes, changed], { ...opts, previous: before });
      } else {
        changed = nodes[pick % nodes.length]!;
        after = planRoutes(
          nodes.filter((n) => n !== changed),
          { ...opts, previous: before },
        );
      }
      // The changed node's own routes, plus one group going to or from one aggregate (its nodes'
      // routes and the aggregate's), plus a forwarder's routes when the forwarder left.
      const groupOf = (n: PlanNode) => nodes.filter((m) => m.subnet === n.subnet && m.zone === n.zone);
      const largest = Math.max(...nodes.map((n) => groupOf(n).reduce((s, m) => s + m.blocks.length, 0)));
      const bound = changed.blocks.length + 2 * largest + 2;
      const n = changes(before, after);
      if (n > bound) throw new Error(`${join ? 'join' : 'leave'} changed ${n} routes (bound ${bound})`);
      return true;
    }),
    { numRuns: 400 },
  );
  t.pass('400 joins and leaves');
});
