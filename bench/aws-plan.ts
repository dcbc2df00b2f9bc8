/**
 * VPC route planner benchmark: a 5,000-node cluster in 3 zones must plan in under a second.
 *
 *   npx tsx bench/aws-plan.ts [runs per case, default 15]
 *
 * The cluster: 3 zones, one node subnet each, 25 IPAM groups (racks) per zone, 5,000 nodes, one
 * /28 pod block per node and a second one for every fourth node (6,250 blocks of 198.18.0.0/15),
 * carved topology-aware as the IPAM does (each rack draws from its own range). Cases: the default
 * budget of 50 routes from nothing; a re-plan with the previous plan after one node joins and
 * after one leaves (with the routes that changed); 5% of the nodes unhealthy; the largest quota
 * (1,000); and a budget too small for the zones (what is left out is reported). Times are the
 * median and maximum of the runs, wall clock, one call of the pure planner each.
 */
import { fromBigInt, makePrefix, type Prefix, parsePrefix, toBigInt } from '../src/net/prefix.js';
import type { Plan, PlanNode, PlanOptions } from '../src/routes/aws/plan-types.js';
import { planRoutes } from '../src/routes/aws/planner.js';

const runs = Number(process.argv[2] ?? 15);
const NETWORK = parsePrefix('198.18.0.0/15');
const ZONES = 3;
const RACKS = 25;
const NODES = 5000;
const BLOCK = 28;
const BASE = toBigInt(NETWORK.bytes);
const PER_RACK = 2 ** (32 - 15 - (32 - BLOCK)) / (ZONES * RACKS); // blocks of room per rack

function cluster(): PlanNode[] {
  const used = new Map<string, number>();
  const out: PlanNode[] = [];
  for (let i = 0; i < NODES; i++) {
    const zone = i % ZONES;
    const rack = Math.floor(i / ZONES) % RACKS;
    const key = `${zone}/${rack}`;
    const blocks: Prefix[] = [];
    for (let b = 0; b < (i % 4 === 0 ? 2 : 1); b++) {
      const n = used.get(key) ?? 0;
      used.set(key, n + 1);
      const index = (zone * RACKS + rack) * Math.floor(PER_RACK) + n;
      blocks.push(makePrefix(fromBigInt(BASE + BigInt(index) * 16n, 4), BLOCK));
    }
    const hex = i.toString(16).padStart(8, '0');
    out.push({
      name: `node-${String(i).padStart(4, '0')}`,
      zone: `eu-west-1${'abc'[zone]}`,
      subnet: `subnet-${zone}`,
      rack: `rack-${rack}`,
      instanceId: `i-${hex}`,
      eniId: `eni-${hex}`,
      blocks,
      healthy: true,
    });
  }
  return out;
}

function changed(a: Plan, b: Plan): number {
  const ma = new Map(a.routes.map((r) => [r.destination, r.eniId]));
  const mb = new Map(b.routes.map((r) => [r.destination, r.eniId]));
  let n = 0;
  for (const [d, e] of ma) if (mb.get(d) !== e) n++;
  for (const d of mb.keys()) if (!ma.has(d)) n++;
  return n;
}

function bench(name: string, nodes: PlanNode[], opts: PlanOptions, before?: Plan): Plan {
  const times: number[] = [];
  let plan: Plan | undefined;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    plan = planRoutes(nodes, opts);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const p = plan!;
  const cells = [
    name.padEnd(38),
    String(opts.budget).padStart(6),
    String(p.routes.length).padStart(6),
    String(p.forwarders.length).padStart(10),
    String(p.unplanned.length).padStart(9),
    (before ? String(changed(before, p)) : '-').padStart(7),
    times[Math.floor(times.length / 2)]!.toFixed(1).padStart(9),
    times[times.length - 1]!.toFixed(1).padStart(8),
  ];
  console.log(`| ${cells.join(' | ')} |`);
  return p;
}

const nodes = cluster();
const blocks = nodes.reduce((n, x) => n + x.blocks.length, 0);
console.log(
  `${NODES} nodes, ${ZONES} zones, ${ZONES * RACKS} racks, ${blocks} /${BLOCK} blocks; node ${process.version}; ${runs} runs per case`,
);
console.log(
  '| case                                   | budget | routes | forwarders | unplanned | changed | median ms | max ms |',
);
console.log(
  '| -------------------------------------- | -----: | -----: | ---------: | --------: | ------: | --------: | -----: |',
);
const base = { networks: [NETWORK] };
const first = bench('budget 50, from nothing', nodes, { ...base, budget: 50 });
const joiner: PlanNode = {
  ...nodes[7]!,
  name: 'node-joiner',
  instanceId: 'i-ffffffff',
  eniId: 'eni-ffffffff',
  // The last free block of its own rack's range (node 7: zone 1, rack 2).
  blocks: [
    makePrefix(fromBigInt(BASE + BigInt((1 * RACKS + 2 + 1) * Math.floor(PER_RACK) - 1) * 16n, 4), BLOCK),
  ],
};
bench(
  'one node joins (previous plan given)',
  [...nodes, joiner],
  { ...base, budget: 50, previous: first },
  first,
);
const fw = first.forwarders[0]!.node;
bench(
  'its forwarder leaves (previous plan)',
  nodes.filter((n) => n.name !== fw),
  { ...base, budget: 50, previous: first },
  first,
);
bench(
  '5% unhealthy',
  nodes.map((n, i) => (i % 20 === 0 ? { ...n, healthy: false } : n)),
  { ...base, budget: 50 },
);
bench('budget 1000 (largest quota)', nodes, { ...base, budget: 1000 });
bench('budget 2 (too small for 3 zones)', nodes, { ...base, budget: 2 });
