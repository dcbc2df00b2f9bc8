/**
 * What one route table needs to match a plan: a pure diff. A route is ours only when its
 * destination is inside the pod networks and in the controller's record (leader.ts); every other
 * route is left as it is, and a planned destination already held by a route that is not ours is
 * a conflict, reported, never overwritten.
 */
import { type Prefix, PrefixError, parsePrefix, prefixContains } from '../../net/prefix.js';
import type { Plan } from './plan-types.js';
import type { VpcRouteTable } from './vpc-api.js';

export interface RouteChange {
  readonly destination: string;
  readonly eniId: string;
}

export interface TableDiff {
  readonly table: string;
  readonly creates: RouteChange[];
  readonly replaces: RouteChange[];
  readonly deletes: string[];
  readonly conflicts: { destination: string; reason: string }[];
  /** Our routes in the table now (recorded and present). */
  readonly ours: string[];
  /** Routes in the table that are not ours: they count against its route limit. */
  readonly others: number;
}

function inside(networks: readonly Prefix[], destination: string): boolean {
  try {
    const p = parsePrefix(destination);
    return networks.some((n) => prefixContains(n, p));
  } catch (e) {
    if (e instanceof PrefixError) return false;
    throw e;
  }
}

export function diffTable(
  table: VpcRouteTable,
  plan: Plan,
  recorded: readonly string[],
  networks: readonly Prefix[],
): TableDiff {
  const actual = new Map(table.routes.map((r) => [r.destination, r]));
  const mine = new Set(recorded.filter((d) => actual.has(d) && inside(networks, d)));
  const wanted = new Map(plan.routes.map((r) => [r.destination, r]));
  const creates: RouteChange[] = [];
  const replaces: RouteChange[] = [];
  const conflicts: TableDiff['conflicts'] = [];
  for (const r of plan.routes) {
    const a = actual.get(r.destination);
    if (!a) creates.push({ destination: r.destination, eniId: r.eniId });
    else if (!mine.has(r.destination)) {
      const target = a.eniId ?? a.instanceId ?? a.otherTarget ?? 'unknown';
      conflicts.push({
        destination: r.destination,
        reason: `held by a route podroute does not own (target ${target})`,
      });
    } else if (a.eniId !== r.eniId || a.state !== 'active') {
      replaces.push({ destination: r.destination, eniId: r.eniId });
    }
  }
  const deletes = [...mine].filter((d) => !wanted.has(d)).sort();
  return {
    table: table.id,
    creates,
    replaces,
    deletes,
    conflicts,
    ours: [...mine].sort(),
    others: table.routes.length - mine.size,
  };
}
