/** Shared by the AWS planner tests: node factories and the checks the properties assert. */
import fc from 'fast-check';
import {
  formatPrefix,
  fromBigInt,
  makePrefix,
  type Prefix,
  parsePrefix,
  prefixContains,
  toBigInt,
} from '../../../src/net/prefix.js';
import type { Plan, PlanNode } from '../../../src/routes/aws/plan-types.js';

/** Pod blocks are /26s of 198.19.0.0/16 (test addressing). */
export const POD_NETWORK = parsePrefix('198.19.0.0/16');
const BASE = toBigInt(POD_NETWORK.bytes);

export function block(index: number): Prefix {
  return makePrefix(fromBigInt(BASE + BigInt(index) * 64n, 4), 26);
}

let serial = 0;
export function node(
  name: string,
  zone: string,
  subnet: string,
  blocks: number[],
  extra: Partial<PlanNode> = {},
): PlanNode {
  serial++;
  const hex = serial.toString(16).padStart(8, '0');
  return {
    name,
    zone,
    subnet,
    instanceId: `i-${hex}`,
    eniId: `eni-${hex}`,
    blocks: blocks.map(block),
    healthy: true,
    ...extra,
  };
}

/**
 * Random clusters: 1..3 zones, 1..2 subnets per zone, optional racks; blocks either topology-aware
 * (each rack/zone draws from its own range, as the IPAM carves) or scattered.
 */
export const clusterArb = fc
  .record({
    zones: fc.integer({ min: 1, max: 3 }),
    subnetsPerZone: fc.integer({ min: 1, max: 2 }),
    racks: fc.integer({ min: 0, max: 3 }),
    scattered: fc.boolean(),
    nodes: fc.array(
      fc.record({
        zone: fc.nat(),
        subnet: fc.nat(),
        rack: fc.nat(),
        blocks: fc.integer({ min: 0, max: 2 }),
        healthy: fc.integer({ min: 0, max: 9 }).map((h) => h > 0),
      }),
      { minLength: 1, maxLength: 40 },
    ),
  })
  .map((c) => {
    const used = new Set<number>();
    const next = new Map<string, number>();
    let scatter = 7;
    return c.nodes.map((n, i) => {
      const zone = `z${n.zone % c.zones}`;
      const subnet = `subnet-${zone}-${n.subnet % c.subnetsPerZone}`;
      const rack = c.racks > 0 ? `r${n.rack % c.racks}` : undefined;
      const groupKey = `${subnet}/${rack ?? ''}`;
      const blocks: number[] = [];
      for (let b = 0; b < n.blocks; b++) {
        let idx: number;
        if (c.scattered) {
          do scatter = (scatter * 37 + 11) % 1024;
          while (used.has(scatter));
          idx = scatter;
        } else {
          // 64 blocks per group: group number from the key's first use.
          if (!next.has(groupKey)) next.set(groupKey, next.size * 64);
          idx = next.get(groupKey)!;
          next.set(groupKey, idx + 1);
        }
        used.add(idx);
        blocks.push(idx);
      }
      return node(`n${String(i).padStart(2, '0')}`, zone, subnet, blocks, { rack, healthy: n.healthy });
    });
  });

/** The route longest-prefix match picks for `b`, if any. */
export function lookup(plan: Plan, b: Prefix): Plan['routes'][number] | undefined {
  let best: Plan['routes'][number] | undefined;
  let bestLen = -1;
  for (const r of plan.routes) {
    const p = parsePrefix(r.destination);
    if (prefixContains(p, b) && p.length > bestLen) {
      best = r;
      bestLen = p.length;
    }
  }
  return best;
}

/** Problems with reachability, hops and zones; empty when the plan is sound. */
export function soundness(nodes: readonly PlanNode[], plan: Plan, allowCrossZone = false): string[] {
  const problems: string[] = [];
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const fw = new Map(plan.forwarders.map((f) => [f.group, f]));
  const unplanned = new Set(plan.unplanned.map((u) => `${u.node} ${u.block}`));
  for (const n of nodes) {
    for (const b of n.blocks) {
      const r = lookup(plan, b);
      const id = `${n.name} ${formatPrefix(b)}`;
      if (r) {
        const t = byName.get(r.node)!;
        if (!t.healthy) problems.push(`${id}: routed to unhealthy ${t.name}`);
        if (t.eniId !== r.eniId || t.instanceId !== r.instanceId)
          problems.push(`${id}: wrong ENI/instance for ${t.name}`);
        if (r.node !== n.name) {
          // One hop: the target is a forwarder for n, on n's subnet.
          const f = r.group === undefined ? undefined : fw.get(r.group);
          if (r.via !== 'forwarder' || !f || f.node !== r.node || !f.for.includes(n.name))
            problems.push(`${id}: routed to ${r.node}, which does not forward for it`);
          if (t.subnet !== n.subnet) problems.push(`${id}: forwarder ${t.name} is on another subnet`);
          if (!allowCrossZone && t.zone !== n.zone)
            problems.push(`${id}: forwarder ${t.name} is in another zone`);
        }
      } else if (n.healthy && !unplanned.has(id)) problems.push(`${id}: unreachable and not reported`);
    }
  }
  return problems;
}

/** Destinations added, removed or retargeted between two plans. */
export function changes(a: Plan, b: Plan): number {
  const ma = new Map(a.routes.map((r) => [r.destination, r.eniId]));
  const mb = new Map(b.routes.map((r) => [r.destination, r.eniId]));
  let n = 0;
  for (const [d, e] of ma) if (mb.get(d) !== e) n++;
  for (const d of mb.keys()) if (!ma.has(d)) n++;
  return n;
}
