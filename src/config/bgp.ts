/** The `bgp:` section (DESIGN.md contract). */
import { z } from 'zod';
import { asn, intRange, ipAddress } from './rules.js';

export const bgpPeerSchema = z.strictObject({
  address: ipAddress,
  asn,
  /** RFC 4271 4.2: 0 or at least 3 seconds. */
  holdTime: z
    .number()
    .int()
    .refine((v) => v === 0 || (v >= 3 && v <= 65535), {
      error: 'is not a valid hold time (0 or 3..65535 seconds)',
    })
    .default(90),
  passive: z.boolean({ error: 'is not true or false' }).default(false),
  accept: z.enum(['none', 'default', 'all'], { error: 'is not one of none, default, all' }).default('none'),
  maxPrefixes: intRange(1, 100_000_000, 'a prefix limit').optional(),
  port: intRange(1, 65535, 'a TCP port').default(179),
  /** Local address to connect from and use as next hop; default: what the kernel picks. */
  localAddress: ipAddress.optional(),
  /** IPv6 next hop for IPv6 prefixes over an IPv4 session (RFC 4760 3, RFC 2545). */
  ipv6NextHop: ipAddress.optional(),
  connectRetryTime: intRange(1, 65535, 'a number of seconds').default(30),
  /** A label for logs and status. */
  description: z.string().optional(),
});

export const bgpSchema = z.strictObject({
  asn,
  /** Port to listen on for passive peers; default 179. 0 disables listening. */
  listenPort: intRange(0, 65535, 'a TCP port').default(179),
  peers: z.array(bgpPeerSchema).default([]),
});

export type BgpPeerConfig = z.infer<typeof bgpPeerSchema>;
export type BgpConfig = z.infer<typeof bgpSchema>;
