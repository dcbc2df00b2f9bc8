/**
 * The cluster as the VPC route controller sees it, read from the IPAM block store: every node
 * record (name, addresses, alive) with the blocks its claims hold inside the pod networks. The
 * only file of src/routes/aws/ that knows the store's shape, so the controller can move to
 * another view of the cluster by changing this adapter alone.
 */
import type { BlockStore } from '../../ipam/store/types.js';
import { type Prefix, PrefixError, parsePrefix, prefixContains } from '../../net/prefix.js';

export interface ClusterNode {
  readonly name: string;
  /** The node's link addresses: EC2 knows the instance by its ENIs' private addresses. */
  readonly addresses: readonly string[];
  /** podroute runs there (store lease or process alive). */
  readonly alive: boolean;
  readonly blocks: readonly Prefix[];
  /** The IPAM topology group of its blocks (the planner's rack level). */
  readonly group: string | undefined;
}

export async function readCluster(store: BlockStore, networks: readonly Prefix[]): Promise<ClusterNode[]> {
  const [records, claims] = await Promise.all([store.nodes(), store.list()]);
  const blocks = new Map<string, Prefix[]>();
  const groups = new Map<string, string>();
  for (const c of claims) {
    let p: Prefix;
    try {
      p = parsePrefix(c.block);
    } catch (e) {
      if (e instanceof PrefixError) continue;
      throw e;
    }
    if (!networks.some((n) => prefixContains(n, p))) continue;
    blocks.set(c.node, [...(blocks.get(c.node) ?? []), p]);
    if (!groups.has(c.node)) groups.set(c.node, c.group);
  }
  return records.map((r) => ({
    name: r.node,
    addresses: r.addresses,
    alive: r.alive,
    blocks: blocks.get(r.node) ?? [],
    group: groups.get(r.node),
  }));
}
