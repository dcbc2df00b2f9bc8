/**
 * What podroute reads from its own Node object (pure): the labels that place it in an IPAM group,
 * its InternalIP addresses (the layer 2 addresses other nodes route its blocks via, and the first
 * IPv4 one the default router id), and `spec.podCIDRs` for `ipam.mode: kubernetes`.
 */
import { isIP, isIPv4 } from 'node:net';
import type { V1Node } from '@kubernetes/client-node';

export interface NodeIdentity {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** status.addresses of type InternalIP (IPv4 and IPv6, dual-stack nodes list both), in order. */
  addresses: readonly string[];
  /** The first IPv4 InternalIP; undefined on an IPv6-only node. */
  routerId: string | undefined;
  /** spec.podCIDRs (or the older single spec.podCIDR), as the API gives them. */
  podCIDRs: readonly string[];
  resourceVersion: string;
}

export function identityFromNode(node: V1Node): NodeIdentity {
  const addresses = (node.status?.addresses ?? [])
    .filter((a) => a.type === 'InternalIP' && isIP(a.address) !== 0)
    .map((a) => a.address);
  const cidrs = node.spec?.podCIDRs?.length
    ? node.spec.podCIDRs
    : node.spec?.podCIDR
      ? [node.spec.podCIDR]
      : [];
  return {
    name: node.metadata?.name ?? '',
    labels: { ...(node.metadata?.labels ?? {}) },
    addresses,
    routerId: addresses.find((a) => isIPv4(a)),
    podCIDRs: [...cidrs],
    resourceVersion: node.metadata?.resourceVersion ?? '',
  };
}

export interface LabelDiff {
  added: Record<string, string>;
  removed: string[];
  changed: Record<string, { from: string; to: string }>;
}

/** The label changes between two versions of the Node; undefined when there are none. */
export function diffLabels(
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
): LabelDiff | undefined {
  const d: LabelDiff = { added: {}, removed: [], changed: {} };
  let any = false;
  for (const [k, v] of Object.entries(after)) {
    if (!(k in before)) {
      d.added[k] = v;
      any = true;
    } else if (before[k] !== v) {
      d.changed[k] = { from: before[k] as string, to: v };
      any = true;
    }
  }
  for (const k of Object.keys(before)) {
    if (!(k in after)) {
      d.removed.push(k);
      any = true;
    }
  }
  return any ? d : undefined;
}

/** True when anything podroute uses differs (labels, addresses, pod CIDRs). */
export function identityChanged(a: NodeIdentity, b: NodeIdentity): boolean {
  const same = (x: readonly string[], y: readonly string[]) =>
    x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    diffLabels(a.labels, b.labels) !== undefined ||
    !same(a.addresses, b.addresses) ||
    !same(a.podCIDRs, b.podCIDRs)
  );
}
