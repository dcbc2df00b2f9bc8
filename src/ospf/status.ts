/**
 * The OSPF views for people and tools: the status (interfaces with their state, DR and BDR per
 * RFC 2328 9.1, neighbors per 10.1, what is announced, drop counters) and the LSDB listing
 * (`podroute status --ospf-database`, the LSA header fields of RFC 2328 A.4.1 with a line of
 * contents). Pure functions of the speaker's state.
 */
import type { OspfInterfaceConfig } from '../config/ospf.js';
import { type Area, lsdbScopes } from './context.js';
import type { OspfInterface } from './interface.js';
import type { Lsa } from './lsa/lsa.js';
import type { Lsdb, LsdbEntry } from './lsdb.js';
import type { InterfaceState, NeighborState } from './states.js';

export type OspfNeighborStatus = {
  routerId: string;
  address: string;
  state: NeighborState;
  priority: number;
  /** Seconds in Full, 0 otherwise. */
  uptimeSeconds: number;
  /** Our role in the last database exchange (RFC 2328 10.6), once negotiated. */
  ddRole: 'master' | 'slave' | null;
};

export type OspfInterfaceStatus = {
  name: string;
  state: InterfaceState;
  area: string;
  network: 'point-to-point' | 'broadcast';
  address: string;
  dr: string;
  bdr: string;
  neighbors: OspfNeighborStatus[];
};

export type OspfStatus = {
  routerId: string;
  interfaces: OspfInterfaceStatus[];
  /** Prefixes currently originated (stub links or AS-external-LSAs). */
  announced: string[];
  lsdbSize: number;
  /** Dropped packets and LSAs by reason (bad checksum, wrong area, auth, …). */
  dropped: Record<string, number>;
};

export type OspfDatabaseEntry = {
  /** Area ID, or null for AS-scope (AS-external) LSAs. */
  area: string | null;
  type: number;
  typeName: string;
  lsId: string;
  advRouter: string;
  /** Sequence number as the usual 0x8000000N hex. */
  seq: string;
  age: number;
  checksum: string;
  length: number;
  self: boolean;
  /** Router links, network routers, or the external prefix, for people. */
  detail: string;
};

export interface StatusInput {
  routerId: string;
  /** The clock now (ms). */
  now: number;
  interfaces: readonly OspfInterface[];
  /** Configured interfaces not up yet (no address or carrier). */
  waiting: readonly OspfInterfaceConfig[];
  announced: string[];
  areas: readonly Area[];
  asLsdb: Lsdb;
  drops: ReadonlyMap<string, number>;
}

export function statusView(s: StatusInput): OspfStatus {
  return {
    routerId: s.routerId,
    interfaces: [
      ...s.interfaces.map((i) => ({
        name: i.name,
        state: i.state,
        area: i.area.id,
        network: i.config.network,
        address: i.address,
        dr: i.dr,
        bdr: i.bdr,
        neighbors: [...i.neighbors.values()].map((n) => ({
          routerId: n.routerId,
          address: n.address,
          state: n.state,
          priority: n.priority,
          uptimeSeconds: n.state === 'Full' ? Math.floor((s.now - n.fullSince) / 1000) : 0,
          ddRole: n.ddRole,
        })),
      })),
      // Interfaces waiting for an address or carrier are listed Down, as `show ip ospf interface` does.
      ...s.waiting.map(
        (ic): OspfInterfaceStatus => ({
          name: ic.name,
          state: 'Down',
          area: ic.area,
          network: ic.network,
          address: '0.0.0.0',
          dr: '0.0.0.0',
          bdr: '0.0.0.0',
          neighbors: [],
        }),
      ),
    ],
    announced: s.announced,
    lsdbSize: s.asLsdb.size + s.areas.reduce((n, a) => n + a.lsdb.size, 0),
    dropped: Object.fromEntries([...s.drops].sort(([a], [b]) => a.localeCompare(b))),
  };
}

const TYPE_NAMES: Record<number, string> = {
  1: 'router',
  2: 'network',
  3: 'summary-network',
  4: 'summary-asbr',
  5: 'as-external',
};

/** Every LSA held, areas first in configuration order, then the AS scope. */
export function databaseView(
  areas: readonly Area[],
  asLsdb: Lsdb,
  isSelf: (e: LsdbEntry) => boolean,
): OspfDatabaseEntry[] {
  const rows: OspfDatabaseEntry[] = [];
  for (const { area, db } of lsdbScopes(areas, asLsdb)) {
    for (const e of db.entries()) {
      const h = db.headerOf(e);
      rows.push({
        area: area?.id ?? null,
        type: h.type,
        typeName: TYPE_NAMES[h.type] ?? `type-${h.type}`,
        lsId: h.id,
        advRouter: h.advRouter,
        seq: `0x${(h.seq >>> 0).toString(16).padStart(8, '0')}`,
        age: h.age,
        checksum: `0x${h.checksum.toString(16).padStart(4, '0')}`,
        length: h.length,
        self: isSelf(e),
        detail: describe(e.lsa),
      });
    }
  }
  return rows;
}

/** One line of an LSA's contents (RFC 2328 A.4.2-A.4.5), like `show ip ospf database`. */
export function describe(lsa: Lsa): string {
  const b = lsa.body;
  switch (b.kind) {
    case 'router':
      return b.links
        .map(
          (l) =>
            `${['', 'p2p', 'transit', 'stub', 'virtual'][l.type] ?? l.type} ${l.linkId}/${l.linkData} ${l.metric}`,
        )
        .join(', ');
    case 'network':
      return `mask ${b.mask} routers ${b.routers.join(' ')}`;
    case 'summary':
      return `mask ${b.mask} metric ${b.metric}`;
    case 'external':
      return `${lsa.header.id} mask ${b.mask} E${b.metricType} metric ${b.metric} tag ${b.tag}`;
    case 'unknown':
      return `${b.bytes.length} bytes`;
  }
}
