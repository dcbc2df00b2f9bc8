/**
 * Prefix lists: ordered `{ prefix, ge?, le?, action }` entries, first match wins, implicit deny
 * when nothing matches (the usual router semantics, e.g. FRR's and Cisco's `ip prefix-list`).
 *
 * An entry matches a route's prefix P when P lies inside the entry's prefix E, has E's family, and
 * its length is in the entry's range: exactly E's length without ge/le; `ge`..max with only `ge`;
 * E's length..`le` with only `le`; `ge`..`le` with both. Pure: no I/O, no state.
 */
import type { PrefixListEntryConfig } from '../../config/bgp-policy.js';
import { addressBits, type Prefix, parsePrefix, prefixContains } from '../../net/prefix.js';

export type PolicyAction = 'permit' | 'deny';

export interface PrefixListEntry {
  readonly prefix: Prefix;
  /** Inclusive range of matched lengths. */
  readonly minLength: number;
  readonly maxLength: number;
  readonly action: PolicyAction;
}

export type PrefixList = readonly PrefixListEntry[];

/** The verdict, and which entry gave it (undefined: the implicit deny at the end). */
export interface ListVerdict {
  readonly action: PolicyAction;
  readonly entry?: number;
}

/** Entries as written in the configuration (already validated there) → a list. */
export function compilePrefixList(entries: readonly PrefixListEntryConfig[]): PrefixList {
  return entries.map((e) => {
    const prefix = parsePrefix(e.prefix);
    const max = addressBits(prefix.family);
    let minLength = prefix.length;
    let maxLength = prefix.length;
    if (e.ge !== undefined || e.le !== undefined) {
      minLength = e.ge ?? prefix.length;
      maxLength = e.le ?? max;
    }
    return { prefix, minLength, maxLength, action: e.action };
  });
}

export function entryMatches(entry: PrefixListEntry, p: Prefix): boolean {
  return (
    p.family === entry.prefix.family &&
    p.length >= entry.minLength &&
    p.length <= entry.maxLength &&
    prefixContains(entry.prefix, p)
  );
}

export function evaluatePrefixList(list: PrefixList, p: Prefix): ListVerdict {
  for (let i = 0; i < list.length; i++) {
    const entry = list[i]!;
    if (entryMatches(entry, p)) return { action: entry.action, entry: i };
  }
  return { action: 'deny' };
}
