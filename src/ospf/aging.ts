/**
 * Aging of the LSDBs (RFC 2328 14), run once a second: our own LSAs are refreshed at
 * LSRefreshTime (12.4 (1)); an LSA of another router that reached MaxAge while we held it is
 * flooded at MaxAge once so the others drop it too (14); a MaxAge LSA leaves the LSDB once no
 * neighbor still has to acknowledge it and no database exchange is under way (14, 14.1).
 * LSA ages themselves are derived from the clock by the LSDB (12.1.1).
 */
import { LS_REFRESH_TIME, MAX_AGE } from './constants.js';
import { type Area, floodingArea, lsdbScopes } from './context.js';
import { type FloodContext, floodLsa } from './flood.js';
import type { OspfInterface } from './interface.js';

/** How often the LSDBs are swept (ms): ages are in whole seconds. */
export const SWEEP_MS = 1000;

export interface AgingHost {
  readonly ctx: FloodContext;
  /** The areas in configuration order. */
  areas(): readonly Area[];
  interfaces(): readonly OspfInterface[];
  /** Re-originates our LSA `key` of `area` (null: AS scope) with the next sequence number. */
  refresh(area: string | null, key: string): void;
}

/**
 * One sweep over every LSDB. Returns true when one of our own LSAs left the LSDB: the caller
 * originates it again if it is still wanted (12.1.6: after a MaxSequenceNumber flush).
 */
export function sweepLsdbs(host: AgingHost): boolean {
  const { ctx } = host;
  let ownRemoved = false;
  const exchanging = host
    .interfaces()
    .some((i) => [...i.neighbors.values()].some((n) => n.state === 'Exchange' || n.state === 'Loading'));
  const areas = host.areas();
  for (const { area: scopeArea, db } of lsdbScopes(areas, ctx.asLsdb)) {
    const area = floodingArea(areas, scopeArea);
    if (!area) continue;
    for (const e of db.entries()) {
      const age = db.ageOf(e);
      const self = ctx.isSelfOriginated(e);
      if (age < MAX_AGE) {
        if (self && age >= LS_REFRESH_TIME) host.refresh(scopeArea?.id ?? null, e.key);
        continue;
      }
      if (e.lsa.header.age < MAX_AGE && !self) {
        // Aged out while held: flood the MaxAge instance once so others drop it too.
        const aged = Buffer.from(e.bytes);
        aged.writeUInt16BE(MAX_AGE, 0);
        floodLsa(ctx, area, db.install({ ...e.lsa, header: { ...e.lsa.header, age: MAX_AGE } }, aged, false));
        continue;
      }
      const pending = ctx
        .floodingInterfaces(area, e.lsa.header.type)
        .some((i) => [...i.neighbors.values()].some((n) => n.retransmitting(e.key)));
      if (!pending && !exchanging) {
        db.remove(e.key);
        if (self) ownRemoved = true;
      }
    }
  }
  return ownRemoved;
}
