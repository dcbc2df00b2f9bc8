/**
 * One writer per cluster. Every node may run the VPC route controller, but only the holder of the
 * cluster's leadership touches the route tables; the others wait and take over when it goes.
 * Leadership lives beside the IPAM store the cluster already shares: an etcd key on a lease
 * (leader-etcd.ts), or a lock file next to the file store (leader-file.ts).
 *
 * The same place keeps the controller's own record: the routes it created, per route table. EC2
 * routes carry no tags, so the record is what makes a route "ours": the controller only ever
 * replaces or deletes a route whose destination is inside the pod networks AND in the record. It
 * adds a destination to the record before creating the route, and removes it after deleting, so
 * a controller killed between the two leaves at worst a recorded destination with no route (which
 * the next pass cleans up), never a route of ours that nobody owns. The record also holds the
 * plan last applied, so a new leader keeps the old one's forwarders.
 */
import type { Plan } from './plan-types.js';

export interface OwnedRecord {
  /** Destinations the controller created (or is about to), per route table id. Sorted. */
  readonly tables: Readonly<Record<string, readonly string[]>>;
  readonly plan?: Plan | undefined;
  /** The VPC the tables are in: still known when the last node has gone. */
  readonly vpcId?: string | undefined;
}

export const EMPTY_RECORD: OwnedRecord = { tables: {} };

export class NotLeaderError extends Error {
  constructor(what: string) {
    super(`not the VPC route leader any more: ${what} refused`);
    this.name = 'NotLeaderError';
  }
}

export interface Leadership {
  /** `etcd` or `file`, for status and logs. */
  readonly kind: string;
  /** Takes the leadership if free, keeps it if ours. True while we hold it. */
  acquire(): Promise<boolean>;
  /** The node holding it, if any. */
  holder(): Promise<string | undefined>;
  readRecord(): Promise<OwnedRecord>;
  /** Writes the record only while we hold the leadership (fencing); NotLeaderError otherwise. */
  writeRecord(record: OwnedRecord): Promise<void>;
  /** Gives the leadership up (stop). */
  resign(): Promise<void>;
}

/** Parses a stored record; anything unreadable counts as empty (the controller then owns nothing). */
export function parseRecord(text: string | undefined): OwnedRecord {
  if (!text) return EMPTY_RECORD;
  try {
    const v = JSON.parse(text) as { tables?: unknown; plan?: unknown; vpcId?: unknown };
    const tables: Record<string, string[]> = {};
    if (v.tables && typeof v.tables === 'object') {
      for (const [k, list] of Object.entries(v.tables as Record<string, unknown>)) {
        if (Array.isArray(list)) tables[k] = list.filter((x): x is string => typeof x === 'string');
      }
    }
    const plan = v.plan && typeof v.plan === 'object' ? (v.plan as Plan) : undefined;
    const vpcId = typeof v.vpcId === 'string' ? { vpcId: v.vpcId } : {};
    return plan && Array.isArray(plan.forwarders) && Array.isArray(plan.routes)
      ? { tables, plan, ...vpcId }
      : { tables, ...vpcId };
  } catch {
    return EMPTY_RECORD;
  }
}
