/**
 * Reusable schema pieces. Every rule carries its own message, worded to follow the offending value:
 * the loader prints `path: value message`, e.g. `bgp.peers[1].asn: 4294967296 is not a valid ASN
 * (0..4294967295)`.
 */
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { parseAddress, parsePrefix } from '../net/prefix.js';

export const asn = z
  .number({ error: 'is not a valid ASN (0..4294967295)' })
  .int({ error: 'is not a valid ASN (0..4294967295)' })
  .min(0, { error: 'is not a valid ASN (0..4294967295)' })
  .max(4294967295, { error: 'is not a valid ASN (0..4294967295)' });

export function intRange(min: number, max: number, what = 'an integer') {
  const error = `is not ${what} in ${min}..${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

export const ipv4Address = z.string({ error: 'is not an IPv4 address' }).refine(isIPv4, {
  error: 'is not an IPv4 address',
});

export const ipAddress = z.string({ error: 'is not an IP address' }).refine(
  (s) => {
    try {
      parseAddress(s);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'is not an IPv4 or IPv6 address' },
);

/** A prefix in canonical form (no host bits), e.g. 198.19.1.0/24. */
export const prefixText = z.string({ error: 'is not a prefix' }).superRefine((s, ctx) => {
  try {
    parsePrefix(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `is not a valid prefix: ${(e as Error).message}` });
  }
});

/** RFC 2328 A.3.1: OSPF areas are written as dotted quads (a bare number is accepted too). */
export const areaId = z
  .union([z.string(), z.number()], { error: 'is not an area id' })
  .transform((v, ctx) => {
    if (typeof v === 'number') {
      if (Number.isInteger(v) && v >= 0 && v <= 0xffffffff)
        return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
    } else if (isIPv4(v)) return v;
    ctx.addIssue({
      code: 'custom',
      message: 'is not an area id (dotted quad like 0.0.0.0, or 0..4294967295)',
    });
    return z.NEVER;
  });

/**
 * A secret given inline (`password`) or as a file (`passwordFile`, a mounted Secret), at most one of
 * them. The file is read when the configuration is loaded, its trailing newline dropped. On a
 * problem the issue is added at the file's key and `false` returned; otherwise the secret, or
 * undefined when neither is given.
 */
export function inlineOrFile(
  ctx: z.RefinementCtx,
  names: { inline: string; file: string },
  inline: string | undefined,
  file: string | undefined,
): string | undefined | false {
  if (file === undefined) return inline;
  if (inline !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [names.file],
      message: `is given together with ${names.inline}: set only one of them`,
    });
    return false;
  }
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    ctx.addIssue({ code: 'custom', path: [names.file], message: `cannot be read (${code})` });
    return false;
  }
}
