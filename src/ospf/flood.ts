/**
 * Receiving LS Updates and acks, and flooding (RFC 2328 13, 13.3, 13.5, 13.7). Sits above the
 * interface and neighbor machines: it walks an area's interfaces and their neighbors' lists.
 */

import { LsType, MAX_AGE, MAX_SEQ, MIN_LS_ARRIVAL } from './constants.js';
import type { Area, OspfContext } from './context.js';
import { scopeLsdb } from './context.js';
import type { OspfInterface } from './interface.js';
import { OspfDecodeError } from './ip.js';
import { type LsaHeader, lsaKey } from './lsa/header.js';
import { decodeLsa } from './lsa/lsa.js';
import { compareLsaInstances, type LsdbEntry } from './lsdb.js';
import type { Neighbor } from './neighbor.js';
import { stateAtLeast } from './states.js';

/** What flooding needs from the instance beyond the state machines' context. */
export interface FloodContext extends OspfContext {
  /** Interfaces over which an LSA of `type` received/originated in `area` is flooded (RFC 2328 13.3). */
  floodingInterfaces(area: Area, type: number): readonly OspfInterface[];
  /** True when `entry` is an LSA this router originates (RFC 2328 13.4 test). */
  isSelfOriginated(entry: { lsa: { header: { type: number; id: string; advRouter: string } } }): boolean;
  /** RFC 2328 13.4: a newer instance of one of our own LSAs arrived and was installed. */
  selfOriginatedReceived(area: Area, entry: LsdbEntry): void;
}

/**
 * RFC 2328 13.3: floods `entry` out of every eligible interface. `from` is the interface and
 * neighbor it came from (absent for our own LSAs). Returns true when it was flooded back out of
 * the receiving interface (13.5 uses this to decide on acks).
 */
export function floodLsa(
  ctx: FloodContext,
  area: Area,
  entry: LsdbEntry,
  from?: { iface: OspfInterface; nbr: Neighbor },
): boolean {
  const db = scopeLsdb(ctx, area, entry.lsa.header.type);
  const header = db.headerOf(entry);
  let floodedBack = false;
  for (const iface of ctx.floodingInterfaces(area, entry.lsa.header.type)) {
    let added = false;
    for (const nbr of iface.neighbors.values()) {
      // (1)(a) only neighbors in Exchange or later take part.
      if (!stateAtLeast(nbr.state, 'Exchange')) continue;
      // (1)(b) a pending request for this LSA is compared with the new instance.
      if (nbr.state !== 'Full') {
        const req = nbr.requests.get(entry.key);
        if (req) {
          const c = compareLsaInstances(header, req);
          if (c < 0) continue;
          nbr.requestSatisfied(entry.key);
          if (c === 0) continue;
        }
      }
      // (1)(c) not back to the neighbor it came from.
      if (from && nbr === from.nbr) continue;
      // (1)(d)
      nbr.addRetransmit(entry);
      added = true;
    }
    // (2)
    if (!added) continue;
    if (from && iface === from.iface) {
      // (3) the DR/BDR already flooded it to everyone on this segment.
      if (iface.broadcast && (from.nbr.address === iface.dr || from.nbr.address === iface.bdr)) continue;
      // (4) the BDR leaves flooding to the DR.
      if (iface.state === 'Backup') continue;
      floodedBack = true;
    }
    // (5)
    iface.sendLsUpdate([db.bytesForSend(entry, iface.config.transmitDelay)]);
  }
  return floodedBack;
}

/** Removes an LSA instance from every neighbor's retransmission list (13 (5)(c)). */
export function removeFromAllRetransmits(ctx: FloodContext, area: Area, key: string): void {
  for (const iface of ctx.floodingInterfaces(area, Number(key.split('/')[0]))) {
    for (const nbr of iface.neighbors.values()) nbr.removeRetransmit(key);
  }
}

function anyNeighborExchanging(ctx: FloodContext, area: Area, type: number): boolean {
  return ctx
    .floodingInterfaces(area, type)
    .some((i) => [...i.neighbors.values()].some((n) => n.state === 'Exchange' || n.state === 'Loading'));
}

