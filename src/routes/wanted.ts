/**
 * The wanted kernel state of one reconcile: a pure function of the manager's inputs and the
 * connected prefixes read from the kernel. It puts together the three sources of routes —
 * the announced set and other nodes' blocks (desired.ts), what BGP peers sent (learned.ts) and
 * the VLAN gateway policy (vlan.ts) — so the manager only reads the kernel, diffs and applies.
 */
import type { RoutesConfig } from '../config/routes.js';
import type { Prefix } from '../net/prefix.js';
import { type ConnectedPrefix, type DesiredRoutes, desiredRoutes, type PeerNode } from './desired.js';
import { type LearnedInput, type LearnedSelection, selectLearned } from './learned.js';
import { type VlanPolicy, type VlanSpec, vlanPolicy } from './vlan.js';
import { type IpamVlan, ipamVlanPolicy } from './vlan-ipam.js';

export interface RoutesInput {
  /** This node's announced prefixes: each gets a blackhole. */
  readonly announced: readonly Prefix[];
  /** Other nodes (layer2 mode routes to their blocks). */
  readonly peers: readonly PeerNode[];
  /** The VLAN networks this node holds blocks of (IPAM): their data plane (vlan-ipam.ts). */
  readonly vlans?: readonly IpamVlan[];
}

export interface WantedState {
  readonly selection: LearnedSelection;
  readonly desired: DesiredRoutes;
  readonly policy: VlanPolicy;
}

/** Whether the wanted state depends on the connected prefixes (a kernel read the manager skips otherwise). */
export function needsConnected(config: RoutesConfig, learned: LearnedInput): boolean {
  return config.mode === 'layer2' || config.vlans.length > 0 || learned.peers.some((p) => hasAny(p.routes));
}

function hasAny(routes: Iterable<unknown>): boolean {
  for (const _ of routes) return true;
  return false;
}

export function wantedState(args: {
  readonly input: RoutesInput;
  readonly learned: LearnedInput;
  readonly connected: readonly ConnectedPrefix[];
  readonly config: RoutesConfig;
  readonly vlans: readonly VlanSpec[];
}): WantedState {
  const { input, learned, connected, config, vlans } = args;
  const selection = selectLearned(learned, input.announced, connected, config);
  const desired = desiredRoutes({
    announced: input.announced,
    peers: input.peers,
    connected,
    options: {
      mode: config.mode,
      blackholes: config.blackholes,
      table: config.table,
      metric: config.metric,
      interfaces: config.interfaces,
    },
    learned: selection.routes,
  });
  const policy = vlanPolicy({
    vlans,
    announced: input.announced,
    peers: input.peers,
    connected,
    mode: config.mode,
    metric: config.metric,
  });
  if (!input.vlans?.length) return { selection, desired, policy };
  const fromIpam = ipamVlanPolicy({
    vlans: input.vlans,
    peers: input.peers,
    connected,
    metric: config.metric,
  });
  const merged: VlanPolicy = {
    routes: [...policy.routes, ...fromIpam.routes],
    rules: [...policy.rules, ...fromIpam.rules],
    issues: [...policy.issues, ...fromIpam.issues],
  };
  return { selection, desired, policy: merged };
}
