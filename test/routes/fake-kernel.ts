/**
 * An in-memory kernel for unit tests, with the semantics the programmer relies on: one entry per
 * (table, dst, metric); create-exclusive fails with EEXIST on any holder; delete matches the protocol
 * (as fib_table_delete / ip6_route_del do) and fails with ESRCH otherwise. Failures can be injected.
 */
import type { ConnectedPrefix } from '../../src/routes/desired.js';
import type { RouteKernel } from '../../src/routes/kernel.js';
import { RouteExistsError, RouteNotFoundError, translateNetlinkError } from '../../src/routes/netlink.js';
import { compareRoute, type KernelRoute, type Route, routeKey } from '../../src/routes/route.js';
import { type KernelRule, type Rule, ruleKey } from '../../src/routes/rule.js';

export class FakeKernel implements RouteKernel {
  readonly routes = new Map<string, KernelRoute>();
  /** Rules by key; the fake holds one rule per key (the kernel allows duplicates without EXCL). */
  readonly rules = new Map<string, KernelRule>();
  connected: ConnectedPrefix[] = [];
  /** Next calls of these operations throw `Request rejected: <errno>` (consumed one per call). */
  failNext: { op: 'list' | 'add' | 'replace' | 'delete'; errno: string }[] = [];
  readonly calls: string[] = [];
  closed = false;

  /** Installs a route as some other actor would (e.g. `ip route add … proto static`). */
  install(route: KernelRoute): void {
    this.routes.set(routeKey(route), route);
  }

  ours(protocol: number): KernelRoute[] {
    return [...this.routes.values()].filter((r) => r.protocol === protocol).sort(compareRoute);
  }

  private injected(op: 'list' | 'add' | 'replace' | 'delete', what: string): void {
    const i = this.failNext.findIndex((f) => f.op === op);
    if (i < 0) return;
    const [f] = this.failNext.splice(i, 1);
    throw translateNetlinkError(new Error(`Request rejected: ${f!.errno}`), what);
  }

  async listRoutes(protocol: number): Promise<KernelRoute[]> {
    this.calls.push('list');
    this.injected('list', 'list routes');
    return [...this.routes.values()].filter((r) => r.protocol === protocol);
  }

  async listRules(protocol: number): Promise<KernelRule[]> {
    return [...this.rules.values()].filter((r) => r.protocol === protocol);
  }

  async addRule(rule: Rule, protocol: number): Promise<void> {
    this.calls.push(`add rule ${ruleKey(rule)}`);
    this.injected('add', 'add rule');
    if (this.rules.has(ruleKey(rule))) throw new RouteExistsError('EEXIST', 'add rule');
    this.rules.set(ruleKey(rule), { ...rule, protocol });
  }

  async deleteRule(rule: Rule, protocol: number): Promise<void> {
    this.calls.push(`delete rule ${ruleKey(rule)}`);
    this.injected('delete', 'delete rule');
    const have = this.rules.get(ruleKey(rule));
    if (!have || have.protocol !== protocol) throw new RouteNotFoundError('ENOENT', 'delete rule');
    this.rules.delete(ruleKey(rule));
  }

  async listConnected(): Promise<ConnectedPrefix[]> {
    return [...this.connected];
  }

  async addRoute(route: Route, protocol: number): Promise<void> {
    this.calls.push(`add ${routeKey(route)}`);
    this.injected('add', 'add route');
    if (this.routes.has(routeKey(route))) throw new RouteExistsError('EEXIST', 'add route');
    this.routes.set(routeKey(route), { ...route, protocol });
  }

  async replaceRoute(route: Route, protocol: number): Promise<void> {
    this.calls.push(`replace ${routeKey(route)}`);
    this.injected('replace', 'replace route');
    this.routes.set(routeKey(route), { ...route, protocol });
  }

  async deleteRoute(
    route: Pick<KernelRoute, 'dst' | 'table' | 'metric' | 'kind'>,
    protocol: number,
  ): Promise<void> {
    this.calls.push(`delete ${routeKey(route)}`);
    this.injected('delete', 'delete route');
    const have = this.routes.get(routeKey(route));
    if (!have || have.protocol !== protocol) throw new RouteNotFoundError('ESRCH', 'delete route');
    this.routes.delete(routeKey(route));
  }

  close(): void {
    this.closed = true;
  }
}
