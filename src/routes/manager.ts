/**
 * RoutesManager: keeps the kernel's routes of our protocol equal to the desired set.
 *
 * Inputs arrive through `update()` (the announced set, the store's view of other nodes) and
 * `applyLearned()` (what BGP peers sent, by differences: learned-table.ts; learned.ts chooses) or
 * `updateLearned()` (the same, whole). Each reconcile reads our routes back from the kernel,
 * computes the wanted set (wanted.ts), diffs (reconcile.ts) and applies only the differences. A
 * timer re-runs the same path every `resyncInterval` seconds, which repairs routes changed by hand.
 * Runs never overlap; updates during a run coalesce into one follow-up run. A netlink error is
 * counted, logged and retried at the next run, never thrown out of the manager.
 */
import type { RoutesConfig } from '../config/routes.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import type { Skipped } from './desired.js';
import type { RouteKernel } from './kernel.js';
import type { LearnedInput, LearnedSelection } from './learned.js';
import { type LearnedHandover, LearnedInputs } from './learned-table.js';
import type { LearnedStatus } from './learned-view.js';
import { NetlinkKernel, RouteExistsError, RouteNotFoundError } from './netlink.js';
import { diffRoutes } from './reconcile.js';
import { describeRoute, type KernelRoute, type Route, routeKey } from './route.js';
import { describeRule, diffRules, type KernelRule, type Rule, ruleKey } from './rule.js';
import { type VlanSpec, vlanSpecs } from './vlan.js';
import { type RoutesInput, type WantedState, wantedState } from './wanted.js';

const HELD_BY_FOREIGN = 'another route (not ours) holds this destination';

export type { RoutesInput } from './wanted.js';

export interface RoutesManagerOptions {
  readonly config: RoutesConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Default: a NetlinkKernel opened by `start()` and closed by `stop()`. */
  readonly kernel?: RouteKernel;
}

export interface RoutesStatus {
  readonly managed: boolean;
  readonly mode: RoutesConfig['mode'];
  readonly table: number;
  readonly protocol: number;
  /**
   * Routes in the kernel that match the desired set, e.g. "198.19.1.0/24 blackhole"; those in a
   * VLAN table end in "table N".
   */
  readonly routes: string[];
  /** Policy rules in the kernel (VLAN mode), e.g. "1000 from 198.19.0.0/20 lookup 110". */
  readonly rules: string[];
  /** VLANs (or families of them) left unprogrammed, with the reason. */
  readonly vlanIssues: string[];
  readonly programmed: number;
  /** Desired routes not (yet) in the kernel, with the reason. */
  readonly pending: { route: string; reason: string }[];
  readonly skipped: Skipped[];
  /** Kernel changes made since start (adds, replaces, deletes); flat while nothing changes. */
  readonly changes: number;
  /** Netlink errors since start (failed list/add/replace/delete). */
  readonly errors: number;
  readonly lastError: string | null;
  readonly reconciles: number;
  /** Clock time (ms) of the last completed reconcile, null before the first. */
  readonly lastReconcileAt: number | null;
  /** Routes received from BGP peers: counts, and the first paths with their fate (learned-view.ts). */
  readonly learned: LearnedStatus;
}

export class RoutesManager {
  private readonly config: RoutesConfig;
  private readonly log: Logger;
  private readonly clock: Clock;
  private kernel: RouteKernel | undefined;
  private readonly ownsKernel: boolean;

  private input: RoutesInput = { announced: [], peers: [] };
  private readonly learned = new LearnedInputs();
  private selection: LearnedSelection = { routes: [], paths: [], prefixes: 0 };
  private running = false;
  private timer: TimerHandle | undefined;
  private loop: Promise<void> | undefined;
  private dirty = false;
  /** Keys of routes a previous podroute left, not removed before `sweepAdopted()` (graceful restart). */
  private adopted: Set<string> | undefined;

