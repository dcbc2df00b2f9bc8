/**
 * The prefix lists of a BGP peer's `export` and `import` policy (src/bgp/policy/ evaluates them).
 *
 * A list is written either per family, `{ ipv4: [...], ipv6: [...] }`, or as one list whose entries
 * name their family through their prefix. An entry is `{ prefix, ge?, le?, action }`; the lengths
 * follow the usual router convention: without ge/le only the prefix itself matches, `ge`/`le`
 * bound the length of the more specific prefixes inside it.
 */
import { z } from 'zod';
import { parsePrefix } from '../net/prefix.js';
import { prefixText } from './rules.js';

/** The range check depends on the prefix (below), so here only "is it a whole number". */
const prefixLength = z.number({ error: 'is not a prefix length' }).int({ error: 'is not a prefix length' });

const entrySchema = z
  .strictObject({
    prefix: prefixText,
    ge: prefixLength.optional(),
    le: prefixLength.optional(),
    action: z.enum(['permit', 'deny'], { error: 'is not one of permit, deny' }),
  })
  .superRefine((e, ctx) => {
    let own: number;
    let max: number;
    try {
      const p = parsePrefix(e.prefix);
      own = p.length;
      max = p.family === 4 ? 32 : 128;
    } catch {
      return; // prefixText has reported it
    }
    if (e.ge !== undefined && (e.ge < own || e.ge > max)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ge'],
        message: `is not a prefix length in ${own}..${max} (ge is at least the prefix's own length)`,
      });
      return;
    }
    const low = Math.max(own, e.ge ?? own);
    if (e.le !== undefined && (e.le < low || e.le > max)) {
      ctx.addIssue({
        code: 'custom',
        path: ['le'],
        message: `is not a prefix length in ${low}..${max} (le is at least ge and the prefix's own length)`,
      });
    }
  });

export type PrefixListEntryConfig = z.infer<typeof entrySchema>;

function familyList(family: 4 | 6) {
  return z.array(entrySchema).superRefine((entries, ctx) => {
    entries.forEach((e, i) => {
      let f: number;
      try {
        f = parsePrefix(e.prefix).family;
      } catch {
        return;
      }
      if (f !== family) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'prefix'],
          message: `is not an IPv${family} prefix (this list is ipv${family})`,
        });
      }
    });
  });
}

const listSchema = z.array(entrySchema);
const perFamilySchema = z.strictObject({
  ipv4: familyList(4).optional(),
  ipv6: familyList(6).optional(),
});

/**
 * Each family's entries, in the order written. A family that is absent has no list (the default
 * policy applies to it); the one-list form gives both families a list, so a family without
 * entries there is denied by the implicit deny.
 */
export interface PrefixListConfig {
  readonly ipv4?: readonly PrefixListEntryConfig[];
  readonly ipv6?: readonly PrefixListEntryConfig[];
}

/** `export:` or `import:` of a peer: a list, or `{ ipv4, ipv6 }`, split by family. */
export const prefixListSchema = z.unknown().transform((v, ctx): PrefixListConfig => {
  if (v === null || typeof v !== 'object') {
    ctx.addIssue({
      code: 'custom',
      message: 'is not a list of { prefix, ge, le, action } entries, nor { ipv4: [...], ipv6: [...] }',
    });
    return z.NEVER;
  }
  if (Array.isArray(v)) {
    const r = listSchema.safeParse(v);
    if (!r.success) {
      for (const issue of r.error.issues) ctx.addIssue({ ...issue } as never);
      return z.NEVER;
    }
    const family = (e: PrefixListEntryConfig): number => parsePrefix(e.prefix).family;
    return { ipv4: r.data.filter((e) => family(e) === 4), ipv6: r.data.filter((e) => family(e) === 6) };
  }
  const r = perFamilySchema.safeParse(v);
  if (!r.success) {
    for (const issue of r.error.issues) ctx.addIssue({ ...issue } as never);
    return z.NEVER;
  }
  return {
    ...(r.data.ipv4 ? { ipv4: r.data.ipv4 } : {}),
    ...(r.data.ipv6 ? { ipv6: r.data.ipv6 } : {}),
  };
});
