/**
 * The `ipam:` section: pod address networks, the topology tree of groups, the block store.
 *
 * Shape checks live here (zod); the cross-field rules (overlapping networks, a group outside its
 * parent, a block larger than its group, ...) live in `ipam-rules.ts` and are attached below, so every problem prints as `ipam.groups[0].cidrs[1]: "198.18.0.0/15" <rule>` at start.
 *
 * ```yaml
 * ipam:
 *   store: etcds://10.0.0.5:2379,10.0.0.6:2379     # default file:///var/lib/podroute/ipam.json
 *   etcd: { caFile: /etc/podroute/ca.pem, certFile: /etc/podroute/node.pem, keyFile: /etc/podroute/node.key }
 *   quarantine: 30          # s before a freed address is reused
 *   blockGrace: 300         # s before an empty block goes back to its group
 *   releaseDeletedNodesAfter: 300   # s after a Node object is deleted before its blocks are freed
 *   leaderLease: 15         # s the Lease of the cluster's one releasing podroute lasts unrenewed
 *   networks:
 *     - { name: pods, cidrs: [198.18.0.0/17, 198.19.0.0/18], blockSize: 26 }   # multi-segment
 *     - { name: vlan20, cidr: 198.18.200.0/24, blockSize: 28, vlan: 20, gateway: 198.18.200.1 }
 *   groups:                 # node.labels place a node in the deepest matching group
 *     - name: zone-a
 *       selector: { topology.kubernetes.io/zone: a }
 *       cidrs: [198.18.0.0/18]
 *       networks: [pods]
 *       groups:
 *         - { name: rack-1, selector: { rack: "1" }, cidrs: [198.18.0.0/22] }
 *         - { name: rack-2, selector: { rack: "2" } }   # no cidrs: shares zone-a minus rack-1
 *     - { name: l2-segment, selector: { segment: vlan20 }, networks: [vlan20] }
 * ```
 */
import { z } from 'zod';
import { type IpamGroupConfig, validateIpam } from './ipam-rules.js';
import { intRange, ipAddress, prefixText } from './rules.js';

const name = z
  .string({ error: 'is not a name' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { error: 'is not a name (letters, digits, . _ -, max 63)' });

const addressOrPrefix = z.string({ error: 'is not an address or prefix' }).superRefine((s, ctx) => {
  const r = (s.includes('/') ? prefixText : ipAddress).safeParse(s);
  if (!r.success) ctx.addIssue({ code: 'custom', message: r.error.issues[0]?.message ?? 'is not valid' });
});

export const ipamNetworkSchema = z
  .strictObject({
    name,
    /** One range ... */
    cidr: prefixText.optional(),
    /** ... or several separate ranges that form one pod network (multi-segment). */
    cidrs: z.array(prefixText).min(1, { error: 'is empty (list at least one prefix)' }).optional(),
    /** Prefix length of a block; default 26 (IPv4) or 122 (IPv6): 64 addresses. */
    blockSize: intRange(1, 128, 'a prefix length').optional(),
    vlan: intRange(1, 4094, 'a VLAN id').optional(),
    /** Given to pods as their gateway, and never handed out. */
    gateway: ipAddress.optional(),
    /**
     * With `vlan` and `gateway`: the node's interface on the VLAN (an 802.1Q sub-interface such as
     * eth1.100 that the node's network setup owns). Turns on the VLAN data plane
     * (src/routes/vlan-ipam.ts) on every node holding a block of the network.
     */
    interface: z
      .string({ error: 'is not an interface name' })
      .regex(/^[^\s/]{1,15}$/, { error: 'is not an interface name (1..15 characters, no / or space)' })
      .optional(),
    /** Addresses or prefixes never handed out (besides each range's first and last address). */
    reserved: z.array(addressOrPrefix).default([]),
  })
  .superRefine((n, ctx) => {
    if ((n.cidr === undefined) === (n.cidrs === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['cidr'], message: 'give exactly one of cidr or cidrs' });
    }
    if (n.interface !== undefined && (n.vlan === undefined || n.gateway === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['interface'],
        message: 'needs vlan and gateway (the VLAN data plane sends other traffic to the gateway)',
      });
    }
  });

