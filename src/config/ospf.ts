/** The `ospf:` section (docs/configuration.md; RFC 2328 C.3 interface parameters). */
import { z } from 'zod';
import { areaId, intRange } from './rules.js';

const authSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('none') }),
    /** RFC 2328 D.3: up to 8 bytes, sent in clear. */
    z.strictObject({
      type: z.literal('simple'),
      key: z.string().min(1).max(8, { error: 'is longer than 8 bytes' }),
    }),
    z.strictObject({
      type: z.literal('md5'),
      keyId: intRange(0, 255, 'a key id'),
      key: z.string().min(1).max(16, { error: 'is longer than 16 bytes' }),
    }),
    z.strictObject({
      type: z.literal('hmac-sha-256'),
      keyId: intRange(0, 255, 'a key id'),
      key: z.string().min(1),
    }),
  ],
  { error: 'is not one of none, simple, md5, hmac-sha-256' },
);

export const ospfInterfaceSchema = z
  .strictObject({
    name: z.string().min(1),
    area: areaId.default('0.0.0.0'),
    network: z
      .enum(['point-to-point', 'broadcast'], { error: 'is not point-to-point or broadcast' })
      .default('point-to-point'),
    cost: intRange(1, 65535, 'an interface cost').default(10),
    helloInterval: intRange(1, 65535, 'a number of seconds').default(10),
    deadInterval: intRange(1, 0x7fffffff, 'a number of seconds').default(40),
    retransmitInterval: intRange(1, 3600, 'a number of seconds').default(5),
    transmitDelay: intRange(1, 3600, 'a number of seconds').default(1),
    /** Default 0: the node never becomes DR/BDR on a shared segment, straight to DROther (RFC 2328 9.3). */
    priority: intRange(0, 255, 'a router priority').default(0),
    /** RFC 2328 10.6: skip the DD MTU check (FRR `ip ospf mtu-ignore`). */
    mtuIgnore: z.boolean({ error: 'is not true or false' }).default(false),
    /** MTU to advertise in DD packets; default: the kernel's MTU of the interface (or 1500). */
    mtu: intRange(68, 65535, 'an MTU').optional(),
    auth: authSchema.default({ type: 'none' }),
  })
  .refine((i) => i.deadInterval > i.helloInterval, {
    error: 'deadInterval must be greater than helloInterval',
    path: ['deadInterval'],
  });

export const ospfAreaSchema = z.strictObject({
  id: areaId,
  /** RFC 2328 3.6: a stub area carries no AS-external-LSAs (options E=0). */
  type: z.enum(['normal', 'stub'], { error: 'is not normal or stub' }).default('normal'),
});

export const ospfSchema = z
  .strictObject({
    interfaces: z.array(ospfInterfaceSchema).min(1, { error: 'needs at least one interface' }),
    areas: z.array(ospfAreaSchema).default([]),
    /** How the node's prefixes are advertised: router-LSA stub links (default) or AS-external-LSAs. */
    announceAs: z.enum(['stub', 'external'], { error: 'is not stub or external' }).default('stub'),
    /** Cost of the stub links, or the external metric. */
    metric: intRange(0, 0xffffff, 'a metric').default(10),
    externalMetricType: z.union([z.literal(1), z.literal(2)], { error: 'is not 1 or 2' }).default(2),
    externalTag: intRange(0, 0xffffffff, 'a route tag').default(0),
  })
  .refine(
    (o) =>
      o.announceAs !== 'external' ||
      !o.areas.some((a) => a.type === 'stub' && o.interfaces.some((i) => i.area === a.id)),
    {
      error: 'announceAs external is not allowed when an interface is in a stub area (RFC 2328 3.6)',
      path: ['announceAs'],
    },
  )
  // A stub link's cost is a 16-bit field of the router-LSA (RFC 2328 A.4.2); only the external
  // metric has 24 bits (A.4.5).
  .refine((o) => o.announceAs !== 'stub' || o.metric <= 0xffff, {
    error:
      'is above 65535, the largest stub link cost (RFC 2328 A.4.2); up to 16777215 only with announceAs external',
    path: ['metric'],
  });

export type OspfInterfaceConfig = z.infer<typeof ospfInterfaceSchema>;
export type OspfAuthConfig = z.infer<typeof authSchema>;
export type OspfConfig = z.infer<typeof ospfSchema>;
