/**
 * The `node:` section: who this node is. With `source: config` (the default outside a pod) the
 * name, labels and router id come from this file; with `source: kubernetes` (the default inside a
 * pod, where the kubelet sets KUBERNETES_SERVICE_HOST) they come from the node's own Node object
 * (src/k8s/): its labels place it in an IPAM group and its InternalIP addresses are its layer 2
 * addresses and the default router id. Labels written here are laid over the Node's labels.
 *
 * ```yaml
 * node:
 *   source: kubernetes      # or config
 *   name: node1             # default: $NODE_NAME, else the hostname
 *   routerId: 198.18.0.2    # default: the Node's first InternalIP (IPv4), else the lowest uplink IPv4
 *   labels: { rack: "1" }
 * ```
 */
import { z } from 'zod';
import { ipv4Address } from './rules.js';

export const nodeSchema = z.strictObject({
  /** Absent: `kubernetes` when running in a pod, else `config` (see `nodeSource`). */
  source: z.enum(['config', 'kubernetes']).optional(),
  name: z.string().min(1).optional(),
  routerId: ipv4Address.optional(),
  labels: z.record(z.string(), z.string()).default({}),
});

export type NodeConfig = z.infer<typeof nodeSchema>;

/** Where the node's identity comes from: the config's choice, else the pod's environment. */
export function nodeSource(
  node: Pick<NodeConfig, 'source'>,
  env: Record<string, string | undefined> = process.env,
): 'config' | 'kubernetes' {
  return node.source ?? (env.KUBERNETES_SERVICE_HOST ? 'kubernetes' : 'config');
}
