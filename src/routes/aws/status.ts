/**
 * The VPC route controller's status view (`AwsRoutesStatus`, the `aws` section of the daemon's
 * status) and its metric samples: routes used, budget, EC2 API errors by code.
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

export interface MetricSample {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly value: number;
  readonly labels?: Readonly<Record<string, string>>;
}

/** Prometheus samples for a status view: a metrics registry adds them as they are. */
export function awsMetricSamples(s: AwsRoutesStatus): MetricSample[] {
  const out: MetricSample[] = [
    {
      name: 'podroute_aws_leader',
      help: 'This node writes the VPC route tables',
      type: 'gauge',
      value: s.leader ? 1 : 0,
    },
  ];
  if (s.plan) {
    out.push(
      {
        name: 'podroute_aws_routes_used',
        help: 'VPC routes in the plan',
        type: 'gauge',
        value: s.plan.routesUsed,
      },
      {
        name: 'podroute_aws_route_budget',
        help: 'VPC route budget per table',
        type: 'gauge',
        value: s.plan.budget,
      },
      {
        name: 'podroute_aws_unplanned_blocks',
        help: 'Pod blocks without a VPC route',
        type: 'gauge',
        value: s.plan.unplanned.length,
      },
    );
  }
  for (const [code, n] of Object.entries(s.apiErrors).sort()) {
    out.push({
      name: 'podroute_aws_api_errors_total',
      help: 'Failed EC2 calls',
      type: 'counter',
      value: n,
      labels: { code },
    });
  }
  return out;
}
