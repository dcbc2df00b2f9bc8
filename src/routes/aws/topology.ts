/**
 * The planner's topology groups: which nodes may share one VPC route through a forwarder.
 *
 * A forwarder relays traffic for the other nodes of its group straight over their shared subnet
 * (the layer 2 routes between nodes of one subnet), so a group never spans subnets: that keeps
 * every packet to at most one forwarding hop, and off the VPC router a second time. The levels,
 * finest first:
 *   rack    `zone/subnet/rack`  nodes with the same rack (IPAM group) label
 *   zone    `zone/subnet`       the nodes of one availability zone on one subnet
 *   subnet  `subnet`            (only when cross-zone groups are allowed) one subnet, every zone
 * A node without a rack belongs to its zone group directly.
 */
import type { Prefix } from '../../net/prefix.js';
import type { GroupLevel, PlanNode } from './plan-types.js';

export interface NodeEntry {
  readonly node: PlanNode;
  /** The node's blocks minus those that overlap another node's (those are never routed). */
  readonly blocks: Prefix[];
  /** Innermost group first. */
  readonly chain: Group[];
}

export interface Group {
  readonly key: string;
  readonly level: GroupLevel;
  /** 2 rack, 1 zone, 0 subnet: deeper groups are collapsed first. */
  readonly depth: number;
  readonly parent: Group | undefined;
  readonly children: Group[];
  /** Nodes directly in this group (not in a child group). */
  readonly direct: NodeEntry[];
  /** Every node of the subtree. */
  readonly members: NodeEntry[];
}

/** A set of routes with one target: a healthy node on its own, or a collapsed group. */
export interface Unit {
  readonly key: string;
  readonly group: Group | undefined;
  readonly members: readonly NodeEntry[];
  prefixes: Prefix[];
  readonly target: PlanNode;
}

const DEPTH: Record<GroupLevel, number> = { rack: 2, zone: 1, subnet: 0 };

export function groupKey(level: GroupLevel, n: PlanNode): string {
  if (level === 'rack') return `${n.zone}/${n.subnet}/${n.rack ?? ''}`;
  if (level === 'zone') return `${n.zone}/${n.subnet}`;
  return n.subnet;
}

/** Builds the group tree; returns every group, sorted by key. */
export function buildGroups(entries: readonly NodeEntry[], allowCrossZone: boolean): Group[] {
  const groups = new Map<string, Group>();
  const get = (level: GroupLevel, n: PlanNode, parent: Group | undefined): Group => {
    const key = groupKey(level, n);
    let g = groups.get(key);
    if (!g) {
      g = { key, level, depth: DEPTH[level], parent, children: [], direct: [], members: [] };
      groups.set(key, g);
      parent?.children.push(g);
    }
    return g;
  };
  for (const e of entries) {
    const n = e.node;
    const top = allowCrossZone ? get('subnet', n, undefined) : undefined;
    const zone = get('zone', n, top);
    const rack = n.rack !== undefined && n.rack !== '' ? get('rack', n, zone) : undefined;
    const chain = [rack, zone, top].filter((g): g is Group => g !== undefined);
    chain[0]!.direct.push(e);
    for (const g of chain) g.members.push(e);
    e.chain.push(...chain);
  }
  return [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
