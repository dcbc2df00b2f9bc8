/**
 * VPC route planner: a pure function from the nodes and a route budget to the routes every
 * route table of the cluster's subnets should hold. A VPC route table holds 50 routes by default
 * (1,000 at most), so one route per node stops at 50 nodes; this planner never exceeds the
 * budget and says which blocks it could not fit instead of failing.
 *
 * Algorithm (each phase runs only while the plan is over budget, except A and C):
 *   0. Blocks that overlap another node's block are never routed (reported). Each healthy node
 *      starts as its own unit: the exact aggregate of its blocks (net/aggregate), one route per
 *      prefix, targeted at the node.
 *   A. Groups that were collapsed in the previous plan are collapsed again (stability).
 *   B. Collapse more groups (topology.ts: rack, then zone, then, if allowed, a subnet across
 *      zones): a collapsed group is one unit whose routes are the exact aggregate of its members'
 *      blocks, targeted at one healthy forwarder of the group, which reaches the other members
 *      over their shared subnet (one forwarding hop). Order: deeper level first, then the group
 *      saving most routes, then key.
 *   C. Hysteresis: a group kept from the previous plan is opened again (its nodes back to routes of
 *      their own) only if the plan then still leaves a tenth of the budget free, so a cluster at
 *      the threshold does not flap between per-node routes and aggregates at every join/leave.
 *   D. Coarser aggregates (widen.ts; only with pod networks given): two prefixes of one unit become
 *      their smallest common supernet when it lies inside a pod network and covers no block of any
 *      node outside the unit (longest-prefix match still sends every other block to its own
 *      target). First single merges inside the units as they stand (a route of the previous plan
 *      first, then the smallest supernet) until the plan fits; if it still does not, the groups
 *      still open are offered their widest aggregate and phase B runs again.
 *   E. Still over: drop the routes that cover the fewest blocks (a route of the previous plan
 *      wins a tie); their blocks are reported as `unplanned`.
 * Forwarders: the previous forwarder of the group if still a healthy member, else a previous
 * forwarder that is a member (its ENI already forwards), else the member with the highest
 * rendezvous hash of (group, node) — so a node joining moves a forwarder only rarely.
 *
 * Routes never cross an availability zone for blocks of another zone: a group lies in one zone
 * (unless `allowCrossZone`) and a widened route covers no foreign block.
 */
import { aggregate } from '../../net/aggregate.js';
import {
  comparePrefix,
  formatPrefix,
  type Prefix,
  parsePrefix,
  prefixContains,
  prefixesOverlap,
} from '../../net/prefix.js';
import type { Plan, PlanNode, PlannedForwarder, PlannedRoute, PlanOptions, Unplanned } from './plan-types.js';
import { buildGroups, type Group, type NodeEntry, type Unit } from './topology.js';
import { Widener } from './widen.js';

