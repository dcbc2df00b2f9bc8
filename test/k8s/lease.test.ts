/**
 * Leader election with a coordination.k8s.io/v1 Lease (src/k8s/lease.ts), driving the real client
 * library against the local stand-in (test/k8s/api-server.ts + api-leases.ts: it follows the
 * Kubernetes API conventions, it is NOT a real API server). Time is a ManualClock; the tests wait
 * only for the HTTP round trips.
 */
import t, { type Test } from 'tap';
import { LeaderElector, openLeaseApi } from '../../src/k8s/lease.js';
import { ManualClock } from '../../src/lib/clock.js';
import { FakeKubeApi } from './api-server.js';
import { recordingLogger, waitFor, writeKubeconfig } from './helpers.js';

const NS = 'podroute';

async function setup(t: Test) {
  const api = new FakeKubeApi();
  api.token = 'test-token';
  await api.listen();
  t.teardown(() => api.close());
  const kubeconfig = writeKubeconfig(api.url);
  const clock = new ManualClock(1_000_000);
  const logger = recordingLogger();
  const make = async (identity: string, seconds = 15): Promise<LeaderElector> => {
    const leaseApi = await openLeaseApi({ kubeconfig, env: {} });
    const e = new LeaderElector({
      api: leaseApi,
      namespace: NS,
      name: 'podroute-node-gc',
      identity,
      clock,
      logger: logger.child({ identity }),
      leaseDurationSeconds: seconds,
    });
    t.teardown(() => e.stop());
    return e;
  };
  /** Moves the clock and lets every HTTP round trip the timers started finish. */
  const step = async (ms: number) => {
    clock.advance(ms);
    await new Promise((r) => setTimeout(r, 60));
  };
  return { api, clock, logger, make, step };
}

t.test('the first candidate creates the Lease and renews it; a second one waits', async (t) => {
  const { api, make, step } = await setup(t);
  const a = await make('node-a');
  a.start();
  await waitFor(() => a.isLeader, 'node-a leading');
  const lease = api.leases.get(NS, 'podroute-node-gc');
  t.equal(lease?.spec?.holderIdentity, 'node-a');
  t.equal(lease?.spec?.leaseDurationSeconds, 15);
  t.match(lease?.spec?.renewTime, /^\d{4}-\d\d-\d\dT/, 'renewTime written as a timestamp');
  const b = await make('node-b');
  b.start();
  await step(0);
  for (let i = 0; i < 10; i++) await step(2000);
  t.ok(a.isLeader, 'node-a still leads after 20 s: it renewed');
  t.notOk(b.isLeader, 'node-b does not take a renewed Lease');
  t.equal(b.holder, 'node-a', 'node-b sees who holds it');
  const stored = api.leases.get(NS, 'podroute-node-gc')?.spec?.renewTime;
  t.same(
    a.status(),
    {
      namespace: NS,
      name: 'podroute-node-gc',
      holder: 'node-a',
      leading: true,
      renewTime: stored,
      leaseDurationSeconds: 15,
      error: null,
    },
    "status: node-a's own view",
  );
  t.match(
    b.status(),
    { holder: 'node-a', leading: false, error: null },
    "status: node-b's view of the holder",
  );
  const renewals = api.leases.writes.filter((w) => w.holder === 'node-a').length;
  t.ok(renewals >= 5, `node-a renewed ${renewals} times`);
  t.notOk(
    api.leases.writes.some((w) => w.holder === 'node-b'),
    'node-b never wrote the Lease',
  );
});

