/**
 * A BGP peer's `bfd:` key (reference: docs/configuration.md): timers for RFC 5880 asynchronous
 * mode, single hop (RFC 5881), and optional authentication (RFC 5880 6.7): Simple Password
 * (4.2.2), Keyed / Meticulous Keyed MD5 (4.2.3) and SHA1 (4.2.4), one key with its Key ID.
 */
import { z } from 'zod';
import { inlineOrFile, intRange } from './rules.js';

export const BFD_AUTH_TYPES = [
  'simple',
  'keyed-md5',
  'meticulous-keyed-md5',
  'keyed-sha1',
  'meticulous-keyed-sha1',
] as const;
export type BfdAuthTypeName = (typeof BFD_AUTH_TYPES)[number];

/** RFC 5880 4.2.2-4.2.4: a password of 1..16 bytes; an MD5 key up to 16, a SHA1 key up to 20. */
function keyRange(type: BfdAuthTypeName): [number, number, string] {
  if (type === 'simple') return [1, 16, 'a simple password has 1..16 bytes (RFC 5880 4.2.2)'];
  if (type.endsWith('md5')) return [1, 16, 'an MD5 key has 1..16 bytes (RFC 5880 4.2.3)'];
  return [1, 20, 'a SHA1 key has 1..20 bytes (RFC 5880 4.2.4)'];
}

const authFields = z.strictObject(
  {
    type: z.enum(BFD_AUTH_TYPES, { error: `is not one of ${BFD_AUTH_TYPES.join(', ')}` }),
    /** RFC 5880 4.2: Auth Key ID, one octet; the peer must use the same. */
    keyId: intRange(0, 255, 'a key ID'),
    /** Never logged or shown. Exclusive with keyFile. */
    key: z.string({ error: 'is not a string' }).optional(),
    /** A file holding the key (a mounted Secret), read when the configuration is loaded. */
    keyFile: z.string({ error: 'is not a file path' }).min(1, { error: 'is not a file path' }).optional(),
  },
  { error: 'is not { type, keyId, key | keyFile }' },
);

/** key or keyFile (its trailing newline dropped, as for passwordFile), its length checked per type. */
const authSchema = authFields.transform((a, ctx) => {
  const key = inlineOrFile(ctx, { inline: 'key', file: 'keyFile' }, a.key, a.keyFile);
  if (key === false) return z.NEVER;
  const where = a.keyFile !== undefined ? 'keyFile' : 'key';
  if (key === undefined) {
    ctx.addIssue({ code: 'custom', path: [], message: 'has neither key nor keyFile' });
    return z.NEVER;
  }
  const [min, max, rule] = keyRange(a.type);
  const bytes = Buffer.byteLength(key);
  if (bytes < min || bytes > max) {
    const what = where === 'keyFile' ? 'holds a key of' : 'is';
    ctx.addIssue({ code: 'custom', path: [where], message: `${what} ${bytes} bytes: ${rule}` });
    return z.NEVER;
  }
  return { type: a.type, keyId: a.keyId, key };
});

/**
 * `true` takes 300/300/3. The intervals are what podroute asks for; the session runs at the slower of
 * each pair (RFC 5880 6.8.2, 6.8.3). 10 ms..60 s is what the 32-bit microsecond fields and bfdd accept.
 * `true` and `false` are mapped before the object is checked, not by a union: a union reports a
 * failed object as a whole, with its value, which would echo the key.
 */
const bfdError = 'is not true, false or { minRx, minTx: 10..60000 ms, multiplier: 1..255, authentication }';
const bfdObject = z.strictObject(
  {
    minRx: intRange(10, 60_000, 'a number of milliseconds').default(300),
    minTx: intRange(10, 60_000, 'a number of milliseconds').default(300),
    /** RFC 5880 4.1: Detect Mult, nonzero, one octet. */
    multiplier: intRange(1, 255, 'a detection multiplier').default(3),
    /** RFC 5880 6.7; absent: none (packets with the A bit are then discarded, 6.8.6). */
    authentication: authSchema.optional(),
  },
  { error: bfdError },
);
export const bfdSchema = z.preprocess(
  (v) => (v === true ? {} : v === false ? undefined : v),
  bfdObject.optional(),
);

export type BgpPeerBfdConfig = z.infer<typeof bfdObject>;
