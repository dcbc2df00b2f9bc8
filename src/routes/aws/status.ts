/**
 * The VPC route controller's status view: the `aws` section of the daemon's status document, which
 * the metrics (routes used, budget, unplanned blocks, EC2 errors by code) are read from.
 */
import type { Unplanned } from './plan-types.js';

export interface AwsApplyStatus {
  /** ISO 8601 wall-clock time the pass ended. */
  readonly at: string;
  readonly ok: boolean;
  readonly durationMs: number;
  /** Create/Replace/DeleteRoute and ModifyNetworkInterfaceAttribute calls, retries included. */
  readonly mutatingCalls: number;
  readonly readCalls: number;
  /** Waits after throttling or 5xx answers. */
  readonly retries: number;
  readonly errors: readonly string[];
}

export interface AwsRoutesStatus {
  /** This node holds the cluster's VPC route leadership (only the leader writes). */
  readonly leader: boolean;
  readonly holder: string | null;
  readonly leadership: string;
  readonly plan: {
    readonly routesUsed: number;
    /** The budget the plan was made for: min(configured, room left in each table, learnt cap). */
    readonly budget: number;
    readonly configuredBudget: number;
    /** A route limit learnt from RouteLimitExceeded, lower than the configured one. */
    readonly routeLimitCap: number | null;
    readonly forwarders: readonly { node: string; group: string; for: readonly string[] }[];
    readonly unplanned: readonly Unplanned[];
  } | null;
  readonly routeTables: readonly { id: string; ours: number; others: number }[];
  readonly unmatchedNodes: readonly { node: string; reason: string }[];
  readonly conflicts: readonly { table: string; destination: string; reason: string }[];
  readonly lastApply: AwsApplyStatus | null;
  /** Cumulative failed EC2 calls by error code (throttling included). */
  readonly apiErrors: Readonly<Record<string, number>>;
}
