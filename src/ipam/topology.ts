/**
 * The topology: pod networks and the tree of groups nodes are placed in.
 *
 * Romana carved each parent range into equal power-of-two slices by list position, so adding a
 * fifth group renumbered every group (4 slices became 8). Here a group's range is never derived
 * from list order: a group either names its ranges (`cidrs`) or draws blocks from its nearest
 * explicit ancestor's free space (the networks at the top), and where blocks lie is decided by the
 * claims in the store. Adding a group or a network therefore moves no existing block.
 */
import type { IpamConfig, IpamGroupConfig } from '../config/ipam.js';
import { defaultBlockSize, networkRanges, prefixOfAddress, validateIpam } from '../config/ipam-rules.js';
import { intersect, subtract } from '../net/aggregate.js';
import {
  addressBits,
  type Family,
  type Prefix,
  parseAddress,
  parsePrefix,
  prefixContains,
} from '../net/prefix.js';

export class IpamConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'IpamConfigError';
  }
}

export interface NetworkSpec {
  readonly name: string;
  readonly family: Family;
  readonly ranges: readonly Prefix[];
  /** Prefix length of one block. */
  readonly blockLength: number;
  readonly vlan?: number;
  readonly gateway?: string;
  /** The node interface a VLAN network lives on (eth1.100): its policy routes use it. */
  readonly interface?: string;
  /** Never handed out: each range's first and last address, the gateway, `reserved`. */
  readonly reserved: readonly Prefix[];
}

export interface GroupSpec {
  readonly name: string;
  /** Names from the top, joined by `/` (zone-a/rack-1). */
  readonly path: string;
  readonly depth: number;
  readonly order: number;
  readonly selector: Readonly<Record<string, string>>;
  /** Explicit ranges; undefined: the group shares its nearest explicit ancestor's free space. */
  readonly explicit?: readonly Prefix[];
  readonly networks: readonly NetworkSpec[];
  readonly parent?: GroupSpec;
  readonly children: GroupSpec[];
}

/** The group every node lands in when `ipam.groups` is empty. */
export const DEFAULT_GROUP = 'default';

export class Topology {
  readonly networks: readonly NetworkSpec[];
  /** Pre-order (parents before children), config order among siblings. */
  readonly groups: readonly GroupSpec[];
  private readonly byName = new Map<string, GroupSpec>();
  private readonly pools = new Map<string, Prefix[]>();

  private constructor(networks: NetworkSpec[], groups: GroupSpec[]) {
    this.networks = networks;
    this.groups = groups;
    for (const g of groups) this.byName.set(g.name, g);
  }

  /** Builds from a schema-checked config; throws IpamConfigError listing every rule broken. */
  static build(cfg: IpamConfig): Topology {
    const problems = validateIpam(cfg);
    if (problems.length > 0) {
      throw new IpamConfigError(problems.map((p) => `ipam.${formatPath(p.path)}: ${p.message}`));
    }
    const networks: NetworkSpec[] = cfg.networks.map((n) => {
      const ranges = networkRanges(n).map((r) => r.prefix);
      const family = ranges[0]!.family;
      const bits = addressBits(family);
      const reserved: Prefix[] = [];
      for (const r of ranges) {
        // The first and last address of each range: network and broadcast in IPv4; in IPv6 the
        // Subnet-Router anycast address (RFC 4291 2.6.1) and the top one, kept out for symmetry.
        reserved.push(parsePrefix(`${formatBytes(r.bytes)}/${bits}`));
        reserved.push(lastAddress(r));
      }
      if (n.gateway) reserved.push(prefixOfAddress(n.gateway));
      for (const r of n.reserved) reserved.push(r.includes('/') ? parsePrefix(r) : prefixOfAddress(r));
      return {
        name: n.name,
        family,
        ranges,
        blockLength: n.blockSize ?? defaultBlockSize(family),
        ...(n.vlan !== undefined ? { vlan: n.vlan } : {}),
        ...(n.gateway !== undefined ? { gateway: n.gateway } : {}),
        ...(n.interface !== undefined ? { interface: n.interface } : {}),
        reserved,
      };
    });
    const groups: GroupSpec[] = [];
    const add = (
      g: IpamGroupConfig,
      parent: GroupSpec | undefined,
      parentNets: readonly NetworkSpec[],
    ): void => {
      const nets = g.networks ? parentNets.filter((n) => g.networks!.includes(n.name)) : parentNets;
      const spec: GroupSpec = {
        name: g.name,
        path: parent ? `${parent.path}/${g.name}` : g.name,
        depth: parent ? parent.depth + 1 : 0,
        order: groups.length,
        selector: g.selector,
        ...(g.cidrs ? { explicit: g.cidrs.map((c) => parsePrefix(c)) } : {}),
        networks: nets,
        ...(parent ? { parent } : {}),
        children: [],
      };
      parent?.children.push(spec);
      groups.push(spec);
      for (const c of g.groups) add(c, spec, nets);
    };
    const top = cfg.groups.length > 0 ? cfg.groups : [{ name: DEFAULT_GROUP, selector: {}, groups: [] }];
    for (const g of top) add(g, undefined, networks);
    return new Topology(networks, groups);
  }

