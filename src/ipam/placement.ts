/**
 * Placement at start: which topology group this node joins. Pure: from the node's labels, every
 * claim in the store and the group the node saved last, through `Topology.place` (topology.ts:
 * deepest matching group, least loaded, and a node that still matches its group stays there).
 */

import { IpamPlacementError } from './errors.js';
import type { BlockClaim } from './store/types.js';
import type { GroupSpec, Topology } from './topology.js';

export interface Placement {
  readonly group: GroupSpec;
  /** The group the node was in before (saved state, else its claims), if it had one. */
  readonly previous?: string;
}

/** Throws IpamPlacementError, worded as a configuration error, when no group matches. */
export function placeNode(
  topology: Topology,
  node: { readonly name: string; readonly labels: Readonly<Record<string, string>> },
  claims: readonly BlockClaim[],
  savedGroup: string | undefined,
): Placement {
  // Load of a group: how many other nodes hold blocks in it.
  const nodesPerGroup = new Map<string, Set<string>>();
  for (const c of claims) {
    if (c.node === node.name) continue;
    let s = nodesPerGroup.get(c.group);
    if (!s) {
      s = new Set();
      nodesPerGroup.set(c.group, s);
    }
    s.add(c.node);
  }
  // The saved group is the latest placement; the store's claims may span an older group too.
  const previous = savedGroup ?? claims.find((c) => c.node === node.name)?.group;
  const group = topology.place(node.labels, (g) => nodesPerGroup.get(g.name)?.size ?? 0, previous);
  if (!group) {
    const groups = topology.groups.map((g) => `${g.path} ${JSON.stringify(g.selector)}`).join(', ');
    throw new IpamPlacementError(
      `node.labels: ${JSON.stringify(node.labels)} matches no group in ipam.groups (${groups})`,
    );
  }
  return previous === undefined ? { group } : { group, previous };
}