export interface IpamGroupInput {
  name: string;
  selector?: Record<string, string>;
  cidrs?: string[];
  networks?: string[];
  groups?: IpamGroupInput[];
}

export type { IpamGroupConfig } from './ipam-rules.js';

export const ipamGroupSchema: z.ZodType<IpamGroupConfig, IpamGroupInput> = z.lazy(() =>
  z.strictObject({
    name,
    selector: z.record(z.string(), z.string({ error: 'is not a string' })).default({}),
    cidrs: z.array(prefixText).min(1, { error: 'is empty (omit it to use the parent range)' }).optional(),
    networks: z.array(name).min(1, { error: 'is empty (omit it to use every network)' }).optional(),
    groups: z.array(ipamGroupSchema).default([]),
  }),
);

export const ipamEtcdSchema = z.strictObject({
  /** Key prefix for everything podroute keeps in etcd. */
  prefix: z
    .string()
    .regex(/^\/\S*[^/]$/, { error: 'is not a key prefix like /podroute/ipam' })
    .default('/podroute/ipam'),
  caFile: z.string().optional(),
  certFile: z.string().optional(),
  keyFile: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  /** Seconds: a node whose lease is gone this long counts as down (its blocks stay claimed). */
  leaseTtl: intRange(5, 3600, 'a number of seconds').default(30),
  dialTimeout: intRange(100, 60000, 'a number of milliseconds').default(3000),
});

export const ipamSchema = z
  .strictObject({
    /**
     * `podroute` (default): podroute's own blocks, carved from `networks` per `groups`.
     * `kubernetes`: announce the Node's `spec.podCIDRs` (kube-controller-manager
     * `--allocate-node-cidrs`) instead; `networks` is then optional and no block is claimed.
     */
    mode: z.enum(['podroute', 'kubernetes']).default('podroute'),
    /** `file:///path/ipam.json` (one machine) or `etcd://h1:2379,h2:2379` / `etcds://...` (TLS). */
    store: z
      .string()
      .regex(/^(file:\/\/\/\S+|etcds?:\/\/\S+)$/, {
        error: 'is not file:///path or etcd(s)://host:port[,...]',
      })
      .default('file:///var/lib/podroute/ipam.json'),
    etcd: ipamEtcdSchema.optional(),
    /** Directory of this node's address allocation file (survives restarts). */
    stateDir: z.string().min(1).default('/var/lib/podroute'),
    /** Seconds a freed address stays unused (stale ARP/conntrack/DNS entries age out). */
    quarantine: intRange(0, 86400, 'a number of seconds').default(30),
    /** Seconds an empty block stays with the node before going back to its group. */
    blockGrace: intRange(0, 86400, 'a number of seconds').default(300),
    /**
     * With the Node objects (node.source: kubernetes): seconds a deleted Node stays gone before
     * the leader releases its blocks (src/k8s/node-gc.ts); false: never (release-node by hand).
     */
    releaseDeletedNodesAfter: z
      .union([z.literal(false), intRange(1, 604800, 'a number of seconds (or false)')], {
        error: 'is not a number of seconds (or false) in 1..604800',
      })
      .default(300),
    /** Seconds the leader election Lease (coordination.k8s.io) lasts without renewal. */
    leaderLease: intRange(2, 300, 'a number of seconds').default(15),
    /** Required in `podroute` mode (checked below, so `kubernetes` mode may leave it out). */
    networks: z.array(ipamNetworkSchema).optional(),
    /** The topology tree; empty: one group holding every node. */
    groups: z.array(ipamGroupSchema).default([]),
  })
  .transform((ipam, ctx) => {
    const networks = ipam.networks ?? [];
    if (ipam.mode === 'podroute' && networks.length === 0) {
      // Absent prints as "ipam.networks: is required", [] as "... [] is empty (...)".
      ctx.addIssue({
        code: 'custom',
        path: ['networks'],
        message: 'is empty (list at least one pod network)',
      });
      return z.NEVER;
    }
    const out = { ...ipam, networks };
    for (const p of validateIpam(out)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
    return out;
  });

export type IpamNetworkConfig = z.infer<typeof ipamNetworkSchema>;
export type IpamEtcdConfig = z.infer<typeof ipamEtcdSchema>;
export type IpamConfig = z.infer<typeof ipamSchema>;
