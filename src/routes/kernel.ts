/**
 * What the route programmer needs from the kernel. The daemon passes the netlink adapter
 * (netlink.ts); unit tests pass an in-memory fake, so reconcile logic runs without a kernel.
 */
import type { ConnectedPrefix } from './desired.js';
import type { KernelRoute, Route } from './route.js';

export interface RouteKernel {
  /** Routes of both families in `table` tagged with `protocol` (never anyone else's). */
  listRoutes(table: number, protocol: number): Promise<KernelRoute[]>;
  /** This node's addresses with their connected prefixes (host-scope addresses left out). */
  listConnected(): Promise<ConnectedPrefix[]>;
  /** Creates the route; rejects with RouteExistsError if any route (ours or not) holds its key. */
  addRoute(route: Route, protocol: number): Promise<void>;
  /** Replaces our route at the same key. */
  replaceRoute(route: Route, protocol: number): Promise<void>;
  /** Deletes the route only if it carries `protocol`; RouteNotFoundError if it is gone. */
  deleteRoute(route: Pick<KernelRoute, 'dst' | 'table' | 'metric' | 'kind'>, protocol: number): Promise<void>;
  close(): void;
}
