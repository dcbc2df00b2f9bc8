/** The VPC route controller's metrics, read off the `aws` section of the status document. */
import t from 'tap';
import type { StatusJson } from '../../../src/api/status.js';
import { createMetricsRegistry } from '../../../src/daemon/metrics.js';

t.test('aws series', async (t) => {
  const doc: StatusJson = {
    node: 'n1',
    routerId: '198.18.0.2',
    announced: [],
    aws: {
      leader: true,
      holder: null,
      leadership: 'file',
      plan: {
        routesUsed: 3,
        budget: 49,
        configuredBudget: 50,
        routeLimitCap: null,
        forwarders: [],
        unplanned: [{ block: '198.19.0.0/26', node: 'a', reason: 'node a is not healthy' }],
      },
      routeTables: [],
      unmatchedNodes: [],
      conflicts: [],
      lastApply: null,
      apiErrors: { RequestLimitExceeded: 4, InternalError: 1 },
    },
  };
  const text = await createMetricsRegistry(() => doc).metrics();
  for (const line of [
    'podroute_aws_leader 1',
    'podroute_aws_routes_used 3',
    'podroute_aws_route_budget 49',
    'podroute_aws_unplanned_blocks 1',
    'podroute_aws_api_errors_total{code="RequestLimitExceeded"} 4',
    'podroute_aws_api_errors_total{code="InternalError"} 1',
  ])
    t.ok(text.split('\n').includes(line), line);
  const none = await createMetricsRegistry(() => ({ ...doc, aws: undefined })).metrics();
  t.ok(none.split('\n').includes('podroute_aws_leader 0'), 'no aws section: not a leader');
  t.notMatch(none, /^podroute_aws_api_errors_total\{/m, 'and no error samples');
});
