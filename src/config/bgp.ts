/** The `bgp:` section (reference: docs/configuration.md). */
import { z } from 'zod';
import { bfdSchema } from './bfd.js';
import { prefixListSchema } from './bgp-policy.js';
import { communityList, largeCommunityList } from './communities.js';
import { asn, inlineOrFile, intRange, ipAddress } from './rules.js';

/** Linux TCP_MD5SIG_MAXKEYLEN; RFC 2385 sets no limit, the kernel does. */
const MD5_MAX_KEY_BYTES = 80;
const md5Error = `is not a valid TCP MD5 password (1..${MD5_MAX_KEY_BYTES} bytes)`;
const md5Password = z
  .string({ error: md5Error })
  .refine((s) => s.length > 0 && Buffer.byteLength(s) <= MD5_MAX_KEY_BYTES, { error: md5Error });

/** Node labels that must all match (peer-selection.ts). */
const nodeSelector = z.record(z.string(), z.string(), { error: 'is not a map of label: value' });

const peerFields = z.strictObject({
  /** An IP address, or `gateway`: one peer per default gateway of the node (peer-selection.ts). */
  address: z.union([z.literal('gateway'), ipAddress]),
  /** Only nodes with all these labels use this peer; absent: every node does. */
  nodeSelector: nodeSelector.optional(),
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
  /** Default: `none`, or `all` when an `import` list is given (the list then decides). */
  accept: z.enum(['none', 'default', 'all'], { error: 'is not one of none, default, all' }).optional(),
  /** Accepted routes go into the kernel (ECMP across peers); false keeps them in the Adj-RIB-In only. */
  install: z.boolean({ error: 'is not true or false' }).default(true),
  maxPrefixes: intRange(1, 100_000_000, 'a prefix limit').optional(),
  port: intRange(1, 65535, 'a TCP port').default(179),
  /** Local address to connect from and use as next hop; default: what the kernel picks. */
  localAddress: ipAddress.optional(),
  /** IPv6 next hop for IPv6 prefixes over an IPv4 session (RFC 4760 3, RFC 2545). */
  ipv6NextHop: ipAddress.optional(),
  connectRetryTime: intRange(1, 65535, 'a number of seconds').default(30),
  /** A label for logs and status. */
  description: z.string().optional(),
  /** TCP MD5 signature (RFC 2385); never logged or shown. Exclusive with passwordFile. */
  password: md5Password.optional(),
  /** A file holding the password (a mounted Secret), read when the configuration is loaded. */
  passwordFile: z.string({ error: 'is not a file path' }).min(1, { error: 'is not a file path' }).optional(),
  /** GTSM (RFC 5082): `true` = directly connected (1 hop), or the number of hops, 1..254. */
  ttlSecurity: z
    .union([z.boolean(), z.number()], { error: 'is not true, false or a hop count in 1..254' })
    .refine((v) => typeof v === 'boolean' || (Number.isInteger(v) && v >= 1 && v <= 254), {
      error: 'is not true, false or a hop count in 1..254',
    })
    .optional(),
  /** Which of the node's prefixes go to this peer; default: all of them. */
  export: prefixListSchema.optional(),
  /** Which received prefixes are kept (together with `accept`). */
  import: prefixListSchema.optional(),
  /** false: no graceful restart with this peer even when bgp.gracefulRestart is set. */
  gracefulRestart: z.boolean({ error: 'is not true or false' }).default(true),
  /** BFD watches the path to this peer; a BFD failure takes the session down at once (RFC 5882); bfd.ts. */
  bfd: bfdSchema.optional(),
  /** Added to the global bgp.communities on every route sent to this peer (RFC 1997, RFC 8092). */
  communities: communityList.optional(),
  largeCommunities: largeCommunityList.optional(),
  /**
   * RFC 9687: seconds without any progress writing to this peer before the session is torn down
   * with NOTIFICATION Send Hold Timer Expired. Default: 8 minutes or twice the negotiated hold
   * time, whichever is larger (RFC 9687 6); greater than holdTime (4.4); no timer with hold time 0.
   */
  sendHoldTime: intRange(10, 65535, 'a number of seconds').optional(),
});

/**
 * Resolves what depends on several keys: password vs passwordFile (the file is read here, its
 * trailing newline dropped, so a Secret written with `echo` works), sendHoldTime above holdTime,
 * ttlSecurity as a hop count, and accept's default.
 */