  group(name: string): GroupSpec | undefined {
    return this.byName.get(name);
  }

  network(name: string): NetworkSpec | undefined {
    return this.networks.find((n) => n.name === name);
  }

  /** The network a block (or address) lies in. */
  networkOf(p: Prefix): NetworkSpec | undefined {
    return this.networks.find((n) => n.ranges.some((r) => prefixContains(r, p)));
  }

  /** Groups whose selector, and every ancestor's, matches the labels. */
  eligible(labels: Readonly<Record<string, string>>): GroupSpec[] {
    const matches = (g: GroupSpec): boolean =>
      Object.entries(g.selector).every(([k, v]) => labels[k] === v) && (!g.parent || matches(g.parent));
    return this.groups.filter(matches);
  }

  /**
   * Placement: the most specific (deepest) matching group; among equals the least loaded, then the
   * first in the config. A node already holding blocks in a group that still matches stays there,
   * so a restart or an added sibling group never moves it.
   */
  place(
    labels: Readonly<Record<string, string>>,
    load: (group: GroupSpec) => number,
    current?: string,
  ): GroupSpec | undefined {
    const eligible = this.eligible(labels);
    const stay = eligible.find((g) => g.name === current);
    if (stay) return stay;
    const depth = Math.max(-1, ...eligible.map((g) => g.depth));
    const deepest = eligible.filter((g) => g.depth === depth);
    let best: GroupSpec | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (const g of deepest) {
      const l = load(g);
      if (l < bestLoad) {
        best = g;
        bestLoad = l;
      }
    }
    return best;
  }

  /**
   * Where a group may claim blocks of a network: the ranges of its nearest explicit ancestor (or
   * self; the network at the top) minus the ranges of explicit groups under that ancestor, which
   * belong to them. Blocks already claimed are not subtracted here; the allocator does that.
   */
  pool(group: GroupSpec, network: NetworkSpec): Prefix[] {
    const key = `${group.name}\0${network.name}`;
    let cached = this.pools.get(key);
    if (cached) return cached;
    let owner: GroupSpec | undefined = group;
    while (owner && !owner.explicit) owner = owner.parent;
    const base = owner ? intersect(owner.explicit!, network.ranges) : [...network.ranges];
    const taken: Prefix[] = [];
    const collect = (gs: readonly GroupSpec[]): void => {
      for (const g of gs) {
        if (g.explicit) taken.push(...g.explicit);
        else collect(g.children);
      }
    };
    collect(owner ? owner.children : this.groups.filter((g) => !g.parent));
    cached = subtract(base, taken);
    this.pools.set(key, cached);
    return cached;
  }
}

function formatBytes(b: Buffer): string {
  return b.length === 4 ? [...b].join('.') : formatV6(b);
}

function formatV6(b: Buffer): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(i).toString(16));
  return parts.join(':');
}

function lastAddress(p: Prefix): Prefix {
  const bits = addressBits(p.family);
  const out = Buffer.from(p.bytes);
  for (let i = 0; i < out.length; i++) {
    const fixed = Math.max(0, Math.min(8, p.length - i * 8));
    out[i] = out[i]! | (0xff >> fixed);
  }
  return parsePrefix(`${formatBytes(out)}/${bits}`);
}

export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

/** Parses an address into a host prefix (/32 or /128). */
export function hostPrefix(address: string): Prefix {
  const bytes = parseAddress(address);
  return parsePrefix(`${address}/${bytes.length * 8}`);
}
