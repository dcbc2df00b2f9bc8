/**
 * Kernel route programming (docs/architecture.md; settings: docs/configuration.md "routes").
 *
 *   manager.ts    RoutesManager: inputs from the daemon, reconcile loop, resync timer, status
 *   desired.ts    pure: announced prefixes -> blackholes; layer2: on-link peers' blocks -> routes (ECMP)
 *   learned.ts    pure: BGP peers' received paths -> learned routes (RFC 4271 9.1 tie-break, ECMP)
 *   learned-view.ts  the status view of learned paths (`show ip bgp` rows, bounded)
 *   vlan.ts       pure: per-VLAN policy tables and `ip rule from <pod network> lookup <table>`
 *   reconcile.ts  pure: route diff (add / replace / remove), foreign routes never touched
 *   rule.ts       rule model and diff
 *   route.ts      route model, kernel key (table, dst, metric), comparison
 *   kernel.ts     the RouteKernel interface the manager drives (netlink or a test fake)
 *   netlink.ts    RouteKernel over the `netlink` package; typed errors (EEXIST, ESRCH, ...)
 *   multipath.ts  RTA_MULTIPATH codec (struct rtnexthop array)
 *
 * Every route and rule podroute writes carries its protocol tag (routes.protocol, default 176), and
 * only tagged entries are ever replaced or deleted.
 */
export type { ConnectedPrefix, PeerNode, Skipped } from './desired.js';
export type { RouteKernel } from './kernel.js';
export type { LearnedInput, LearnedPath, LearnedPeer } from './learned.js';
export type { LearnedPathStatus, LearnedStatus } from './learned-view.js';
export { type RoutesInput, RoutesManager, type RoutesManagerOptions, type RoutesStatus } from './manager.js';
export { NetlinkError, NetlinkKernel, RouteExistsError, RouteNotFoundError } from './netlink.js';
