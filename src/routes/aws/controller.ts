/**
 * The VPC route controller: one pass = leadership → nodes (store) → instances (EC2) → plan →
 * apply to every route table of the cluster's subnets (and the VPC's main table, which subnets
 * without their own table use). Passes run every `intervalMs` and soon after the store changes,
 * never two at once. Only the leader writes (leader.ts); a follower's pass only looks up the
 * holder.
 *
 * Apply order, so that a pass killed at any point leaves a state the next pass converges from:
 *   1. source/destination check off on every target ENI that still has it on;
 *   2. the record gains the destinations about to be created (intent first);
 *   3. per table: ReplaceRoute (retarget), CreateRoute, DeleteRoute — make before break, except
 *      when the table is full: then its deletes run first and the create is tried once more;
 *   4. the record is rewritten to what the tables now hold, with the plan.
 * RouteLimitExceeded after that means the real limit is lower than configured: the limit is
 * capped at what the table holds, and the pass re-plans with the smaller budget (and reports it).
 * A dead target (instance stopped or impaired) makes its node unhealthy: the plan moves its
 * routes within the same pass (a forwarder's group to another member, per-node routes away).
 */
import type { BlockStore } from '../../ipam/store/types.js';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import type { Prefix } from '../../net/prefix.js';
import { diffTable, type TableDiff } from './apply.js';
import { retryableCode, withBackoff } from './backoff.js';
import { readCluster } from './cluster.js';
import { type Inventory, takeInventory } from './inventory.js';
import { type Leadership, NotLeaderError, type OwnedRecord } from './leader.js';
import type { Plan } from './plan-types.js';
import { planRoutes } from './planner.js';
import type { AwsRoutesStatus } from './status.js';
import { ec2ErrorCode, type VpcApi, type VpcRouteTable } from './vpc-api.js';

export interface AwsControllerOptions {
  readonly store: BlockStore;
  readonly leadership: Leadership;
  readonly api: VpcApi;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  /** The pod networks: the only destinations the controller may ever touch. */
  readonly networks: readonly Prefix[];
  /** Routes per table the plan may use. */
  readonly budget: number;
  /** The tables' route quota (routes of every kind). */
  readonly routeLimit: number;
  readonly allowCrossZone: boolean;
  readonly vpcId?: string | undefined;
  readonly intervalMs: number;
  /** Wait after a store change before a pass (changes come in bursts). */
  readonly settleMs?: number;
  /** Backoff base for throttled calls (ms). */
  readonly backoffBaseMs?: number;
}

/** A learnt route limit is tried again after this long (the quota may have been raised). */
const LIMIT_CAP_MS = 3_600_000;

class RouteLimitHit extends Error {
  constructor(
    readonly table: string,
    readonly holds: number,
  ) {
    super(`route table ${table} is full at ${holds} routes of ours (RouteLimitExceeded)`);
  }
}

const MUTATING = new Set(['CreateRoute', 'ReplaceRoute', 'DeleteRoute', 'ModifyNetworkInterfaceAttribute']);

