/**
 * The `routes:` section: kernel route programming (src/routes/). Absent section = defaults: blackholes
 * for announced prefixes in the main table, no layer 2 peer routes.
 */
import { z } from 'zod';
import { intRange } from './rules.js';

/**
 * Our route protocol number (rtm_protocol). 176 (0xB0) is free in iproute2's rt_protos, in the
 * kernel's RTPROT_* list (up to 99 openr, then 186..192) and in FRR's rt_protos.d (186..197 — the
 * 0xC4 = 196 an earlier sketch suggested is FRR's "static"), and is not the 80 Calico's Felix uses.
 * Values >= RTPROT_STATIC (4) are opaque to the kernel, so any free one serves.
 */
export const DEFAULT_ROUTE_PROTOCOL = 0xb0;

export const routesSchema = z.strictObject({
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
});

export type RoutesConfig = z.infer<typeof routesSchema>;

/** The defaults, for a config file without a `routes:` section. */
export const defaultRoutesConfig: RoutesConfig = routesSchema.parse({});