t.test('a holder that stops renewing loses the Lease after leaseDurationSeconds', async (t) => {
  const { api, make, step, logger } = await setup(t);
  const a = await make('node-a');
  a.start();
  await waitFor(() => a.isLeader, 'node-a leading');
  const b = await make('node-b');
  b.start();
  await step(0);
  a.stop(); // a crash: the Lease stays as it was
  for (let i = 0; i < 6; i++) await step(2000); // 12 s < 15 s
  t.notOk(b.isLeader, 'not before the lease duration');
  for (let i = 0; i < 3; i++) await step(2000);
  await waitFor(() => b.isLeader, 'node-b leading');
  const l = api.leases.get(NS, 'podroute-node-gc');
  t.equal(l?.spec?.holderIdentity, 'node-b');
  t.equal(l?.spec?.leaseTransitions, 1, 'one transition counted');
  t.ok(
    logger.records.some((r) => r.msg === 'took over the Lease' && r.obj.from === 'node-a'),
    'the take-over is logged',
  );
});

t.test('release() hands the Lease over without waiting for it to expire', async (t) => {
  const { api, make, step } = await setup(t);
  const a = await make('node-a');
  a.start();
  await waitFor(() => a.isLeader, 'node-a leading');
  const b = await make('node-b');
  b.start();
  await step(0);
  await a.release();
  t.equal(api.leases.get(NS, 'podroute-node-gc')?.spec?.holderIdentity, '', 'holder emptied');
  await step(2000);
  await waitFor(() => b.isLeader, 'node-b leading after one retry period');
});

t.test('a resourceVersion conflict (409) means someone else won: re-read, do not lead', async (t) => {
  const { api, make, step } = await setup(t);
  // An expired Lease of a third node: both candidates will try to take it over.
  api.leases.put({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'podroute-node-gc', namespace: NS },
    spec: { holderIdentity: 'node-old', leaseDurationSeconds: 1, renewTime: new Date(0).toISOString() },
  });
  const a = await make('node-a');
  const b = await make('node-b');
  a.start();
  b.start();
  await step(0);
  await step(1000); // both observed node-old 1 s ago: expired for both, both PUT the same version
  await step(1000);
  await waitFor(() => a.isLeader || b.isLeader, 'a leader');
  await step(2000);
  t.not(a.isLeader, b.isLeader, 'exactly one leads');
  t.ok(api.leases.conflicts >= 1, `the loser got 409 Conflict (${api.leases.conflicts})`);
  const winner = a.isLeader ? 'node-a' : 'node-b';
  t.equal(api.leases.get(NS, 'podroute-node-gc')?.spec?.holderIdentity, winner);
  t.equal((a.isLeader ? b : a).holder, winner, 'the loser re-read the Lease and sees the winner');
});

t.test('two candidates creating at once: one gets 409 AlreadyExists', async (t) => {
  const { api, make } = await setup(t);
  const a = await make('node-a');
  const b = await make('node-b');
  a.start();
  b.start();
  await waitFor(() => a.isLeader || b.isLeader, 'a leader');
  await new Promise((r) => setTimeout(r, 100));
  t.not(a.isLeader, b.isLeader, 'exactly one leads');
  t.equal(api.leases.writes.length, 1, 'one create stored');
  t.equal(api.leases.conflicts, 1, 'the other create answered 409');
});

t.test(
  'a leader that cannot renew steps down before the lease runs out; 403 says what RBAC lacks',
  async (t) => {
    const { api, make, step, logger } = await setup(t);
    const a = await make('node-a');
    const stopped: number[] = [];
    a.onStoppedLeading(() => stopped.push(1));
    a.start();
    await waitFor(() => a.isLeader, 'node-a leading');
    api.leases.forbid.add('update');
    for (let i = 0; i < 4; i++) await step(2000); // 8 s < renew deadline 10 s
    t.ok(a.isLeader, 'still leading within the renew deadline');
    t.match(a.error, /403 Forbidden.*get, create and update on leases/);
    for (let i = 0; i < 2; i++) await step(2000);
    t.notOk(a.isLeader, 'stepped down after the renew deadline (10 s), before the 15 s lease ends');
    t.match(a.status(), { holder: 'node-a', leading: false, error: /403 Forbidden/ }, 'status shows why');
    t.same(stopped, [1], 'onStoppedLeading ran once');
    t.ok(logger.records.some((r) => r.msg.includes('stepping down')));
  },
);
