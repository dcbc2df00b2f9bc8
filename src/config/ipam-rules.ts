/**
 * Cross-field rules of the `ipam:` section, each explained in operator words (the config loader
 * prints `key.path: value rule`). Called from the zod schema (ipam.ts beside this file) so a bad
 * topology stops the daemon at start, and again by `Topology.build` (src/ipam/topology.ts) for
 * callers that skip the schema.
 *
 * Rules: networks never overlap (one address, one network); every range holds at least one block;
 * a group's explicit ranges lie inside its parent's ranges and are no smaller than a block; sibling
 * groups never overlap; names are unique so stored claims can name their group.
 *
 * The rules read plain fields, declared here, not the schema's inferred types: the schema imports
 * the rules, so the rules must not import the schema (and IPAM imports both, never the reverse).
 */
import { intersect } from '../net/aggregate.js';
import {
  addressBits,
  type Family,
  formatPrefix,
  type Prefix,
  parseAddress,
  parsePrefix,
  prefixContains,
  prefixesOverlap,
} from '../net/prefix.js';

/** One `ipam.groups[]` entry after the shape check (the schema in ipam.ts produces it). */
export interface IpamGroupConfig {
  name: string;
  /** Node labels that must all match (key: value); empty matches every node. */
  selector: Record<string, string>;
  /** Explicit ranges for this group; absent: it draws blocks from its parent's free space. */
  cidrs?: string[];
  /** Network names this group uses; absent: the parent's (at the top: all). */
  networks?: string[];
  groups: IpamGroupConfig[];
}

/** The fields of one `ipam.networks[]` entry the rules read. */
export interface IpamNetworkFields {
  name: string;
  cidr?: string | undefined;
  cidrs?: string[] | undefined;
  blockSize?: number | undefined;
  gateway?: string | undefined;
  reserved: string[];
}

/** The fields of the `ipam:` section the rules read. */
export interface IpamRulesInput {
  networks: readonly IpamNetworkFields[];
  groups: readonly IpamGroupConfig[];
}

export interface Problem {
  path: (string | number)[];
  message: string;
}

/** Largest block: 2^16 addresses, so a block's free list stays a small typed array. */
export const MAX_BLOCK_HOST_BITS = 16;

export function defaultBlockSize(family: Family): number {
  return family === 4 ? 26 : 122;
}

function tryPrefix(text: string | undefined): Prefix | undefined {
  if (text === undefined) return undefined;
  try {
    return parsePrefix(text);
  } catch {
    return undefined;
  }
}

/** A network's ranges as given (`cidr` or `cidrs`), with their config paths. */
export function networkRanges(n: IpamNetworkFields): { prefix: Prefix; path: (string | number)[] }[] {
  if (n.cidr !== undefined) {
    const p = tryPrefix(n.cidr);
    return p ? [{ prefix: p, path: ['cidr'] }] : [];
  }
  const out: { prefix: Prefix; path: (string | number)[] }[] = [];
  (n.cidrs ?? []).forEach((c, i) => {
    const p = tryPrefix(c);
    if (p) out.push({ prefix: p, path: ['cidrs', i] });
  });
  return out;
}

interface NetInfo {
  name: string;
  family: Family | undefined;
  ranges: Prefix[];
  blockSize: number;
}

