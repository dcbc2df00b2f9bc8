/**
 * From cluster nodes (store) to planner nodes (EC2): each node is matched to the instance owning
 * an ENI with one of the node's addresses — that ENI carries the node's pod traffic and becomes
 * its route target — and takes its zone and subnet from EC2, its health from the instance's state
 * and status checks (DescribeInstanceStatus: running, neither check `impaired`). A node with no
 * matching instance cannot be a route target; it is reported, not guessed.
 */
import type { ClusterNode } from './cluster.js';
import type { PlanNode } from './plan-types.js';
import type { VpcApi, VpcInstance } from './vpc-api.js';

export interface Inventory {
  readonly vpcId: string | undefined;
  readonly nodes: PlanNode[];
  readonly unmatched: { node: string; reason: string }[];
  /** Subnets of the matched ENIs: their route tables are the ones to program. */
  readonly subnets: string[];
  /** ENI id → source/destination check still on. */
  readonly sourceDestCheck: Map<string, boolean>;
}

/** `call` wraps each EC2 read (backoff, counting). */
export async function takeInventory(
  cluster: readonly ClusterNode[],
  api: VpcApi,
  call: <T>(what: string, op: () => Promise<T>) => Promise<T>,
  vpcWanted?: string,
): Promise<Inventory> {
  const addresses = [...new Set(cluster.flatMap((n) => n.addresses.filter((a) => !a.includes(':'))))].sort();
  const instances =
    addresses.length > 0 ? await call('DescribeInstances', () => api.instancesByAddress(addresses)) : [];
  const byAddress = new Map<string, { inst: VpcInstance; eni: VpcInstance['enis'][number] }>();
  for (const inst of instances)
    for (const eni of inst.enis) for (const a of eni.addresses) byAddress.set(a, { inst, eni });
  // The cluster's VPC: configured, else the one most matched instances are in.
  const votes = new Map<string, number>();
  for (const i of instances) votes.set(i.vpcId, (votes.get(i.vpcId) ?? 0) + 1);
  const vpcId =
    vpcWanted ?? [...votes.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
  const unmatched: Inventory['unmatched'] = [];
  const matched: { n: ClusterNode; inst: VpcInstance; eni: VpcInstance['enis'][number] }[] = [];
  for (const n of cluster) {
    const hit = n.addresses.map((a) => byAddress.get(a)).find((h) => h !== undefined);
    if (!hit)
      unmatched.push({
        node: n.name,
        reason: `no EC2 instance has address ${n.addresses.join(', ') || '(none)'}`,
      });
    else if (hit.inst.vpcId !== vpcId)
      unmatched.push({
        node: n.name,
        reason: `instance ${hit.inst.instanceId} is in ${hit.inst.vpcId}, not ${vpcId}`,
      });
    else matched.push({ n, ...hit });
  }
  const ids = [...new Set(matched.map((m) => m.inst.instanceId))].sort();
  const health = ids.length > 0 ? await call('DescribeInstanceStatus', () => api.instanceHealth(ids)) : [];
  const ok = new Map(health.map((h) => [h.instanceId, h.ok]));
  const sourceDestCheck = new Map<string, boolean>();
  const nodes = matched.map(({ n, inst, eni }): PlanNode => {
    sourceDestCheck.set(eni.eniId, eni.sourceDestCheck);
    return {
      name: n.name,
      zone: inst.zone,
      subnet: eni.subnet,
      rack: n.group,
      instanceId: inst.instanceId,
      eniId: eni.eniId,
      blocks: n.blocks,
      healthy: ok.get(inst.instanceId) === true,
    };
  });
  const subnets = [...new Set(nodes.map((n) => n.subnet))].sort();
  return { vpcId, nodes, unmatched, subnets, sourceDestCheck };
}
