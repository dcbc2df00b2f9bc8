/**
 * What the route programmer needs from the kernel. The daemon passes the netlink adapter
 * (netlink.ts); unit tests pass an in-memory fake, so reconcile logic runs without a kernel.
 */
import type { ConnectedPrefix } from './desired.js';
import type { KernelRoute, Route } from './route.js';
import type { KernelRule, Rule } from './rule.js';

export interface RouteKernel {
  /**
   * Routes of both families tagged with `protocol`, from every table (never anyone else's). All
   * tables, so routes left in a table a changed config no longer names are still found and removed.
   */
  listRoutes(protocol: number): Promise<KernelRoute[]>;
  /** This node's addresses with their connected prefixes (host-scope addresses left out). */
  listConnected(): Promise<ConnectedPrefix[]>;
  /** Creates the route; rejects with RouteExistsError if any route (ours or not) holds its key. */
  addRoute(route: Route, protocol: number): Promise<void>;
  /** Replaces our route at the same key. */
  replaceRoute(route: Route, protocol: number): Promise<void>;
  /** Deletes the route only if it carries `protocol`; RouteNotFoundError if it is gone. */
  deleteRoute(route: Pick<KernelRoute, 'dst' | 'table' | 'metric' | 'kind'>, protocol: number): Promise<void>;
  /** Policy rules of both families tagged with `protocol`. */
  listRules(protocol: number): Promise<KernelRule[]>;
  /** RouteExistsError if an identical rule exists. */
  addRule(rule: Rule, protocol: number): Promise<void>;
  /** Deletes the rule only if it carries `protocol`; RouteNotFoundError if it is gone. */
  deleteRule(rule: Rule, protocol: number): Promise<void>;
  close(): void;
}
