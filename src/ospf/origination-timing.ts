/**
 * When the next instance of one of our LSAs may go out: a pure function of the times involved.
 *
 * - RFC 2328 12.4: at most one new instance per MinLSInterval (5 s).
 * - RFC 2328 13 (5)(a): a neighbor discards an instance that arrives within MinLSArrival (1 s) of
 *   the one it installed last. So even a forced origination (start, drain), which does not wait
 *   for MinLSInterval, keeps MinLSArrival from the previous one (observed with FRR).
 * - An instance originated while no neighbor was in Exchange or later was flooded to nobody.
 *   MinLSInterval protects neighbors from floods, so it does not start that clock; but the
 *   neighbors got the instance in their database exchange and drop a newer one within
 *   MinLSArrival of that. So it waits MinLSArrival from the latest exchange start instead, with
 *   250 ms for the neighbor's LS Request to follow the exchange start. Without this, the instance
 *   made with the first adjacency at start waited 5 s behind the one made before it.
 * - RFC 2328 13.4 fight-back: a neighbor holds a stale instance from a previous incarnation, not
 *   one we sent lately, so neither limit applies.
 */
import { MIN_LS_ARRIVAL, MIN_LS_INTERVAL } from './constants.js';

/** Time a neighbor's LS Request may follow the start of its database exchange (ms). */
export const EXCHANGE_REQUEST_MARGIN_MS = 250;

export interface OriginationTimes {
  /** The clock now (ms). */
  now: number;
  /** When this process last originated an instance of the LSA (ms); undefined: never. */
  lastOriginated: number | undefined;
  /** That instance went out while no neighbor in its flooding scope was in Exchange or later. */
  unflooded: boolean;
  /** When a neighbor last entered Exchange (ms; 0 if none did). */
  lastExchangeStart: number;
  /** Start or drain: MinLSArrival instead of MinLSInterval. */
  force: boolean;
  /** A newer instance of ours from a previous incarnation must be superseded (RFC 2328 13.4). */
  fightBack: boolean;
}

/** The earliest time (ms, never before `now`) the next instance of the LSA may be originated. */
export function nextOriginationAt(t: OriginationTimes): number {
  if (t.fightBack) return t.now;
  const since = t.unflooded ? Math.max(t.lastOriginated ?? 0, t.lastExchangeStart) : t.lastOriginated;
  if (since === undefined) return t.now;
  const spacing = t.unflooded
    ? MIN_LS_ARRIVAL * 1000 + EXCHANGE_REQUEST_MARGIN_MS
    : (t.force ? MIN_LS_ARRIVAL : MIN_LS_INTERVAL) * 1000;
  return Math.max(t.now, since + spacing);
}