  private installed = new Map<string, Route>();
  private rules = new Map<string, Rule>();
  private vlanIssues: string[] = [];
  private readonly vlans: VlanSpec[];
  private pending = new Map<string, { route: string; reason: string }>();
  private skipped: Skipped[] = [];
  private skippedText = '';
  private errors = 0;
  private changes = 0;
  private lastError: string | null = null;
  private reconciles = 0;
  private lastReconcileAt: number | null = null;

  constructor(opts: RoutesManagerOptions) {
    this.config = opts.config;
    this.log = opts.logger.child({ component: 'routes' });
    this.clock = opts.clock;
    this.kernel = opts.kernel;
    this.ownsKernel = opts.kernel === undefined;
    this.vlans = vlanSpecs(this.config.vlans);
  }

  /** Replaces the inputs; reconciles soon when started. */
  update(input: RoutesInput): void {
    this.input = { ...input, announced: [...input.announced], peers: [...input.peers] };
    if (this.running) void this.trigger();
  }

  /** Replaces what the BGP peers sent (learned.ts chooses what goes into the kernel); reconciles soon. */
  updateLearned(input: LearnedInput): void {
    this.learned.replace(input);
    if (this.running) void this.trigger();
  }

  /** What changed in the BGP peers' routes since the last call (learned-table.ts); reconciles soon. */
  applyLearned(handover: LearnedHandover): void {
    this.learned.apply(handover);
    if (this.running) void this.trigger();
  }

  /**
   * Graceful restart, restarting side (RFC 4724 4.1): the routes of our protocol that a previous
   * podroute left in the kernel keep forwarding while the peers re-send theirs. Reconciles add and
   * replace as usual but delete none of them until `sweepAdopted()`. Call before `start()`; returns
   * how many were found (0: nothing was preserved, e.g. after a reboot).
   */
  async adoptExisting(): Promise<number> {
    if (!this.config.manage) return 0;
    try {
      this.kernel ??= new NetlinkKernel();
      const routes = await this.kernel.listRoutes(this.config.protocol);
      this.adopted = new Set(routes.map((r) => routeKey(r)));
    } catch (e) {
      this.fail('list routes to adopt', e);
      return 0;
    }
    this.log.info({ routes: this.adopted.size }, 'routes of the previous podroute kept');
    return this.adopted.size;
  }

  /** The peers re-sent their routes (or the restart time ran out): adopted routes nobody wants go. */
  sweepAdopted(): void {
    if (!this.adopted) return;
    this.log.info({ routes: this.adopted.size }, 'graceful restart over: stale routes go');
    this.adopted = undefined;
    if (this.running) void this.trigger();
  }

  /** First reconcile (resolves when it is done) and the resync timer. No-op when `manage: false`. */
  async start(): Promise<void> {
    if (!this.config.manage || this.running) return;
    if (!this.kernel) {
      try {
        this.kernel = new NetlinkKernel();
      } catch (e) {
        // No netlink socket (seccomp, a stripped kernel): report it and leave routes alone; the
        // daemon keeps running its speakers.
        this.fail('open rtnetlink socket', e);
        return;
      }
    }
    this.running = true;
    this.log.info(
      { mode: this.config.mode, table: this.config.table, protocol: this.config.protocol },
      'route programming started',
    );
    await this.trigger();
  }

  /**
   * Finishes the runs asked for so far, then stops the timer. With `removeRoutes`, deletes every rule and route
   * of our protocol, in any table (whatever the inputs say), so a node leaving the cluster leaves
   * nothing behind.
   */
  async stop(opts: { removeRoutes: boolean }): Promise<void> {
    if (!this.running) return;
    // Inputs given before stop are applied first (peers that went down take their routes along).
    while (this.loop) await this.loop;
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
    const kernel = this.kernel;
    if (!kernel) return;
    if (opts.removeRoutes) {
      const proto = this.config.protocol;
      try {
        // Rules first: a rule left pointing at an emptied VLAN table would let its traffic fall
        // through to the main table, across VLANs.
        for (const r of await kernel.listRules(proto)) {
          await this.apply('delete', describeRule(r), () => kernel.deleteRule(r, proto));
        }
        this.rules.clear();
        for (const r of await kernel.listRoutes(proto)) {
          await this.apply('delete', describeRoute(r), () => kernel.deleteRoute(r, proto));
        }
        this.installed.clear();
      } catch (e) {
        this.fail('list routes and rules', e);
      }
    }
    if (this.ownsKernel) {
      kernel.close();
      this.kernel = undefined;
    }
    this.log.info({ removeRoutes: opts.removeRoutes }, 'route programming stopped');
  }

