/**
 * The whole configuration file (reference: docs/configuration.md). Each protocol section lives in its own
 * file; this one joins them. Unknown keys are refused everywhere (strict objects) so a typo is an
 * error at start, not a silently ignored setting.
 */
import { z } from 'zod';
import { awsSchema } from './aws.js';
import { bgpSchema } from './bgp.js';
import { communityList, largeCommunityList } from './communities.js';
import { ipamSchema } from './ipam.js';
import { nodeSchema } from './node.js';
import { ospfSchema } from './ospf.js';
import { routesSchema } from './routes.js';
import { prefixText } from './rules.js';

export { nodeSchema } from './node.js';

export const apiSchema = z.strictObject({
  socket: z.string().min(1).default('/run/podroute/podroute.sock'),
  metrics: z
    .string()
    .regex(/^(\[[0-9a-fA-F:.]+\]|[0-9.]+|localhost):\d{1,5}$/, { error: 'is not host:port' })
    .optional(),
});

/**
 * An `announce` entry: a prefix, or `{ prefix, communities, largeCommunities }` for communities on
 * that prefix only (added to bgp.communities and the peer's).
 */
const announceObject = z.strictObject({
  prefix: prefixText,
  communities: communityList.optional(),
  largeCommunities: largeCommunityList.optional(),
});
/** Dispatches on the entry's form so a bad community names its own path (a union would not). */
export const announceEntry = z.unknown().transform((v, ctx): string | z.infer<typeof announceObject> => {
  const form = typeof v === 'object' && v !== null ? announceObject : prefixText;
  const r = form.safeParse(v);
  if (r.success) return r.data;
  for (const issue of r.error.issues)
    ctx.addIssue({ ...issue, input: v } as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});
export type AnnounceEntry = z.infer<typeof announceEntry>;

/** The prefix text of an `announce` entry, whichever form it has. */
export function announcePrefix(e: AnnounceEntry): string {
  return typeof e === 'string' ? e : e.prefix;
}

export const configSchema = z.strictObject({
  node: nodeSchema.default({ labels: {} }),
  announce: z.array(announceEntry).default([]),
  api: apiSchema.default({ socket: '/run/podroute/podroute.sock' }),
  log: z
    .strictObject({ level: z.enum(['debug', 'info', 'warn', 'error']).default('info') })
    .default({ level: 'info' }),
  bgp: bgpSchema.optional(),
  ipam: ipamSchema.optional(),
  ospf: ospfSchema.optional(),
  routes: routesSchema.optional(),
  aws: awsSchema.optional(),
});

export type Config = z.infer<typeof configSchema>;
