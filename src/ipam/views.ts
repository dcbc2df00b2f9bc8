/**
 * The operator's view of IPAM (`podroute ipam show`, the local API's `GET /ipam`): networks and
 * how many of their blocks are claimed, groups and their nodes, every node's blocks and
 * announcement, and this node's blocks with their use. A pure function of the topology, the
 * cluster view's claims and this node's held blocks; the result is plain JSON.
 */
import { aggregate } from '../net/aggregate.js';
import { formatPrefix, type Prefix } from '../net/prefix.js';
import type { HeldBlock } from './allocator.js';
import type { BlockClaim } from './store/types.js';
import type { Topology } from './topology.js';

export interface IpamShow {
  node: string;
  group: string;
  store: string;
  announcement: string[];
  networks: {
    name: string;
    cidrs: string[];
    blockSize: number;
    vlan?: number;
    gateway?: string;
    blocksClaimed: number;
    blocksTotal: number;
  }[];
  groups: {
    name: string;
    path: string;
    selector: Record<string, string>;
    cidrs: string[] | 'shared';
    nodes: string[];
  }[];
  nodes: { node: string; blocks: string[]; announcement: string[] }[];
  local: {
    blocks: {
      block: string;
      network: string;
      used: number;
      quarantined: number;
      free: number;
      capacity: number;
      usePercent: number;
    }[];
    used: number;
    capacity: number;
    usePercent: number;
  };
}

export interface ShowInput {
  readonly node: string;
  /** The path of the group this node was placed in. */
  readonly groupPath: string;
  readonly storeKind: string;
  readonly topology: Topology;
  /** This node's announcement. */
  readonly announcement: readonly Prefix[];
  readonly claims: readonly BlockClaim[];
  /** Every node's blocks, sorted by node then block (ClusterView.blocksByNode). */
  readonly blocksByNode: ReadonlyMap<string, readonly Prefix[]>;
  /** The blocks this node allocates from. */
  readonly held: readonly HeldBlock[];
}

export function showIpam(input: ShowInput): IpamShow {
  const { claims, topology } = input;
  const groupNodes = new Map<string, Set<string>>();
  for (const c of claims) {
    let s = groupNodes.get(c.group);
    if (!s) {
      s = new Set();
      groupNodes.set(c.group, s);
    }
    s.add(c.node);
  }
  const local = input.held.map((b) => ({
    block: b.text,
    network: b.network.name,
    used: b.live,
    quarantined: b.quarantined,
    free: b.freeCount,
    capacity: b.capacity,
    usePercent: percent(b.live, b.capacity),
  }));
  const used = local.reduce((s, b) => s + b.used, 0);
  const capacity = local.reduce((s, b) => s + b.capacity, 0);
  return {
    node: input.node,
    group: input.groupPath,
    store: input.storeKind,
    announcement: input.announcement.map(formatPrefix),
    networks: topology.networks.map((n) => ({
      name: n.name,
      cidrs: n.ranges.map(formatPrefix),
      blockSize: n.blockLength,
      ...(n.vlan !== undefined ? { vlan: n.vlan } : {}),
      ...(n.gateway !== undefined ? { gateway: n.gateway } : {}),
      blocksClaimed: claims.filter((c) => c.network === n.name).length,
      blocksTotal: Number(n.ranges.reduce((s, r) => s + (1n << BigInt(n.blockLength - r.length)), 0n)),
    })),
    groups: topology.groups.map((g) => ({
      name: g.name,
      path: g.path,
      selector: { ...g.selector },
      cidrs: g.explicit ? g.explicit.map(formatPrefix) : 'shared',
      nodes: [...(groupNodes.get(g.name) ?? [])].sort(),
    })),
    nodes: [...input.blocksByNode.entries()].map(([node, blocks]) => ({
      node,
      blocks: blocks.map(formatPrefix),
      announcement: aggregate(blocks).map(formatPrefix),
    })),
    local: { blocks: local, used, capacity, usePercent: percent(used, capacity) },
  };
}

function percent(n: number, of: number): number {
  return of === 0 ? 0 : Math.round((n / of) * 1000) / 10;
}
