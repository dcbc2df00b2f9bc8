/**
 * One peer's routing policy: which of the node's prefixes are announced to it (`export`) and
 * which received prefixes are kept (`import`, together with `accept`). Pure: built from the peer's
 * configuration, asked one prefix at a time.
 *
 * RFC 8212 3 says an eBGP speaker must not announce or accept routes without a configured policy.
 * podroute originates only the node's own prefixes and never passes a received route on, so its
 * policy without any `export`/`import` key is an explicit default, the same for eBGP and iBGP:
 * out, the node's own prefixes (what it exists to announce); in, what `accept` allows, which is
 * `none` unless configured. Nothing else ever crosses an eBGP session.
 *
 * Per family: a family with a list is decided by it (first match wins, implicit deny, see
 * prefix-list.ts); a family without one follows the default. Import lists narrow `accept`: a
 * prefix is kept when both allow it (an `import` list alone implies `accept: all`, resolved in the
 * configuration).
 */
import type { PrefixListConfig } from '../../config/bgp-policy.js';
import type { Prefix } from '../../net/prefix.js';
import { type AcceptPolicy, accepts } from './accept.js';
import { compilePrefixList, evaluatePrefixList, type PrefixList } from './prefix-list.js';

export interface PeerPolicyConfig {
  readonly accept: AcceptPolicy;
  readonly export?: PrefixListConfig;
  readonly import?: PrefixListConfig;
}

interface FamilyLists {
  readonly 4?: PrefixList;
  readonly 6?: PrefixList;
}

/** Why a prefix got its verdict, in words for logs and tests. */
export type PolicyReason =
  | 'default export (own prefixes)'
  | 'accept policy'
  | `${'export' | 'import'} ipv${4 | 6} entry ${number}`
  | `${'export' | 'import'} ipv${4 | 6} implicit deny`;

export interface PolicyVerdict {
  readonly allowed: boolean;
  readonly reason: PolicyReason;
}

export interface PeerPolicy {
  /** Whether one of the node's own prefixes is announced to this peer. */
  exports(p: Prefix): boolean;
  /** Whether a prefix received from this peer is kept. */
  imports(p: Prefix): boolean;
  explainExport(p: Prefix): PolicyVerdict;
  explainImport(p: Prefix): PolicyVerdict;
}

function compile(cfg: PrefixListConfig | undefined): FamilyLists {
  if (!cfg) return {};
  return {
    ...(cfg.ipv4 ? { 4: compilePrefixList(cfg.ipv4) } : {}),
    ...(cfg.ipv6 ? { 6: compilePrefixList(cfg.ipv6) } : {}),
  };
}

function byList(kind: 'export' | 'import', list: PrefixList, p: Prefix): PolicyVerdict {
  const v = evaluatePrefixList(list, p);
  const reason: PolicyReason =
    v.entry === undefined
      ? `${kind} ipv${p.family} implicit deny`
      : `${kind} ipv${p.family} entry ${v.entry}`;
  return { allowed: v.action === 'permit', reason };
}

export function peerPolicy(cfg: PeerPolicyConfig): PeerPolicy {
  const exportLists = compile(cfg.export);
  const importLists = compile(cfg.import);
  const explainExport = (p: Prefix): PolicyVerdict => {
    const list = exportLists[p.family];
    return list ? byList('export', list, p) : { allowed: true, reason: 'default export (own prefixes)' };
  };
  const explainImport = (p: Prefix): PolicyVerdict => {
    if (!accepts(cfg.accept, p)) return { allowed: false, reason: 'accept policy' };
    const list = importLists[p.family];
    return list ? byList('import', list, p) : { allowed: true, reason: 'accept policy' };
  };
  // The yes/no forms run once per received prefix (a full table: a million times): no verdict
  // object, no reason text, the same answer as the explain forms (test/bgp/peer-policy.test.ts).
  return {
    exports: (p) => {
      const list = exportLists[p.family];
      return list ? evaluatePrefixList(list, p).action === 'permit' : true;
    },
    imports: (p) => {
      if (!accepts(cfg.accept, p)) return false;
      const list = importLists[p.family];
      return list ? evaluatePrefixList(list, p).action === 'permit' : true;
    },
    explainExport,
    explainImport,
  };
}