/** RFC 2328 13: the receipt of a Link State Update from `nbr`. */
export function receiveLsUpdate(
  ctx: FloodContext,
  iface: OspfInterface,
  nbr: Neighbor,
  lsas: Buffer[],
): void {
  // 13: LS Updates are only accepted from neighbors in Exchange or later.
  if (!stateAtLeast(nbr.state, 'Exchange')) {
    ctx.count('lsu-wrong-state');
    return;
  }
  const area = iface.area;
  const directAcks: LsaHeader[] = [];
  for (const bytes of lsas) {
    let lsa: ReturnType<typeof decodeLsa>['lsa'];
    try {
      lsa = decodeLsa(bytes).lsa;
    } catch (e) {
      // (1) bad LSA checksum or body: discard this LSA, keep going.
      if (e instanceof OspfDecodeError) {
        ctx.count(e.reason);
        continue;
      }
      throw e;
    }
    const h = lsa.header;
    // (2) unknown type; (3) AS-external in a stub area.
    if (h.type < LsType.Router || h.type > LsType.AsExternal) {
      ctx.count('lsa-unknown-type');
      continue;
    }
    if (h.type === LsType.AsExternal && area.stub) {
      ctx.count('lsa-external-in-stub');
      continue;
    }
    const db = scopeLsdb(ctx, area, h.type);
    const key = lsaKey(h);
    const have = db.get(key);
    // (4) a MaxAge LSA we do not hold, while nobody is exchanging: ack and drop.
    if (h.age >= MAX_AGE && !have && !anyNeighborExchanging(ctx, area, h.type)) {
      directAcks.push(h);
      continue;
    }
    const cmp = have ? compareLsaInstances(h, db.headerOf(have)) : 1;
    if (cmp > 0) {
      // (5)(a) MinLSArrival: too soon after the last flooded instance.
      if (have?.fromFlooding && ctx.clock.now() - have.installedAt < MIN_LS_ARRIVAL * 1000) {
        ctx.count('lsa-min-ls-arrival');
        continue;
      }
      // (5)(b)-(d): install first so flooding sends the new instance; remove the old from lists.
      if (have) removeFromAllRetransmits(ctx, area, key);
      const entry = db.install(lsa, bytes, true);
      nbr.requestSatisfied(key);
      const floodedBack = floodLsa(ctx, area, entry, { iface, nbr });
      // (5)(e) 13.5: no ack when flooded back out; else delayed (BDR: only when from the DR).
      if (!floodedBack) {
        if (iface.state !== 'Backup' || nbr.address === iface.dr) iface.queueDelayedAck(h);
      }
      // (5)(f) 13.4: our own LSA from a previous incarnation.
      if (ctx.isSelfOriginated(entry)) ctx.selfOriginatedReceived(area, entry);
      continue;
    }
    // (6) an instance on the request list that is not newer: the exchange went wrong.
    if (nbr.requests.has(key)) {
      nbr.event('BadLSReq');
      return;
    }
    if (cmp === 0) {
      // (7)(a) implied acknowledgment.
      if (nbr.retransmitting(key)) {
        nbr.removeRetransmit(key);
        if (iface.state === 'Backup' && nbr.address === iface.dr) iface.queueDelayedAck(h);
      } else {
        // (7)(b) a duplicate: acknowledge directly.
        directAcks.push(h);
      }
      continue;
    }
    // (8) our copy is newer: send it back unless it is being flushed at MaxSeq.
    if (!have) continue;
    const ours = db.headerOf(have);
    if (ours.age >= MAX_AGE && ours.seq === MAX_SEQ) continue;
    iface.sendLsUpdate([db.bytesForSend(have, iface.config.transmitDelay)], nbr);
  }
  if (directAcks.length) iface.sendDirectAck(nbr, directAcks);
}

/** RFC 2328 13.7: acknowledgments remove the acked instance from the retransmission list. */
export function receiveLsAck(ctx: FloodContext, nbr: Neighbor, headers: LsaHeader[]): void {
  if (!stateAtLeast(nbr.state, 'Exchange')) {
    ctx.count('ack-wrong-state');
    return;
  }
  const area = nbr.iface.area;
  for (const h of headers) {
    const key = lsaKey(h);
    const pending = nbr.retransmitting(key);
    if (!pending) continue;
    const db = scopeLsdb(ctx, area, h.type);
    if (compareLsaInstances(h, db.headerOf(pending)) === 0) nbr.removeRetransmit(key);
    else ctx.count('ack-other-instance');
  }
}