export class AwsRouteController {
  private plan: Plan | undefined;
  private statusView: AwsRoutesStatus;
  private limitCap: { value: number; until: number } | undefined;
  private readonly apiErrors: Record<string, number> = {};
  private counters = { mutating: 0, read: 0, retries: 0 };
  private errors: string[] = [];
  private timer: TimerHandle | undefined;
  private unwatch: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly opts: AwsControllerOptions) {
    this.statusView = {
      leader: false,
      holder: null,
      leadership: opts.leadership.kind,
      plan: null,
      routeTables: [],
      unmatchedNodes: [],
      conflicts: [],
      lastApply: null,
      apiErrors: {},
    };
  }

  status(): AwsRoutesStatus {
    return this.statusView;
  }

  start(): void {
    this.unwatch = this.opts.store.watch(() => this.schedule(this.opts.settleMs ?? 2000));
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.unwatch?.();
    await this.running?.catch(() => {});
    await this.opts.leadership.resign().catch(() => {});
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = this.opts.clock.setTimer(ms, () => {
      void this.runPass().finally(() => this.schedule(this.opts.intervalMs));
    });
  }

  /** One pass; if one is running, another follows it. Never throws. */
  runPass(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.pass();
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Every EC2 call goes through here: backoff on throttling, counted by kind and error code. */
  private call<T>(what: string, op: () => Promise<T>): Promise<T> {
    const counted = async (): Promise<T> => {
      if (MUTATING.has(what)) this.counters.mutating++;
      else this.counters.read++;
      try {
        return await op();
      } catch (e) {
        const code = ec2ErrorCode(e) ?? retryableCode(e) ?? 'unknown';
        this.apiErrors[code] = (this.apiErrors[code] ?? 0) + 1;
        throw e;
      }
    };
    return withBackoff(counted, {
      clock: this.opts.clock,
      random: this.opts.random,
      baseMs: this.opts.backoffBaseMs ?? 250,
      onRetry: (code, waitMs, attempt) => {
        this.counters.retries++;
        this.opts.logger.debug({ what, code, waitMs, attempt }, 'EC2 call throttled; backing off');
      },
    });
  }

  private async pass(): Promise<void> {
    const started = this.opts.clock.now();
    this.counters = { mutating: 0, read: 0, retries: 0 };
    this.errors = [];
    let ok = false;
    try {
      // Unable to tell (store unreachable): act as a follower until it answers again.
      const leader = await this.opts.leadership.acquire().catch((e: Error) => {
        this.statusView = { ...this.statusView, leader: false };
        throw new Error(`leadership: ${e.message}`);
      });
      if (!leader) {
        this.statusView = {
          ...this.statusView,
          leader: false,
          holder: (await this.opts.leadership.holder()) ?? null,
        };
        return;
      }
      ok = await this.lead();
    } catch (e) {
      const msg = e instanceof NotLeaderError ? e.message : `pass failed: ${(e as Error).message}`;
      this.errors.push(msg);
      this.opts.logger.warn({ err: msg }, 'VPC route pass failed; the next pass retries');
    }
    this.statusView = {
      ...this.statusView,
      lastApply: {
        at: new Date().toISOString(),
        ok: ok && this.errors.length === 0,
        durationMs: Math.round(this.opts.clock.now() - started),
        mutatingCalls: this.counters.mutating,
        readCalls: this.counters.read,
        retries: this.counters.retries,
        errors: this.errors,
      },
      apiErrors: { ...this.apiErrors },
    };
  }

  /** The leader's pass. True when every table matches the plan at the end. */
  private async lead(): Promise<boolean> {
    const o = this.opts;
    const cluster = await readCluster(o.store, o.networks);
    const inv = await takeInventory(cluster, o.api, (w, op) => this.call(w, op), o.vpcId);
    this.statusView = {
      ...this.statusView,
      leader: true,
      holder: null,
      unmatchedNodes: inv.unmatched,
    };
    let record = await o.leadership.readRecord();
    const vpcId = inv.vpcId ?? record.vpcId;
    if (!vpcId) {
      this.errors.push('no node of the store matches an EC2 instance');
      return false;
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      // The nodes' subnets' tables, and any table we still have routes in (its last node may be gone).
      const known = Object.keys(record.tables);
      const tables = await this.call('DescribeRouteTables', () =>
        o.api.routeTables(vpcId, inv.subnets, known),
      );
      const now = o.clock.now();
      if (this.limitCap && this.limitCap.until <= now) this.limitCap = undefined;
      const limit = Math.min(o.routeLimit, this.limitCap?.value ?? Number.POSITIVE_INFINITY);
      const prior = tables.map((t) =>
        diffTable(
          t,
          { budget: 0, routes: [], forwarders: [], unplanned: [] },
          record.tables[t.id] ?? [],
          o.networks,
        ),
      );
      const room = Math.min(...prior.map((d) => limit - d.others), Number.POSITIVE_INFINITY);
      const budget = Math.max(0, Math.min(o.budget, room));
      const plan = planRoutes(inv.nodes, {
        budget,
        allowCrossZone: o.allowCrossZone,
        networks: o.networks,
        previous: this.plan ?? record.plan,
      });
      try {
        record = await this.apply(tables, plan, record, inv);
        this.plan = plan;
        this.setPlanStatus(plan, tables, record);
        return true;
      } catch (e) {
        if (!(e instanceof RouteLimitHit)) throw e;
        this.limitCap = {
          value: e.holds + (prior.find((d) => d.table === e.table)?.others ?? 0),
          until: now + LIMIT_CAP_MS,
        };
        record = await o.leadership.readRecord();
        this.errors.push(`${e.message}; re-planning with a smaller budget`);
        o.logger.warn(
          { table: e.table, limit: this.limitCap.value },
          'route table limit lower than configured; re-planning',
        );
      }
    }
    return false;
  }

  private setPlanStatus(plan: Plan, tables: readonly VpcRouteTable[], record: OwnedRecord): void {
    const o = this.opts;
    const diffs = tables.map((t) => diffTable(t, plan, record.tables[t.id] ?? [], o.networks));
    this.statusView = {
      ...this.statusView,
      plan: {
        routesUsed: plan.routes.length,
        budget: plan.budget,
        configuredBudget: o.budget,
        routeLimitCap: this.limitCap?.value ?? null,
        forwarders: plan.forwarders.map((f) => ({ node: f.node, group: f.group, for: f.for })),
        unplanned: plan.unplanned,
      },
      routeTables: diffs.map((d) => ({
        id: d.table,
        ours: record.tables[d.table]?.length ?? 0,
        others: d.others,
      })),
      conflicts: diffs.flatMap((d) => d.conflicts.map((c) => ({ table: d.table, ...c }))),
    };
  }

  /** Applies `plan` to every table; returns the record written. Throws RouteLimitHit. */
  private async apply(
    tables: readonly VpcRouteTable[],
    plan: Plan,
    record: OwnedRecord,
    inv: Inventory,
  ): Promise<OwnedRecord> {
    const o = this.opts;
    const targets = [...new Set(plan.routes.map((r) => r.eniId))].sort();
    for (const eni of targets) {
      if (inv.sourceDestCheck.get(eni) === false) continue;
      await this.call('ModifyNetworkInterfaceAttribute', () => o.api.disableSourceDestCheck(eni));
      inv.sourceDestCheck.set(eni, false);
    }
    const diffs = tables.map((t) => diffTable(t, plan, record.tables[t.id] ?? [], o.networks));
    // 2. Intent: what we are about to create is ours before it exists.
    const intent: Record<string, string[]> = { ...record.tables } as Record<string, string[]>;
    for (const d of diffs)
      intent[d.table] = uniq([...(record.tables[d.table] ?? []), ...d.creates.map((c) => c.destination)]);
    record = await this.writeRecord(record, {
      tables: intent,
      plan: record.plan,
      vpcId: inv.vpcId ?? record.vpcId,
    });
    // 3. Per table.
    const final: Record<string, string[]> = { ...intent };
    for (const d of diffs) final[d.table] = await this.applyTable(d, intent[d.table] ?? []);
    return this.writeRecord(record, { tables: final, plan, vpcId: record.vpcId });
  }

  /** Returns the destinations of ours the table holds afterwards (for the record). */
  private async applyTable(d: TableDiff, recorded: readonly string[]): Promise<string[]> {
    const api = this.opts.api;
    const held = new Set(d.ours);
    const failed = (what: string, dest: string, e: unknown): void => {
      this.errors.push(`${what} ${d.table} ${dest}: ${ec2ErrorCode(e) ?? (e as Error).message}`);
    };
    for (const r of d.replaces) {
      try {
        await this.call('ReplaceRoute', () => api.replaceRoute(d.table, r.destination, r.eniId));
      } catch (e) {
        // Gone since we looked: the next pass creates it.
        if (ec2ErrorCode(e) === 'InvalidRoute.NotFound') held.delete(r.destination);
        else failed('ReplaceRoute', r.destination, e);
      }
    }
    let deleted = false;
    const runDeletes = async (): Promise<void> => {
      if (deleted) return;
      deleted = true;
      for (const dest of d.deletes) {
        try {
          await this.call('DeleteRoute', () => api.deleteRoute(d.table, dest));
          held.delete(dest);
        } catch (e) {
          if (ec2ErrorCode(e) === 'InvalidRoute.NotFound') held.delete(dest);
          else failed('DeleteRoute', dest, e);
        }
      }
    };
    for (const c of d.creates) {
      for (let tries = 0; ; tries++) {
        try {
          await this.call('CreateRoute', () => api.createRoute(d.table, c.destination, c.eniId));
          held.add(c.destination);
          break;
        } catch (e) {
          const code = ec2ErrorCode(e);
          if (code === 'RouteLimitExceeded' && tries === 0 && !deleted && d.deletes.length > 0) {
            await runDeletes();
            continue;
          }
          if (code === 'RouteLimitExceeded') {
            await runDeletes();
            // Keep what exists in the record, then let the caller re-plan.
            await this.writeRecordTables(d.table, [...held].sort());
            throw new RouteLimitHit(d.table, held.size);
          }
          // Someone created it between our read and now: the next pass sees whose it is.
          if (code !== 'RouteAlreadyExists') failed('CreateRoute', c.destination, e);
          break;
        }
      }
    }
    await runDeletes();
    // Recorded destinations that never made it into the table are dropped from the record.
    return recorded
      .filter((x) => held.has(x))
      .concat([...held].filter((x) => !recorded.includes(x)))
      .sort();
  }

  private async writeRecord(before: OwnedRecord, next: OwnedRecord): Promise<OwnedRecord> {
    const normal: OwnedRecord = {
      tables: Object.fromEntries(
        Object.entries(next.tables)
          .filter(([, v]) => v.length > 0)
          .sort(),
      ),
      ...(next.plan ? { plan: next.plan } : {}),
      ...(next.vpcId ? { vpcId: next.vpcId } : {}),
    };
    if (JSON.stringify(normal) !== JSON.stringify(before)) await this.opts.leadership.writeRecord(normal);
    return normal;
  }

  private async writeRecordTables(table: string, dests: string[]): Promise<void> {
    const r = await this.opts.leadership.readRecord();
    await this.writeRecord(r, { ...r, tables: { ...r.tables, [table]: dests } });
  }
}

function uniq(xs: readonly string[]): string[] {
  return [...new Set(xs)].sort();
}