interface GroupState {
  collapsed: boolean;
  /** Routes the subtree uses now. */
  cost: number;
  /** Routes when collapsed (undefined: no healthy member, cannot be collapsed). */
  collapsedRoutes: Prefix[] | undefined;
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function planRoutes(nodes: readonly PlanNode[], options: PlanOptions): Plan {
  const budget = Math.max(0, Math.floor(options.budget));
  const unplanned: Unplanned[] = [];
  const entries = validEntries(nodes, unplanned);
  const groups = buildGroups(entries, options.allowCrossZone === true);
  const own = new Map<NodeEntry, Prefix[]>(
    entries.map((e) => [e, e.node.healthy ? aggregate(e.blocks) : []]),
  );
  const state = new Map<Group, GroupState>();
  for (const g of groups) state.set(g, { collapsed: false, cost: 0, collapsedRoutes: groupRoutes(g) });
  const st = (g: Group): GroupState => state.get(g)!;

  const recompute = (g: Group): void => {
    const s = st(g);
    s.cost = s.collapsed
      ? s.collapsedRoutes!.length
      : g.children.reduce((n, c) => n + st(c).cost, 0) + g.direct.reduce((n, e) => n + own.get(e)!.length, 0);
  };
  const subtree = (g: Group, fn: (x: Group) => void): void => {
    for (const c of g.children) subtree(c, fn);
    fn(g);
  };
  const upwards = (g: Group | undefined): void => {
    for (let x = g; x; x = x.parent) recompute(x);
  };
  const roots = groups.filter((g) => !g.parent);
  const total = (): number => roots.reduce((n, g) => n + st(g).cost, 0);
  const coveredByCollapsed = (g: Group): boolean => {
    for (let x = g.parent; x; x = x.parent) if (st(x).collapsed) return true;
    return false;
  };
  const setCollapsed = (g: Group, on: boolean): void => {
    subtree(g, (x) => {
      st(x).collapsed = false;
      recompute(x);
    });
    st(g).collapsed = on;
    upwards(g);
  };
  for (const g of [...groups].sort((a, b) => a.depth - b.depth)) subtree(g, recompute);

  // A. The previous plan's groups, where still possible.
  const previousGroups = new Map((options.previous?.forwarders ?? []).map((f) => [f.group, f.node]));
  const kept: Group[] = [];
  for (const g of [...groups].sort((a, b) => a.depth - b.depth)) {
    if (previousGroups.has(g.key) && st(g).collapsedRoutes && !coveredByCollapsed(g)) {
      setCollapsed(g, true);
      kept.push(g);
    }
  }
  // B. Collapse more while over budget.
  const collapseWhileOver = (): void => {
    while (total() > budget) {
      let best: Group | undefined;
      let bestSaving = 0;
      for (const g of groups) {
        const s = st(g);
        if (s.collapsed || !s.collapsedRoutes || coveredByCollapsed(g)) continue;
        const saving = s.cost - s.collapsedRoutes.length;
        if (saving <= 0) continue;
        if (!best || g.depth > best.depth || (g.depth === best.depth && saving > bestSaving)) {
          best = g;
          bestSaving = saving;
        }
      }
      if (!best) break;
      setCollapsed(best, true);
    }
  };
  collapseWhileOver();
  // C. Hysteresis: reopen kept groups only with a tenth of the budget to spare.
  const slack = Math.max(1, Math.ceil(budget / 10));
  for (const g of [...kept].sort((a, b) => b.depth - a.depth)) {
    if (!st(g).collapsed) continue;
    setCollapsed(g, false);
    if (total() > budget - slack) setCollapsed(g, true);
  }

  // D. Coarser aggregates: first merges inside the units as they are (the previous plan's routes
  // preferred, then the smallest supernet), then, if still over, the groups still open are offered
  // their widest aggregate and phase B runs again.
  const widener =
    options.networks && options.networks.length > 0 ? new Widener(entries, options.networks) : undefined;
  const preferred = new Set((options.previous?.routes ?? []).map((r) => r.destination));
  let units = buildUnits(groups, entries, own, st, previousGroups, options.previous);
  const routeCount = (): number => units.reduce((n, u) => n + u.prefixes.length, 0);
  let count = routeCount();
  if (widener && count > budget) {
    count -= widener.merge(units, count - budget, preferred);
    if (count > budget) {
      for (const g of groups) {
        const s = st(g);
        if (!s.collapsed && s.collapsedRoutes && !coveredByCollapsed(g))
          s.collapsedRoutes = widener.widest(s.collapsedRoutes, g.members);
      }
      collapseWhileOver();
      units = buildUnits(groups, entries, own, st, previousGroups, options.previous);
      count = routeCount();
      count -= widener.merge(units, Math.max(0, count - budget), preferred);
    }
  }
  // E. Drop what still does not fit.
  if (count > budget) dropRoutes(units, count - budget, budget, options.previous, unplanned);

  return assemble(units, entries, budget, unplanned);
}

/** Step 0: every node's blocks, less those overlapping another node's (reported). */
function validEntries(nodes: readonly PlanNode[], unplanned: Unplanned[]): NodeEntry[] {
  const all = nodes
    .flatMap((n) => n.blocks.map((b) => ({ n, b })))
    .sort((x, y) => comparePrefix(x.b, y.b) || byText(x.n.name, y.n.name));
  const bad = new Set<string>();
  const seen = new Set<string>();
  // Sorted by address then length: an overlap is always with an earlier block still "open".
  const open: { n: PlanNode; b: Prefix }[] = [];
  for (const cur of all) {
    while (open.length > 0 && !prefixesOverlap(open[open.length - 1]!.b, cur.b)) open.pop();
    for (const o of open) {
      if (o.n.name === cur.n.name) continue;
      for (const [x, y] of [
        [cur, o],
        [o, cur],
      ] as const) {
        const id = `${x.n.name} ${formatPrefix(x.b)}`;
        if (!seen.has(id)) {
          seen.add(id);
          unplanned.push({
            block: formatPrefix(x.b),
            node: x.n.name,
            reason: `overlaps block ${formatPrefix(y.b)} of node ${y.n.name}`,
          });
        }
        bad.add(id);
      }
    }
    open.push(cur);
  }
  const names = new Set<string>();
  const out: NodeEntry[] = [];
  for (const n of [...nodes].sort((a, b) => byText(a.name, b.name))) {
    if (names.has(n.name)) {
      for (const b of n.blocks)
        unplanned.push({ block: formatPrefix(b), node: n.name, reason: 'a node of this name came first' });
      continue;
    }
    names.add(n.name);
    out.push({
      node: n,
      blocks: n.blocks.filter((b) => !bad.has(`${n.name} ${formatPrefix(b)}`)),
      chain: [],
    });
  }
  return out;
}

/**
 * A group's routes when collapsed: the exact aggregate of its members' blocks. Blocks of members
 * that are down are included when that costs no extra route (the routes stay put while a node
 * restarts); their traffic then ends at the forwarder instead of nowhere.
 */
function groupRoutes(g: Group): Prefix[] | undefined {
  const healthy = g.members.filter((e) => e.node.healthy);
  if (healthy.length === 0) return undefined;
  const all = aggregate(g.members.flatMap((e) => e.blocks));
  if (healthy.length === g.members.length) return all;
  const some = aggregate(healthy.flatMap((e) => e.blocks));
  return all.length <= some.length ? all : some;
}

function rendezvous(group: string, node: string): number {
  // FNV-1a, 32 bits: only needs to spread nodes evenly and be the same everywhere.
  let h = 0x811c9dc5;
  const s = `${group}\u0000${node}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function buildUnits(
  groups: readonly Group[],
  entries: readonly NodeEntry[],
  own: Map<NodeEntry, Prefix[]>,
  st: (g: Group) => GroupState,
  previousGroups: Map<string, string>,
  previous: Plan | undefined,
): Unit[] {
  const previousForwarders = new Set((previous?.forwarders ?? []).map((f) => f.node));
  const units: Unit[] = [];
  const inGroup = new Set<NodeEntry>();
  for (const g of groups) {
    const s = st(g);
    if (!s.collapsed) continue;
    const healthy = g.members.filter((e) => e.node.healthy);
    const pick =
      healthy.find((e) => e.node.name === previousGroups.get(g.key)) ??
      healthy
        .filter((e) => previousForwarders.has(e.node.name))
        .sort((a, b) => byText(a.node.name, b.node.name))[0] ??
      healthy.reduce((a, b) => (rendezvous(g.key, b.node.name) > rendezvous(g.key, a.node.name) ? b : a));
    for (const e of g.members) inGroup.add(e);
    units.push({
      key: g.key,
      group: g,
      members: g.members,
      prefixes: [...s.collapsedRoutes!],
      target: pick.node,
    });
  }
  for (const e of entries) {
    if (inGroup.has(e) || !e.node.healthy) continue;
    units.push({
      key: e.node.name,
      group: undefined,
      members: [e],
      prefixes: [...own.get(e)!],
      target: e.node,
    });
  }
  return units;
}

/** Phase E: removes `excess` routes, those covering the fewest healthy blocks first. */
function dropRoutes(
  units: Unit[],
  excess: number,
  budget: number,
  previous: Plan | undefined,
  unplanned: Unplanned[],
): void {
  const before = new Set((previous?.routes ?? []).map((r) => r.destination));
  const items = units.flatMap((u) =>
    u.prefixes.map((p) => {
      const covered = u.members.flatMap((e) =>
        e.blocks.filter((b) => prefixContains(p, b)).map((b) => ({ e, b })),
      );
      const text = formatPrefix(p);
      return { u, p, text, covered, weight: covered.filter((c) => c.e.node.healthy).length };
    }),
  );
  items.sort(
    (a, b) =>
      a.weight - b.weight ||
      Number(before.has(a.text)) - Number(before.has(b.text)) ||
      comparePrefix(b.p, a.p),
  );
  for (const it of items.slice(0, excess)) {
    it.u.prefixes = it.u.prefixes.filter((p) => p !== it.p);
    for (const c of it.covered) {
      unplanned.push({
        block: formatPrefix(c.b),
        node: c.e.node.name,
        reason: `route budget ${budget} exhausted`,
      });
    }
  }
}

function assemble(
  units: Unit[],
  entries: readonly NodeEntry[],
  budget: number,
  unplanned: Unplanned[],
): Plan {
  const routes: { p: Prefix; r: PlannedRoute }[] = [];
  const forwarders: PlannedForwarder[] = [];
  const routed = new Set<string>();
  for (const u of units) {
    if (u.prefixes.length === 0) continue;
    const t = u.target;
    const via = u.group ? 'forwarder' : 'node';
    for (const p of u.prefixes) {
      routes.push({
        p,
        r: {
          destination: formatPrefix(p),
          node: t.name,
          instanceId: t.instanceId,
          eniId: t.eniId,
          via,
          ...(u.group ? { group: u.group.key } : {}),
        },
      });
    }
    for (const e of u.members)
      for (const b of e.blocks)
        if (u.prefixes.some((p) => prefixContains(p, b))) routed.add(`${e.node.name} ${formatPrefix(b)}`);
    if (u.group) {
      forwarders.push({
        node: t.name,
        instanceId: t.instanceId,
        eniId: t.eniId,
        group: u.group.key,
        level: u.group.level,
        for: u.members
          .map((e) => e.node.name)
          .filter((n) => n !== t.name)
          .sort(byText),
      });
    }
  }
  const reported = new Set(unplanned.map((x) => `${x.node} ${x.block}`));
  for (const e of entries) {
    if (e.node.healthy) continue;
    for (const b of e.blocks) {
      const id = `${e.node.name} ${formatPrefix(b)}`;
      if (!routed.has(id) && !reported.has(id))
        unplanned.push({
          block: formatPrefix(b),
          node: e.node.name,
          reason: `node ${e.node.name} is not healthy`,
        });
    }
  }
  routes.sort((a, b) => comparePrefix(a.p, b.p));
  forwarders.sort((a, b) => byText(a.group, b.group));
  const keyed = unplanned.map((u) => ({ p: parsePrefix(u.block), u }));
  keyed.sort((a, b) => comparePrefix(a.p, b.p) || byText(a.u.node, b.u.node));
  return { budget, routes: routes.map((x) => x.r), forwarders, unplanned: keyed.map((x) => x.u) };
}
