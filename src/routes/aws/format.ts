/**
 * The people's view of a VPC route plan: a summary line, then the routes, forwarders and
 * unplanned blocks as fixed columns (the JSON form is the Plan object itself).
 */
import type { Plan } from './plan-types.js';

/** Left-aligned columns separated by two spaces. */
function columns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

export function formatPlan(plan: Plan): string {
  const out = [
    `Routes ${plan.routes.length}/${plan.budget}  forwarders ${plan.forwarders.length}  unplanned blocks ${plan.unplanned.length}`,
  ];
  if (plan.routes.length > 0) {
    out.push(
      '',
      ...columns([
        ['Destination', 'Target', 'Instance', 'ENI', 'Via'],
        ...plan.routes.map((r) => [
          r.destination,
          r.node,
          r.instanceId,
          r.eniId,
          r.via === 'forwarder' ? `forwarder ${r.group ?? ''}` : 'node',
        ]),
      ]),
    );
  }
  if (plan.forwarders.length > 0) {
    out.push(
      '',
      ...columns([
        ['Forwarder', 'Group', 'Level', 'For'],
        ...plan.forwarders.map((f) => [f.node, f.group, f.level, f.for.length > 0 ? f.for.join(', ') : '-']),
      ]),
    );
  }
  if (plan.unplanned.length > 0) {
    out.push(
      '',
      ...columns([
        ['Unplanned block', 'Node', 'Reason'],
        ...plan.unplanned.map((u) => [u.block, u.node, u.reason]),
      ]),
    );
  }
  return out.join('\n');
}
