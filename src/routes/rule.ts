/**
 * Policy routing rules (`ip rule`), the model and the diff. podroute programs only
 * "from <source prefix> [iif <link>] [to <prefix>] lookup <table>" rules at a given preference
 * (the selectors the VLAN data plane needs, vlan-ipam.ts), tagged with its protocol
 * (FRA_PROTOCOL, Linux 4.17+), and, as with routes, only ever changes or deletes rules carrying
 * that tag; the kernel itself refuses to delete a rule whose protocol differs (ENOENT).
 */
import { comparePrefix, formatPrefix, type Prefix } from '../net/prefix.js';

export interface Rule {
  /** Preference (FRA_PRIORITY): lower runs first; the main table's rule is 32766. */
  readonly priority: number;
  /** Source prefix (FRA_SRC); its family is the rule's family. */
  readonly src: Prefix;
  readonly table: number;
  /** Incoming interface (FRA_IIFNAME); absent: any. */
  readonly iif?: string | undefined;
  /** Destination prefix (FRA_DST); absent: any. */
  readonly dst?: Prefix | undefined;
}

export interface KernelRule extends Rule {
  readonly protocol: number;
}

export function ruleKey(r: Rule): string {
  const iif = r.iif === undefined ? '' : ` iif ${r.iif}`;
  const to = r.dst === undefined ? '' : ` to ${formatPrefix(r.dst)}`;
  return `${r.priority} from ${formatPrefix(r.src)}${iif}${to} lookup ${r.table}`;
}

export function describeRule(r: Rule): string {
  return ruleKey(r);
}

export function compareRule(a: Rule, b: Rule): number {
  return (
    a.priority - b.priority ||
    comparePrefix(a.src, b.src) ||
    (a.iif ?? '').localeCompare(b.iif ?? '') ||
    (a.dst && b.dst ? comparePrefix(a.dst, b.dst) : Number(!!a.dst) - Number(!!b.dst)) ||
    a.table - b.table
  );
}

export interface RuleDiff {
  readonly add: Rule[];
  readonly remove: KernelRule[];
}

/** A rule has no attributes beyond its key, so a change is always remove plus add. */
export function diffRules(
  desired: readonly Rule[],
  current: readonly KernelRule[],
  protocol: number,
): RuleDiff {
  const ours = current.filter((r) => r.protocol === protocol);
  const have = new Set(ours.map(ruleKey));
  const want = new Set(desired.map(ruleKey));
  const add = [...new Map(desired.map((r) => [ruleKey(r), r])).values()].filter((r) => !have.has(ruleKey(r)));
  // Identical duplicates of ours (same key twice) leave one behind: the extra copies go too.
  const seen = new Set<string>();
  const remove = ours.filter((r) => {
    const k = ruleKey(r);
    const dup = seen.has(k);
    seen.add(k);
    return dup || !want.has(k);
  });
  return { add: add.sort(compareRule), remove: remove.sort(compareRule) };
}
