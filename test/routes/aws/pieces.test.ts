/**
 * The controller's pure pieces: which EC2 errors are retried and how long it waits, the per-table
 * diff (ownership: inside the pod networks AND recorded), the stored record read back whatever
 * it holds, and the status view for people.
 */
import t from 'tap';
import { ManualClock } from '../../../src/lib/clock.js';
import { parsePrefix } from '../../../src/net/prefix.js';
import { diffTable } from '../../../src/routes/aws/apply.js';
import { retryableCode, withBackoff } from '../../../src/routes/aws/backoff.js';
import { formatAwsStatus } from '../../../src/routes/aws/format.js';
import { EMPTY_RECORD, parseRecord } from '../../../src/routes/aws/leader.js';
import type { Plan } from '../../../src/routes/aws/plan-types.js';
import type { AwsRoutesStatus } from '../../../src/routes/aws/status.js';

const sdkError = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

t.test('retryable: throttling, 5xx, no answer; not: other 4xx', async (t) => {
  t.equal(retryableCode(sdkError('RequestLimitExceeded', 503)), 'RequestLimitExceeded');
  t.equal(retryableCode(sdkError('InternalError', 500)), 'InternalError');
  t.equal(retryableCode(sdkError('Weird', 502)), 'Weird', 'any 5xx');
  t.equal(retryableCode(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), 'ECONNREFUSED');
  t.equal(retryableCode(sdkError('RouteLimitExceeded', 400)), undefined);
  t.equal(retryableCode(sdkError('InvalidRoute.NotFound', 400)), undefined);
  t.equal(retryableCode(new Error('bug')), undefined);
});

t.test('withBackoff: full jitter, capped, gives up after the attempts', async (t) => {
  const clock = new ManualClock();
  const waits: number[] = [];
  let calls = 0;
  const p = withBackoff(
    async () => {
      calls++;
      throw sdkError('RequestLimitExceeded', 503);
    },
    { clock, random: () => 0.999, baseMs: 100, capMs: 500, attempts: 5, onRetry: (_c, w) => waits.push(w) },
  );
  const done = p.catch((e: Error) => e);
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setImmediate(r));
    clock.advance(1000);
  }
  t.match(await done, { name: 'RequestLimitExceeded' });
  t.equal(calls, 5);
  t.same(waits, [99, 199, 399, 499], 'random * min(cap, base * 2^n)');
  let once = 0;
  await t.rejects(
    withBackoff(
      async () => {
        once++;
        throw sdkError('RouteLimitExceeded', 400);
      },
      { clock, random: () => 0.5 },
    ),
    { name: 'RouteLimitExceeded' },
  );
  t.equal(once, 1, 'a final error is not retried');
});

const plan = (routes: [string, string][]): Plan => ({
  budget: 50,
  routes: routes.map(([destination, eniId]) => ({
    destination,
    eniId,
    node: 'n',
    instanceId: 'i-1',
    via: 'node',
  })),
  forwarders: [],
  unplanned: [],
});

t.test('diffTable: only recorded routes inside the pod networks are ours', async (t) => {
  const table = {
    id: 'rtb-1',
    vpcId: 'vpc-1',
    main: false,
    subnets: ['subnet-1'],
    routes: [
      { destination: '198.18.0.0/16', otherTarget: 'local', state: 'active' },
      { destination: '198.19.0.0/26', eniId: 'eni-1', state: 'active' }, // ours, right target
      { destination: '198.19.0.64/26', eniId: 'eni-1', state: 'active' }, // ours, wrong target
      { destination: '198.19.0.128/26', eniId: 'eni-2', state: 'blackhole' }, // ours, dead target
      { destination: '198.19.1.0/26', eniId: 'eni-3', state: 'active' }, // ours, not planned
      { destination: '198.19.2.0/26', eniId: 'eni-3', state: 'active' }, // not recorded
      { destination: '10.0.0.0/8', eniId: 'eni-3', state: 'active' }, // recorded, outside the networks
    ],
  };
  const d = diffTable(
    table,
    plan([
      ['198.19.0.0/26', 'eni-1'],
      ['198.19.0.64/26', 'eni-2'],
      ['198.19.0.128/26', 'eni-2'],
      ['198.19.2.0/26', 'eni-4'],
      ['198.19.3.0/26', 'eni-4'],
    ]),
    ['198.19.0.0/26', '198.19.0.64/26', '198.19.0.128/26', '198.19.1.0/26', '10.0.0.0/8', '198.19.9.0/26'],
    [parsePrefix('198.19.0.0/16')],
  );
  t.same(d.creates, [{ destination: '198.19.3.0/26', eniId: 'eni-4' }]);
  t.same(d.replaces, [
    { destination: '198.19.0.64/26', eniId: 'eni-2' },
    { destination: '198.19.0.128/26', eniId: 'eni-2' },
  ]);
  t.same(d.deletes, ['198.19.1.0/26'], 'never 10.0.0.0/8 (outside), never 198.19.2.0/26 (not recorded)');
  t.match(d.conflicts, [{ destination: '198.19.2.0/26', reason: /does not own \(target eni-3\)/ }]);
  t.same(d.ours, ['198.19.0.0/26', '198.19.0.128/26', '198.19.0.64/26', '198.19.1.0/26']);
  t.equal(d.others, 3, 'local, the unrecorded one and the one outside the networks');
});

t.test('parseRecord: whatever is stored, never a crash', async (t) => {
  t.same(parseRecord(undefined), EMPTY_RECORD);
  t.same(parseRecord('not json'), EMPTY_RECORD);
  t.same(parseRecord('{"tables": {"rtb-1": ["198.19.0.0/26", 5]}, "plan": 3, "vpcId": "vpc-1"}'), {
    tables: { 'rtb-1': ['198.19.0.0/26'] },
    vpcId: 'vpc-1',
  });
});

t.test('status for people', async (t) => {
  const s: AwsRoutesStatus = {
    leader: true,
    holder: null,
    leadership: 'etcd',
    plan: {
      routesUsed: 2,
      budget: 3,
      configuredBudget: 50,
      routeLimitCap: 4,
      forwarders: [{ node: 'a', group: 'z1/s1', for: ['b', 'c'] }],
      unplanned: [],
    },
    routeTables: [],
    unmatchedNodes: [{ node: 'x', reason: 'no EC2 instance has address 198.18.9.9' }],
    conflicts: [],
    lastApply: {
      at: '2026-12-01T10:00:00.000Z',
      ok: true,
      durationMs: 12,
      mutatingCalls: 0,
      readCalls: 3,
      retries: 1,
      errors: [],
    },
    apiErrors: { RequestLimitExceeded: 1 },
  };
  t.same(formatAwsStatus(s), [
    'AWS VPC routes  leader (etcd)  routes 2/3 (limit learnt: 4)',
    'Forwarder  Group  For',
    'a          z1/s1  b, c',
    'Not an EC2 instance: x (no EC2 instance has address 198.18.9.9)',
    'Last pass 2026-12-01T10:00:00.000Z  ok  12 ms  0 changes, 3 reads, 1 retries',
    'EC2 errors: RequestLimitExceeded 1',
  ]);
  t.same(formatAwsStatus({ ...s, leader: false, holder: 'node-b', lastApply: null, apiErrors: {} }), [
    'AWS VPC routes  follower (etcd); leader: node-b',
  ]);
});
