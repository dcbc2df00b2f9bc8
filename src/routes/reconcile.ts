/**
 * The diff between the routes we want and the routes of ours the kernel holds. Pure: the programmer
 * (manager.ts) applies it. Reconciling by diff, never by flush and rebuild, keeps every unchanged
 * route in place, so a resync or a restart causes no forwarding gap (Romana flushed its table on
 * every IPAM change).
 */
import { compareRoute, type KernelRoute, type Route, routeKey, sameForwarding } from './route.js';

export interface RouteDiff {
  /** Not in the kernel: create (NLM_F_CREATE | NLM_F_EXCL, so a foreign route at the key is never overwritten). */
  readonly add: Route[];
  /** Ours in the kernel with other next hops or type: replace in place (NLM_F_REPLACE). */
  readonly replace: Route[];
  /** Ours in the kernel and no longer wanted. */
  readonly remove: KernelRoute[];
}

/**
 * `current` may hold anything the kernel listed; only routes tagged with `protocol` are ever replaced
 * or removed. A desired route whose key is held by a foreign route is still an `add`: the kernel
 * refuses it with EEXIST and the programmer reports the conflict, rather than podroute taking over
 * a route an operator or another daemon installed.
 */
export function diffRoutes(
  desired: readonly Route[],
  current: readonly KernelRoute[],
  protocol: number,
): RouteDiff {
  const ours = new Map<string, KernelRoute>();
  const duplicates: KernelRoute[] = [];
  for (const r of current) {
    if (r.protocol !== protocol) continue;
    const key = routeKey(r);
    if (ours.has(key)) duplicates.push(r);
    else ours.set(key, r);
  }
  const wanted = new Set<string>();
  const add: Route[] = [];
  const replace: Route[] = [];
  for (const d of desired) {
    const key = routeKey(d);
    wanted.add(key);
    const have = ours.get(key);
    if (!have) add.push(d);
    else if (!sameForwarding(have, d)) replace.push(d);
  }
  const remove = [...ours.values()].filter((r) => !wanted.has(routeKey(r)));
  // Two entries of ours under one key can only be IPv6 routes that differ in a way the key ignores
  // (e.g. tos); the extra ones are not what we program, so they go.
  remove.push(...duplicates);
  return {
    add: add.sort(compareRoute),
    replace: replace.sort(compareRoute),
    remove: remove.sort(compareRoute),
  };
}

export function diffIsEmpty(d: RouteDiff): boolean {
  return d.add.length === 0 && d.replace.length === 0 && d.remove.length === 0;
}