export const bgpPeerSchema = peerFields.transform((peer, ctx) => {
  const { ttlSecurity, ...rest } = peer;
  const password = inlineOrFile(
    ctx,
    { inline: 'password', file: 'passwordFile' },
    peer.password,
    peer.passwordFile,
  );
  if (password === false) return z.NEVER;
  if (peer.passwordFile !== undefined) {
    const check = md5Password.safeParse(password);
    if (!check.success) {
      ctx.addIssue({ code: 'custom', path: ['passwordFile'], message: `holds a password that ${md5Error}` });
      return z.NEVER;
    }
  }
  // RFC 9687 4.4: a non-zero SendHoldTime MUST be greater than the hold time (the negotiated one is
  // never above ours, so this holds for it too). With hold time 0 there is no send hold timer.
  if (peer.sendHoldTime !== undefined && peer.holdTime !== 0 && peer.sendHoldTime <= peer.holdTime) {
    ctx.addIssue({
      code: 'custom',
      path: ['sendHoldTime'],
      message: `is not greater than holdTime (${peer.holdTime} s), as RFC 9687 4.4 requires`,
    });
    return z.NEVER;
  }
  const hops = ttlSecurity === true ? 1 : ttlSecurity === false ? undefined : ttlSecurity;
  return {
    ...rest,
    accept: peer.accept ?? (peer.import ? 'all' : 'none'),
    ...(password !== undefined ? { password } : {}),
    ...(hops !== undefined ? { ttlSecurity: hops } : {}),
  };
});

/**
 * Graceful restart (RFC 4724): `true` takes the defaults, `false` is the same as leaving it out; the
 * restart time (seconds, the 12-bit field of RFC 4724 3) is how long peers keep this node's routes
 * while podroute restarts.
 */
const gracefulRestartSchema = z
  .union(
    [z.boolean(), z.strictObject({ restartTime: intRange(1, 4095, 'a number of seconds').default(120) })],
    { error: 'is not true, false or { restartTime: 1..4095 }' },
  )
  .transform((v) => (v === true ? { restartTime: 120 } : v === false ? undefined : v));

const bgpFields = z.strictObject({
  /** The local ASN; with asnFromLabel or a matching asnOverrides entry, that one instead. */
  asn: asn.optional(),
  /** A node label holding the local ASN (e.g. podroute.io/asn); exclusive with asn. */
  asnFromLabel: z
    .string({ error: 'is not a label name' })
    .min(1, { error: 'is not a label name' })
    .optional(),
  /** The first entry whose nodeSelector matches the node's labels sets the local ASN. */
  asnOverrides: z.array(z.strictObject({ nodeSelector, asn })).optional(),
  /** Port to listen on for passive peers; default 179. 0 disables listening. */
  listenPort: intRange(0, 65535, 'a TCP port').default(179),
  peers: z.array(bgpPeerSchema).default([]),
  /** Optional: SIGTERM then means restart (sessions close the graceful way, routes stay). */
  gracefulRestart: gracefulRestartSchema.optional(),
  /** On every route this node announces (RFC 1997 communities, RFC 8092 large communities). */
  communities: communityList.optional(),
  largeCommunities: largeCommunityList.optional(),
  /**
   * RFC 8326: a session taken down on purpose (drain, stop without graceful restart, a removed peer)
   * first re-announces with GRACEFUL_SHUTDOWN and waits this long before withdrawing. The wait
   * delays the daemon's exit by as much, so it is capped at 30 s (Kubernetes' default grace period).
   */
  gracefulShutdown: z
    .strictObject(
      { wait: intRange(0, 30, 'a number of seconds').default(0) },
      { error: 'is not { wait: 0..30 }' },
    )
    .optional(),
});

/** asn or asnFromLabel (peer-selection.ts resolves them per node). */
export const bgpSchema = bgpFields.superRefine(
  (bgp, ctx) => {
    if (bgp.asn !== undefined && bgp.asnFromLabel !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['asnFromLabel'],
        message: 'is given together with asn: set only one of them',
      });
    else if (bgp.asn === undefined && bgp.asnFromLabel === undefined)
      ctx.addIssue({ code: 'custom', path: ['asn'], message: 'is required (or bgp.asnFromLabel)' });
    // Also when a peer is invalid: a missing ASN is reported with the other problems.
  },
  { when: (p) => typeof p.value === 'object' && p.value !== null },
);

export type BgpPeerConfig = z.infer<typeof bgpPeerSchema>;
export type BgpConfig = z.infer<typeof bgpSchema>;
