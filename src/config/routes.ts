/**
 * The `routes:` section: kernel route programming (src/routes/). Absent section = defaults: blackholes
 * for announced prefixes in the main table, no layer 2 peer routes.
 */
import { z } from 'zod';
import { intRange, ipAddress, prefixText } from './rules.js';

/**
 * Our route protocol number (rtm_protocol). 176 (0xB0) is free in iproute2's rt_protos, in the
 * kernel's RTPROT_* list (up to 99 openr, then 186..192) and in FRR's rt_protos.d (186..197 — the
 * 0xC4 = 196 an earlier sketch suggested is FRR's "static"), and is not the 80 Calico's Felix uses.
 * Values >= RTPROT_STATIC (4) are opaque to the kernel, so any free one serves.
 */
export const DEFAULT_ROUTE_PROTOCOL = 0xb0;

/**
 * One VLAN of a multi-VLAN node (src/routes/vlan.ts): pods of `networks` reach other VLANs only
 * through this VLAN's gateway, never straight across the node.
 */
export const vlanSchema = z.strictObject({
  /** The node's interface in this VLAN, e.g. eth0.10. */
  interface: z.string().min(1),
  /** The VLAN's IPv4 gateway (router or firewall between VLANs). */
  gateway: ipAddress.refine((s) => !s.includes(':'), { error: 'is not an IPv4 address' }).optional(),
  /** The VLAN's IPv6 gateway. */
  gateway6: ipAddress.refine((s) => s.includes(':'), { error: 'is not an IPv6 address' }).optional(),
  /** Pod networks bound to this VLAN: their traffic is policy-routed by source. */
  networks: z.array(prefixText).min(1, { error: 'needs at least one pod network' }),
  /** Routing table holding this VLAN's policy routes. */
  table: intRange(1, 0xffffffff, 'a routing table id').refine((v) => v < 253 || v > 255, {
    error: 'is a reserved table (253 default, 254 main, 255 local)',
  }),
  /** ip rule preference for "from <network> lookup <table>"; default 1000 + the VLAN's index. */
  priority: intRange(1, 32765, 'a rule preference below the main table (32766)').optional(),
});

export const routesSchema = z
  .strictObject({
    /** false: podroute never reads or writes kernel routes (a "don't manage routes" switch). */
    manage: z.boolean({ error: 'is not true or false' }).default(true),
    /**
     * layer3: only blackholes for the node's announced prefixes (the fabric routes between nodes).
     * layer2: also routes to every other node's blocks via that node's address, for nodes on one of
     * our links (a flat layer 2 network without a router between nodes).
     */
    mode: z.enum(['layer3', 'layer2'], { error: 'is not one of layer3, layer2' }).default('layer3'),
    /** Blackhole each announced prefix so traffic to unused addresses in it stops here. */
    blackholes: z.boolean({ error: 'is not true or false' }).default(true),
    /** Routing table for every route podroute programs (254 = main). 0 and 255 (local) are refused. */
    table: intRange(1, 0xffffffff, 'a routing table id')
      .refine((v) => v !== 255, { error: 'is the local table (255), which podroute must not write' })
      .default(254),
    /** rtm_protocol tag marking our routes; only routes carrying it are ever changed or deleted. */
    protocol: intRange(5, 255, 'a route protocol number').default(DEFAULT_ROUTE_PROTOCOL),
    /** Route metric (priority); IPv6 routes with 0 get 1024 from the kernel, as `ip -6 route` does. */
    metric: intRange(0, 0xffffffff, 'a route metric').default(0),
    /** Seconds between full re-reconciles (repairs routes deleted or changed by hand). */
    resyncInterval: intRange(1, 86400, 'a number of seconds').default(30),
    /** layer2: only these links count as "ours" (default: every interface with an address). */
    interfaces: z.array(z.string().min(1)).optional(),
    /** Multi-VLAN policy routing; empty = none. */
    vlans: z.array(vlanSchema).default([]),
  })
  .superRefine((cfg, ctx) => {
    const tables = new Map<number, number>();
    cfg.vlans.forEach((v, i) => {
      if (v.table === cfg.table) {
        ctx.addIssue({
          code: 'custom',
          path: ['vlans', i, 'table'],
          message: `is routes.table (${cfg.table}) too; a VLAN needs a table of its own`,
        });
      }
      const other = tables.get(v.table);
      if (other !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['vlans', i, 'table'],
          message: `is used by vlans[${other}] too`,
        });
      }
      tables.set(v.table, i);
      const v4 = v.networks.some((n) => !n.includes(':'));
      const v6 = v.networks.some((n) => n.includes(':'));
      if (v4 && !v.gateway)
        ctx.addIssue({
          code: 'custom',
          path: ['vlans', i, 'gateway'],
          message: 'is required for IPv4 networks',
        });
      if (v6 && !v.gateway6)
        ctx.addIssue({
          code: 'custom',
          path: ['vlans', i, 'gateway6'],
          message: 'is required for IPv6 networks',
        });
    });
  });

export type VlanConfig = z.infer<typeof vlanSchema>;

export type RoutesConfig = z.infer<typeof routesSchema>;

/** The defaults, for a config file without a `routes:` section. */
export const defaultRoutesConfig: RoutesConfig = routesSchema.parse({});
