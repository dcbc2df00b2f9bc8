/**
 * The VPC route controller with the real AWS SDK v3 EC2 client against a local EC2-compatible
 * endpoint on loopback (fake-ec2.ts). That server is not EC2: it follows the documented EC2 Query
 * API (form posts, XML answers, AWS's error shape), enforces a per-table route limit, throttles on
 * demand and keeps instance states. Timers are instant (InstantClock), so backoff never waits.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { FileBlockStore } from '../../../src/ipam/store/file.js';
import { MemoryBlockStore } from '../../../src/ipam/store/memory.js';
import { FileLeadership } from '../../../src/routes/aws/leader-file.js';
import { podBlock, VpcEnv } from './env.js';

t.test('first apply from empty, then nothing to do', async (t) => {
  const env = await VpcEnv.create(t, new MemoryBlockStore());
  const a = await env.addNode({ name: 'a', zone: 0, blocks: [0, 1] });
  const b = await env.addNode({ name: 'b', zone: 0, blocks: [4] });
  const c = await env.addNode({ name: 'c', zone: 1, blocks: [8] });
  const { c: ctl } = env.controller();
  await ctl.runPass();
  const want = { '198.19.0.0/25': a.eniId, '198.19.1.0/26': b.eniId, '198.19.2.0/26': c.eniId };
  for (const table of env.tables) t.same(env.routes(table), want, `${table.id}: one route per node`);
  t.ok(
    [a, b, c].every((i) => !i.sourceDestCheck),
    'source/destination check off on every target',
  );
  const s = ctl.status();
  t.equal(s.leader, true);
  t.match(s.plan, { routesUsed: 3, budget: 49, configuredBudget: 50, forwarders: [], unplanned: [] });
  t.match(s.lastApply, { ok: true, mutatingCalls: 3 + 9, errors: [] });
  t.same(
    s.routeTables.map((x) => x.ours),
    [3, 3, 3],
  );

  const since = env.ec2.calls.length;
  await ctl.runPass();
  t.same(env.ec2.mutations(since), [], 're-apply: 0 mutating calls');
  t.match(ctl.status().lastApply, { ok: true, mutatingCalls: 0 });
  t.ok(
    env.ec2.calls.slice(since).every((x) => x.action.startsWith('Describe')),
    'only reads',
  );
});

t.test('node added, node removed', async (t) => {
  const store = new MemoryBlockStore();
  const env = await VpcEnv.create(t, store);
  await env.addNode({ name: 'a', zone: 0, blocks: [0] });
  await env.addNode({ name: 'b', zone: 1, blocks: [4] });
  const { c: ctl } = env.controller();
  await ctl.runPass();
  let since = env.ec2.calls.length;
  const d = await env.addNode({ name: 'd', zone: 1, blocks: [12] });
  await ctl.runPass();
  t.same(env.ec2.mutations(since).sort(), [
    'CreateRoute',
    'CreateRoute',
    'CreateRoute',
    'ModifyNetworkInterfaceAttribute',
  ]);
  for (const table of env.tables) t.equal(env.routes(table)[podBlock(12)], d.eniId);

  since = env.ec2.calls.length;
  store.kill('a');
  await store.releaseNode('a');
  await ctl.runPass();
  t.same(env.ec2.mutations(since), ['DeleteRoute', 'DeleteRoute', 'DeleteRoute']);
  for (const table of env.tables) t.notOk(podBlock(0) in env.routes(table));
});

t.test('forwarder instance stopped: its routes move within one pass', async (t) => {
  const env = await VpcEnv.create(t, new MemoryBlockStore());
  for (let i = 0; i < 4; i++) await env.addNode({ name: `a${i}`, zone: 0, blocks: [i] });
  for (let i = 0; i < 2; i++) await env.addNode({ name: `b${i}`, zone: 1, blocks: [8 + i] });
  // Room for 2 routes: one aggregate per zone.
  const { c: ctl } = env.controller({ budget: 2 });
  await ctl.runPass();
  const before = ctl.status().plan!;
  t.equal(before.routesUsed, 2);
  t.same(
    before.forwarders.map((f) => f.group),
    ['zone-a/subnet-0a/zone-a', 'zone-b/subnet-1a/zone-b'],
    'the IPAM group is the rack level',
  );
  const fw = before.forwarders[0]!.node;
  const fwInst = [...env.ec2.instances.values()].find(
    (i) => i.address === `198.18.0.${11 + Number(fw.slice(1))}`,
  )!;
  fwInst.state = 'stopped';
  const since = env.ec2.calls.length;
  await ctl.runPass();
  const after = ctl.status().plan!;
  t.not(after.forwarders[0]!.node, fw, 'a new forwarder in zone a');
  t.equal(after.forwarders[1]!.node, before.forwarders[1]!.node, 'zone b untouched');
  for (const table of env.tables) {
    t.not(env.routes(table)['198.19.0.0/24'], fwInst.eniId);
  }
  t.same(
    env.ec2.mutations(since).filter((m) => m !== 'ModifyNetworkInterfaceAttribute'),
    ['ReplaceRoute', 'ReplaceRoute', 'ReplaceRoute'],
    'one retarget per table',
  );
  // Status check failure (impaired) counts the same.
  const next = after.forwarders[0]!.node;
  const nextInst = [...env.ec2.instances.values()].find(
    (i) => i.address === `198.18.0.${11 + Number(next.slice(1))}`,
  )!;
  nextInst.impaired = true;
  await ctl.runPass();
  t.not(ctl.status().plan!.forwarders[0]!.node, next, 'a failed status check moves it too');
});

t.test('throttling storm: backs off with jitter and converges', async (t) => {
  const env = await VpcEnv.create(t, new MemoryBlockStore());
  await env.addNode({ name: 'a', zone: 0, blocks: [0] });
  await env.addNode({ name: 'b', zone: 1, blocks: [4] });
  const { c: ctl, clock } = env.controller();
  env.ec2.throttle = 5;
  env.ec2.serverErrors = 2;
  await ctl.runPass();
  const s = ctl.status();
  t.match(s.lastApply, { ok: true, retries: 7 });
  t.same(s.apiErrors, { RequestLimitExceeded: 5, InternalError: 2 });
  t.equal(clock.waits.length, 7, 'one wait per throttled answer');
  // Full jitter: each wait is below base * 2^(attempt-1), and they are not all equal.
  t.ok(clock.waits.every((w) => w >= 0 && w < 250 * 2 ** 6));
  t.ok(new Set(clock.waits).size > 1, 'jittered');
  for (const table of env.tables) t.equal(Object.keys(env.routes(table)).length, 2);
  // A storm longer than the attempts of one call: that pass fails, the next converges.
  env.ec2.throttle = 100;
  await env.addNode({ name: 'c', zone: 1, blocks: [8] });
  await ctl.runPass();
  t.equal(ctl.status().lastApply?.ok, false);
  env.ec2.throttle = 0;
  await ctl.runPass();
  t.equal(ctl.status().lastApply?.ok, true);
  for (const table of env.tables) t.equal(Object.keys(env.routes(table)).length, 3);
});

t.test('RouteLimitExceeded: re-plans with a smaller budget, reports, never crashes', async (t) => {
  const env = await VpcEnv.create(t, new MemoryBlockStore());
  for (let i = 0; i < 6; i++) await env.addNode({ name: `a${i}`, zone: 0, blocks: [i] });
  for (let i = 0; i < 3; i++) await env.addNode({ name: `b${i}`, zone: 1, blocks: [8 + i] });
  env.ec2.routeLimit = 4; // the local route + 3
  const { c: ctl } = env.controller();
  await ctl.runPass();
  const s = ctl.status();
  t.equal(s.plan?.routeLimitCap, 4);
  t.equal(s.plan?.budget, 3);
  t.ok(s.plan!.routesUsed <= 3);
  t.same(s.plan?.unplanned, [], 'aggregates fit every block');
  t.match(s.lastApply?.errors.join('\n'), /RouteLimitExceeded.*re-planning/);
  for (const table of env.tables) t.ok(table.routes.size <= 4);
  const since = env.ec2.calls.length;
  await ctl.runPass();
  t.same(env.ec2.mutations(since), [], 'the learnt limit holds: no more failed creates');
  t.equal(ctl.status().lastApply?.ok, true);
});

t.test('a route it does not own, in the same table and inside the pod network, is left alone', async (t) => {
  const env = await VpcEnv.create(t, new MemoryBlockStore());
  const a = await env.addNode({ name: 'a', zone: 0, blocks: [0] });
  await env.addNode({ name: 'b', zone: 1, blocks: [4] });
  const table = env.zoneTables[0]!;
  // An operator's routes: one beside ours, one on a destination the plan wants.
  table.routes.set('198.19.200.0/24', { eniId: a.eniId, instanceId: a.instanceId });
  table.routes.set(podBlock(4), { gatewayId: 'vgw-0001' });
  const { c: ctl } = env.controller();
  await ctl.runPass();
  await ctl.runPass();
  t.same(table.routes.get('198.19.200.0/24'), { eniId: a.eniId, instanceId: a.instanceId }, 'untouched');
  t.same(table.routes.get(podBlock(4)), { gatewayId: 'vgw-0001' }, 'not overwritten');
  t.match(ctl.status().conflicts, [{ table: table.id, destination: podBlock(4), reason: /does not own/ }]);
  t.equal(env.routes(env.zoneTables[1]!)[podBlock(4)] !== undefined, true, 'other tables still get it');
  // Remove every node: ours go, the operator's stay.
  for (const n of ['a', 'b']) {
    (env.store as MemoryBlockStore).kill(n);
    await env.store.releaseNode(n);
  }
  await ctl.runPass();
  t.same([...table.routes.keys()].sort(), ['198.18.0.0/16', '198.19.200.0/24', podBlock(4)].sort());
});

t.test('one writer: a second controller waits while the first holds the lock', async (t) => {
  const env = await VpcEnv.create(t, new MemoryBlockStore());
  await env.addNode({ name: 'a', zone: 0, blocks: [0] });
  const one = env.controller({ node: 'one' }).c;
  const two = env.controller({ node: 'two' }).c;
  await one.runPass();
  const since = env.ec2.calls.length;
  await two.runPass();
  t.match(two.status(), { leader: false, holder: 'one' });
  t.same(env.ec2.calls.slice(since), [], 'a follower makes no EC2 call');
  await one.stop();
  await two.runPass();
  t.equal(two.status().leader, true, 'takes over after the leader resigns');
  t.same(env.ec2.mutations(since), [], 'and finds nothing to change');
});

t.test('leader killed in the middle of an apply: the new leader converges', async (t) => {
  const env = await VpcEnv.create(t, new FileBlockStore(join(tempDir(t), 'ipam.json')));
  for (let i = 0; i < 5; i++) await env.addNode({ name: `n${i}`, zone: (i % 2) as 0 | 1, blocks: [i * 4] });
  const storePath = (env.store as FileBlockStore).path;
  // The first leader is a child process; the server holds its 7th mutating call, then we kill it.
  const child = spawn(
    process.execPath,
    ['--import=tsx', new URL('./leader-child.ts', import.meta.url).pathname, storePath, env.endpoint],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const killed = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  env.ec2.hold = { after: 6, onHeld: () => child.kill('SIGKILL') };
  await killed;
  const partial = env.tables.map((x) => Object.keys(env.routes(x)).length);
  t.ok(
    partial.reduce((a, b) => a + b, 0) < 15,
    `the child was killed part way (${partial.join('+')} of 15 routes)`,
  );
  const { c: ctl } = env.controller({ leadership: new FileLeadership(storePath, 'successor') });
  await ctl.runPass();
  t.equal(ctl.status().leader, true, 'the dead leader’s lock was broken');
  for (const table of env.tables) t.equal(Object.keys(env.routes(table)).length, 5, `${table.id} complete`);
  const since = env.ec2.calls.length;
  await ctl.runPass();
  t.same(env.ec2.mutations(since), [], 'converged');
  t.same(
    ctl.status().routeTables.map((x) => x.ours),
    [5, 5, 5],
    'every route is in the record',
  );
});

function tempDir(t: Test): string {
  const d = mkdtempSync(join(tmpdir(), 'podroute-aws-kill-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}
