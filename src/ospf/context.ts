/**
 * What the interface, neighbor and flooding code need from the running instance (the speaker).
 * Kept as an interface so each piece can be driven alone in tests.
 */
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import type { OspfInterface } from './interface.js';
import type { LsdbEntry } from './lsdb.js';
import { Lsdb } from './lsdb.js';
import type { Neighbor, NeighborState } from './neighbor.js';

export interface Area {
  readonly id: string;
  /** RFC 2328 3.6: no AS-external-LSAs, E bit clear in Hellos. */
  readonly stub: boolean;
  readonly lsdb: Lsdb;
  readonly interfaces: OspfInterface[];
}

export function makeArea(id: string, stub: boolean, clock: Clock): Area {
  return { id, stub, lsdb: new Lsdb(clock), interfaces: [] };
}

export interface OspfContext {
  readonly routerId: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** AS-external-LSAs (RFC 2328 3.6: flooded through all non-stub areas). */
  readonly asLsdb: Lsdb;
  /** Counts a dropped packet or LSA by reason (status output). */
  count(reason: string): void;
  /** Interfaces over which an LSA of `type` received/originated in `area` is flooded (RFC 2328 13.3). */
  floodingInterfaces(area: Area, type: number): OspfInterface[];
  neighborChanged(iface: OspfInterface, nbr: Neighbor, from: NeighborState, to: NeighborState): void;
  interfaceChanged(iface: OspfInterface): void;
  /** RFC 2328 13.4: a newer instance of one of our own LSAs arrived and was installed. */
  selfOriginatedReceived(area: Area, entry: LsdbEntry): void;
  /** True when `entry` is an LSA this router originates (RFC 2328 13.4 test). */
  isSelfOriginated(entry: { lsa: { header: { type: number; id: string; advRouter: string } } }): boolean;
}

/** The LSDB holding LSAs of `type` for `area`. */
export function scopeLsdb(ctx: OspfContext, area: Area, type: number): Lsdb {
  return type === 5 ? ctx.asLsdb : area.lsdb;
}