  /** Reconciles now (coalescing with a run in flight); resolves when the kernel is idle again. */
  reconcileNow(): Promise<void> {
    return this.trigger();
  }

  /** Resolves when no run is in flight (after `update()`, to wait for the run it started). */
  idle(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  status(): RoutesStatus {
    // Routes outside routes.table (the VLAN tables) say which table they are in.
    const routes = [...this.installed.values()].map((r) =>
      r.table === this.config.table ? describeRoute(r) : `${describeRoute(r)} table ${r.table}`,
    );
    return {
      managed: this.config.manage,
      mode: this.config.mode,
      table: this.config.table,
      protocol: this.config.protocol,
      routes,
      programmed: routes.length,
      pending: [...this.pending.values()],
      rules: [...this.rules.values()].map(describeRule),
      vlanIssues: [...this.vlanIssues],
      skipped: [...this.skipped],
      changes: this.changes,
      errors: this.errors,
      lastError: this.lastError,
      reconciles: this.reconciles,
      lastReconcileAt: this.lastReconcileAt,
      learned: this.learned.status(this.selection, this.input.announced, this.config, {
        inKernel: (key) => this.installed.has(key),
        pendingReason: (key) => this.pending.get(key)?.reason,
      }),
    };
  }

  private trigger(): Promise<void> {
    if (!this.running) return Promise.resolve();
    this.dirty = true;
    this.loop ??= this.runLoop();
    return this.loop;
  }

  private async runLoop(): Promise<void> {
    try {
      // The first pass always awaits, so `this.loop` is assigned before the finally clears it.
      while (this.dirty && this.running) {
        this.dirty = false;
        try {
          await this.reconcileOnce();
        } catch (e) {
          this.fail('reconcile', e);
        }
      }
    } finally {
      // Cleared in the same tick the loop ends, so a trigger() from now on starts a new loop.
      this.loop = undefined;
    }
    if (this.running) this.armTimer();
  }

  private armTimer(): void {
    this.timer?.cancel();
    this.timer = this.clock.setTimer(this.config.resyncInterval * 1000, () => {
      this.timer = undefined;
      if (this.running) void this.trigger();
    });
  }

  private async reconcileOnce(): Promise<void> {
    const kernel = this.kernel;
    if (!kernel) return;
    const { config } = this;
    const proto = config.protocol;
    let current: KernelRoute[];
    let currentRules: KernelRule[];
    let wanted: WantedState;
    try {
      current = await kernel.listRoutes(proto);
      currentRules = await kernel.listRules(proto);
      const connected =
        this.learned.needsConnected(config) || this.input.vlans?.length ? await kernel.listConnected() : [];
      this.learned.connected = connected;
      wanted = wantedState({
        input: this.input,
        learned: this.learned.input,
        connected,
        config,
        vlans: this.vlans,
      });
    } catch (e) {
      this.fail('read kernel state', e);
      return;
    }
    const { desired, policy, selection } = wanted;
    this.noteSkipped(desired.skipped, policy.issues);

    const routes = [...desired.routes, ...policy.routes];
    const diff = diffRoutes(routes, current, proto);
    const ruleDiff = diffRules(policy.rules, currentRules, proto);
    const installed = new Map<string, Route>();
    for (const r of routes) installed.set(routeKey(r), r);
    const pending = new Map<string, { route: string; reason: string }>();
    const notInstalled = (key: string, what: string, reason: string): void => {
      installed.delete(key);
      rules.delete(key);
      pending.set(key, { route: what, reason });
    };
    const rules = new Map<string, Rule>();
    for (const r of policy.rules) rules.set(ruleKey(r), r);

    // Order: rules that go are removed before anything else, and new rules are added only after
    // their tables are filled, so no packet meets a rule whose table is (still or already) empty.
    for (const r of ruleDiff.remove) {
      await this.apply('delete', describeRule(r), () => kernel.deleteRule(r, proto));
    }
    for (const r of diff.add) {
      // A foreign route holding our key stays until its owner removes it; we retry every run but
      // count and log the conflict once, not once per resync.
      const key = routeKey(r);
      const known = this.pending.get(key)?.reason === HELD_BY_FOREIGN;
      const err = await this.apply(
        'add',
        describeRoute(r),
        () => kernel.addRoute(r, proto),
        (e) => known && e instanceof RouteExistsError,
      );
      if (err instanceof RouteExistsError) notInstalled(key, describeRoute(r), HELD_BY_FOREIGN);
      else if (err) notInstalled(key, describeRoute(r), err.message);
    }
    for (const r of diff.replace) {
      const err = await this.apply('replace', describeRoute(r), () => kernel.replaceRoute(r, proto));
      if (err) notInstalled(routeKey(r), describeRoute(r), err.message);
    }
    for (const r of ruleDiff.add) {
      const key = ruleKey(r);
      const known = this.pending.get(key)?.reason === HELD_BY_FOREIGN;
      const err = await this.apply(
        'add',
        describeRule(r),
        () => kernel.addRule(r, proto),
        (e) => known && e instanceof RouteExistsError,
      );
      if (err instanceof RouteExistsError) notInstalled(key, describeRule(r), HELD_BY_FOREIGN);
      else if (err) notInstalled(key, describeRule(r), err.message);
    }
    // Graceful restart: a route wanted again is ours again; the others stay until sweepAdopted().
    for (const r of routes) this.adopted?.delete(routeKey(r));
    for (const r of diff.remove) {
      if (this.adopted?.has(routeKey(r))) continue;
      await this.apply('delete', describeRoute(r), () => kernel.deleteRoute(r, proto));
    }
    this.installed = installed;
    this.rules = rules;
    this.pending = pending;
    this.selection = selection;
    this.reconciles++;
    this.lastReconcileAt = this.clock.now();
  }

  /** Runs one kernel change; returns the error (already counted and logged) or undefined. */
  private async apply(
    op: 'add' | 'replace' | 'delete',
    what: string,
    fn: () => Promise<void>,
    alreadyReported: (e: unknown) => boolean = () => false,
  ): Promise<Error | undefined> {
    try {
      await fn();
      this.changes++;
      this.log.info({ op, what }, 'kernel changed');
      return undefined;
    } catch (e) {
      // A route already gone is what a delete wants (someone removed it by hand meanwhile).
      if (op === 'delete' && e instanceof RouteNotFoundError) return undefined;
      if (alreadyReported(e)) return e as Error;
      return this.fail(`${op} ${what}`, e);
    }
  }

  private fail(what: string, e: unknown): Error {
    const err = e instanceof Error ? e : new Error(String(e));
    this.errors++;
    this.lastError = `${what}: ${err.message}`;
    this.log.warn({ err: err.message, what }, 'route programming error');
    return err;
  }

  private noteSkipped(skipped: Skipped[], vlanIssues: string[]): void {
    this.skipped = skipped;
    this.vlanIssues = vlanIssues;
    const text = JSON.stringify([skipped, vlanIssues]);
    if (text !== this.skippedText && (skipped.length > 0 || vlanIssues.length > 0)) {
      this.log.info({ skipped, vlanIssues }, 'routes not programmed');
    }
    this.skippedText = text;
  }
}
