/**
 * What the neighbor and interface state machines need from the running instance (the speaker),
 * named without the machines themselves so each layer can be driven alone in tests: the router
 * ID, time, logging, drop counters, the AS-scope LSDB, and the two notifications the instance acts
 * on (a state change of a neighbor or an interface). The areas (RFC 2328 3, 3.6) and their
 * flooding scopes (RFC 2328 12.1.3 LSDB per area, AS-external-LSAs in all non-stub areas) live
 * here too.
 */
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { LsType } from './constants.js';
import { Lsdb } from './lsdb.js';
import type { NeighborState } from './states.js';

export interface Area {
  readonly id: string;
  /** RFC 2328 3.6: no AS-external-LSAs, E bit clear in Hellos. */
  readonly stub: boolean;
  readonly lsdb: Lsdb;
}

export function makeArea(id: string, stub: boolean, clock: Clock): Area {
  return { id, stub, lsdb: new Lsdb(clock) };
}

export interface OspfContext {
  readonly routerId: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** AS-external-LSAs (RFC 2328 3.6: flooded through all non-stub areas). */
  readonly asLsdb: Lsdb;
  /** Counts a dropped packet or LSA by reason (status output). */
  count(reason: string): void;
  /** A neighbor on interface `iface` changed state (RFC 2328 10.3); our LSAs may change (12.4). */
  neighborChanged(iface: string, routerId: string, from: NeighborState, to: NeighborState): void;
  /** An interface changed state or DR/BDR (RFC 2328 9.3, 9.4); our LSAs may change (12.4). */
  interfaceChanged(iface: string): void;
}

/** The LSDB holding LSAs of `type` for `area`. */
export function scopeLsdb(ctx: { readonly asLsdb: Lsdb }, area: Area, type: number): Lsdb {
  return type === LsType.AsExternal ? ctx.asLsdb : area.lsdb;
}

/**
 * The area an LSA is flooded through: its own area, or for an AS-scope LSA (`area` undefined) the
 * first non-stub area. AS-external-LSAs go out of every interface of every non-stub area
 * (RFC 2328 3.6, 13.3), so that area only anchors the flooding call; none exists when every area
 * is stub, and then an AS-scope LSA has nowhere to go.
 */
export function floodingArea(areas: Iterable<Area>, area: Area | undefined): Area | undefined {
  if (area) return area;
  for (const a of areas) if (!a.stub) return a;
  return undefined;
}

/** Every LSDB of the instance with the area it belongs to (undefined: AS scope), areas first. */
export function lsdbScopes(areas: Iterable<Area>, asLsdb: Lsdb): { area: Area | undefined; db: Lsdb }[] {
  return [...[...areas].map((a) => ({ area: a, db: a.lsdb })), { area: undefined, db: asLsdb }];
}
