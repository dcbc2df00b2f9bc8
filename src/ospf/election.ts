/**
 * Designated Router election (RFC 2328 9.4), a pure function over the routers on a segment.
 * Routers are identified by interface address (what Hellos carry in the DR/BDR fields).
 */
import { compareIp } from './ip.js';

export interface Candidate {
  routerId: string;
  address: string;
  priority: number;
  /** What this router declares (its Hello's DR/BDR fields, or our own current view). */
  dr: string;
  bdr: string;
}

export interface ElectionResult {
  dr: string;
  bdr: string;
}

const NONE = '0.0.0.0';

function best(list: Candidate[]): Candidate | undefined {
  let top: Candidate | undefined;
  for (const c of list) {
    if (
      !top ||
      c.priority > top.priority ||
      (c.priority === top.priority && compareIp(c.routerId, top.routerId) > 0)
    ) {
      top = c;
    }
  }
  return top;
}

function round(candidates: Candidate[]): ElectionResult {
  const eligible = candidates.filter((c) => c.priority > 0);
  // (2) BDR: among routers not declaring themselves DR, prefer those declaring themselves BDR.
  const notDr = eligible.filter((c) => c.dr !== c.address);
  const declaringBdr = notDr.filter((c) => c.bdr === c.address);
  const bdr = best(declaringBdr.length ? declaringBdr : notDr);
  // (3) DR: those declaring themselves DR, else the new BDR.
  const dr = best(eligible.filter((c) => c.dr === c.address)) ?? bdr;
  return { dr: dr?.address ?? NONE, bdr: bdr?.address ?? NONE };
}

/**
 * Runs the election for `self` (included in `candidates`, with its current DR/BDR view).
 * (4): when self newly becomes or stops being DR or BDR, steps 2 and 3 run again with self's new
 * declarations.
 */
export function electDr(self: Candidate, candidates: Candidate[]): ElectionResult {
  const first = round(candidates);
  const was = { dr: self.dr === self.address, bdr: self.bdr === self.address };
  const now = { dr: first.dr === self.address, bdr: first.bdr === self.address };
  if (was.dr === now.dr && was.bdr === now.bdr) return first;
  const updated = candidates.map((c) => (c === self ? { ...c, dr: first.dr, bdr: first.bdr } : c));
  return round(updated);
}
