/**
 * The people's view of a VPC route plan (`podroute aws plan`): a summary line, then the routes,
 * forwarders and unplanned blocks as fixed columns (the JSON form is the Plan object itself); and
 * of the controller's status view (the `aws` part of `podroute status`).
 */
import type { Plan } from './plan-types.js';
import type { AwsRoutesStatus } from './status.js';

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

/** The `aws` part of `podroute status` for people: leadership, plan use, last apply, problems. */
export function formatAwsStatus(s: AwsRoutesStatus): string[] {
  const out: string[] = [];
  if (!s.leader) {
    out.push(`AWS VPC routes  follower (${s.leadership}); leader: ${s.holder ?? 'none'}`);
  } else {
    const p = s.plan;
    out.push(
      `AWS VPC routes  leader (${s.leadership})` +
        (p
          ? `  routes ${p.routesUsed}/${p.budget}${p.routeLimitCap !== null ? ` (limit learnt: ${p.routeLimitCap})` : ''}`
          : ''),
    );
    if (p && p.forwarders.length > 0) {
      out.push(
        ...columns([
          ['Forwarder', 'Group', 'For'],
          ...p.forwarders.map((f) => [f.node, f.group, f.for.join(', ') || '-']),
        ]),
      );
    }
    if (p && p.unplanned.length > 0)
      out.push(`Unplanned blocks: ${p.unplanned.map((u) => `${u.block} (${u.reason})`).join(', ')}`);
    for (const n of s.unmatchedNodes) out.push(`Not an EC2 instance: ${n.node} (${n.reason})`);
    for (const c of s.conflicts) out.push(`Conflict in ${c.table}: ${c.destination} ${c.reason}`);
  }
  const a = s.lastApply;
  if (a) {
    out.push(
      `Last pass ${a.at}  ${a.ok ? 'ok' : 'FAILED'}  ${a.durationMs} ms  ${a.mutatingCalls} changes, ${a.readCalls} reads, ${a.retries} retries`,
    );
    for (const e of a.errors) out.push(`  ${e}`);
  }
  const errors = Object.entries(s.apiErrors);
  if (errors.length > 0) out.push(`EC2 errors: ${errors.map(([c, n]) => `${c} ${n}`).join(', ')}`);
  return out;
}
