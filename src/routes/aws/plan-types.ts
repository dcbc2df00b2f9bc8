/**
 * The VPC route plan's data: what the planner (planner.ts) takes and gives back. The JSON form of
 * a plan (`podroute aws plan --json`, the controller's status) is these objects as they are, with
 * prefixes as text, so a plan read back from JSON can serve as the `previous` plan of the next run.
 */
import type { Prefix } from '../../net/prefix.js';

/** One Kubernetes node as an EC2 instance. */
export interface PlanNode {
  readonly name: string;
  /** The instance's availability zone. */
  readonly zone: string;
  /** The subnet of the ENI that carries the node's pods' traffic (one subnet lies in one zone). */
  readonly subnet: string;
  /** Optional finer topology group inside the zone (the IPAM group, a rack label). */
  readonly rack?: string | undefined;
  readonly instanceId: string;
  readonly eniId: string;
  /** The pod blocks the node holds. */
  readonly blocks: readonly Prefix[];
  /** Running, status checks passing, podroute alive on it: may be a route target. */
  readonly healthy: boolean;
}

/** How far up the topology a forwarder's group reaches. */
export type GroupLevel = 'rack' | 'zone' | 'subnet';

export interface PlanOptions {
  /** Routes the plan may use in each route table. */
  readonly budget: number;
  /**
   * Allow a group to span availability zones (nodes of several zones on one subnet). Off by
   * default: traffic for a zone's pods then never enters the VPC in another zone first.
   */
  readonly allowCrossZone?: boolean | undefined;
  /**
   * The pod networks. Coarser aggregates (covering unused addresses between a group's blocks) stay
   * inside one of them; without networks the planner never widens beyond exact aggregation.
   */
  readonly networks?: readonly Prefix[] | undefined;
  /** The plan in force: its forwarders and aggregates are kept where still valid. */
  readonly previous?: Plan | undefined;
}

export interface PlannedRoute {
  /** Canonical prefix text. */
  readonly destination: string;
  /** The target node (the block's own node, or the group's forwarder). */
  readonly node: string;
  readonly instanceId: string;
  readonly eniId: string;
  /** `node`: the destination's blocks live on the target; `forwarder`: the target relays them. */
  readonly via: 'node' | 'forwarder';
  /** For `forwarder` routes: the group key (see PlannedForwarder.group). */
  readonly group?: string;
}

export interface PlannedForwarder {
  readonly node: string;
  readonly instanceId: string;
  readonly eniId: string;
  /** `zone/subnet/rack`, `zone/subnet`, or `subnet` for a cross-zone group. */
  readonly group: string;
  readonly level: GroupLevel;
  /** The other nodes of the group, reached over the shared subnet. Sorted. */
  readonly for: readonly string[];
}

export interface Unplanned {
  readonly block: string;
  readonly node: string;
  readonly reason: string;
}

export interface Plan {
  readonly budget: number;
  /** Sorted by destination. Never longer than `budget`. */
  readonly routes: readonly PlannedRoute[];
  /** Sorted by group. */
  readonly forwarders: readonly PlannedForwarder[];
  /** Blocks with no route, sorted by block. */
  readonly unplanned: readonly Unplanned[];
}