export function validateIpam(cfg: IpamRulesInput): Problem[] {
  const problems: Problem[] = [];
  const nets = new Map<string, NetInfo>();
  const allRanges: { prefix: Prefix; path: (string | number)[] }[] = [];

  cfg.networks.forEach((n, i) => {
    const base = ['networks', i];
    if (nets.has(n.name)) {
      problems.push({ path: [...base, 'name'], message: 'is the name of an earlier network too' });
    }
    const ranges = networkRanges(n);
    const family = ranges[0]?.prefix.family;
    const blockSize = n.blockSize ?? defaultBlockSize(family ?? 4);
    if (family !== undefined) {
      const bits = addressBits(family);
      if (blockSize > bits) {
        problems.push({
          path: [...base, 'blockSize'],
          message: `is longer than an IPv${family} prefix (max /${bits})`,
        });
      } else if (bits - blockSize > MAX_BLOCK_HOST_BITS) {
        problems.push({
          path: [...base, 'blockSize'],
          message: `makes blocks of 2^${bits - blockSize} addresses; use /${bits - MAX_BLOCK_HOST_BITS} or longer`,
        });
      }
    }
    for (const r of ranges) {
      const path = [...base, ...r.path];
      if (r.prefix.family !== family) {
        problems.push({
          path,
          message: `is IPv${r.prefix.family} but the network's first range is IPv${family}`,
        });
      } else if (r.prefix.length > blockSize) {
        problems.push({
          path,
          message: `is smaller than one block (/${blockSize}); lengthen blockSize or widen it`,
        });
      }
      for (const other of allRanges) {
        if (prefixesOverlap(other.prefix, r.prefix)) {
          problems.push({
            path,
            message: `overlaps ipam.${dotted(other.path)} (${formatPrefix(other.prefix)})`,
          });
        }
      }
      allRanges.push({ prefix: r.prefix, path: ['networks', i, ...r.path] });
    }
    const inside = (text: string, path: (string | number)[], what: string): void => {
      let addr: Prefix | undefined;
      try {
        addr = text.includes('/') ? parsePrefix(text) : prefixOfAddress(text);
      } catch {
        return; // the shape check already reported it
      }
      if (!ranges.some((r) => prefixContains(r.prefix, addr))) {
        problems.push({
          path,
          message: `is outside network ${n.name} (${what} must lie in one of its ranges)`,
        });
      }
    };
    if (n.gateway !== undefined) inside(n.gateway, [...base, 'gateway'], 'a gateway');
    n.reserved.forEach((r, k) => {
      inside(r, [...base, 'reserved', k], 'a reserved range');
    });
    if (!nets.has(n.name))
      nets.set(n.name, { name: n.name, family, ranges: ranges.map((r) => r.prefix), blockSize });
  });

  const groupNames = new Set<string>();
  const explicit: { prefix: Prefix; path: (string | number)[]; ancestors: Set<string>; name: string }[] = [];

  const walk = (
    g: IpamGroupConfig,
    path: (string | number)[],
    parentNets: string[],
    parentRanges: Prefix[],
    parentName: string | undefined,
    ancestors: Set<string>,
  ): void => {
    if (groupNames.has(g.name))
      problems.push({ path: [...path, 'name'], message: 'is the name of another group too' });
    groupNames.add(g.name);
    let myNets = parentNets;
    if (g.networks !== undefined) {
      g.networks.forEach((name, k) => {
        if (!nets.has(name))
          problems.push({ path: [...path, 'networks', k], message: 'is not a network in ipam.networks' });
        else if (!parentNets.includes(name)) {
          problems.push({
            path: [...path, 'networks', k],
            message: `is not a network of parent group ${parentName}`,
          });
        }
      });
      myNets = g.networks.filter((n) => parentNets.includes(n));
    }
    const netRanges = myNets.flatMap((n) => nets.get(n)?.ranges ?? []);
    const allowed = intersect(parentRanges, netRanges);
    let myRanges = allowed;
    if (g.cidrs !== undefined) {
      const mine: Prefix[] = [];
      g.cidrs.forEach((c, k) => {
        const p = tryPrefix(c);
        if (!p) return;
        const where = [...path, 'cidrs', k];
        mine.push(p);
        const owner = [...nets.values()].find(
          (n) => myNets.includes(n.name) && n.ranges.some((r) => prefixContains(r, p)),
        );
        if (!allowed.some((r) => prefixContains(r, p))) {
          const overlapping = allowed.filter((r) => prefixesOverlap(r, p));
          const parent = parentName ? `parent group ${parentName}` : 'its networks';
          problems.push({
            path: where,
            message:
              overlapping.length > 0
                ? `is larger than ${parent} (${overlapping.map(formatPrefix).join(', ')})`
                : `is outside ${parent} (${allowed.map(formatPrefix).join(', ') || 'no ranges'})`,
          });
        } else if (owner && p.length > owner.blockSize) {
          problems.push({
            path: where,
            message: `is smaller than one block of network ${owner.name} (/${owner.blockSize}): a block cannot be larger than its group`,
          });
        }
        for (const e of explicit) {
          if (!ancestors.has(e.name) && prefixesOverlap(e.prefix, p)) {
            problems.push({
              path: where,
              message: `overlaps group ${e.name} at ipam.${dotted(e.path)} (${formatPrefix(e.prefix)})`,
            });
          }
        }
      });
      mine.forEach((p, k) => {
        explicit.push({ prefix: p, path: [...path, 'cidrs', k], ancestors, name: g.name });
      });
      myRanges = intersect(mine, allowed);
    }
    const next = new Set(ancestors).add(g.name);
    g.groups.forEach((child, k) => {
      walk(child, [...path, 'groups', k], myNets, myRanges, g.name, next);
    });
  };
  const allNets = [...nets.keys()];
  const everything = [...nets.values()].flatMap((n) => n.ranges);
  cfg.groups.forEach((g, i) => {
    walk(g, ['groups', i], allNets, everything, undefined, new Set());
  });
  return problems;
}

export function prefixOfAddress(text: string): Prefix {
  const bytes = parseAddress(text);
  return parsePrefix(`${text}/${bytes.length * 8}`);
}

function dotted(path: (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}
