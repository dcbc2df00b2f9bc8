/**
 * VPC route leadership on a real etcd (lab fixture, loopback): one holder at a time, the record
 * written only by the holder (fencing), a holder that stops renewing its lease replaced after the
 * TTL, and a controller pass led through etcd.
 */
import t from 'tap';
import { interopGate } from '../../../lab/fixture/gate.js';
import { Lab, startEtcd } from '../../../lab/fixture/index.js';
import { MemoryBlockStore } from '../../../src/ipam/store/memory.js';
import { createLogger } from '../../../src/lib/log.js';
import { NotLeaderError } from '../../../src/routes/aws/leader.js';
import { EtcdLeadership } from '../../../src/routes/aws/leader-etcd.js';
import { VpcEnv } from './env.js';

const logger = createLogger('error');
const gate = interopGate(['etcd']);

t.test('etcd leadership', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const etcd = await startEtcd(lab);
  const opts = { hosts: [`http://127.0.0.1:${etcd.clientPort}`], prefix: '/podroute-aws-it', ttl: 2, logger };
  const a = new EtcdLeadership(opts, 'node-a');
  const b = new EtcdLeadership(opts, 'node-b');
  t.teardown(async () => {
    await a.close();
    await b.close();
  });

  t.equal(await a.acquire(), true, 'a leads');
  t.equal(await b.acquire(), false, 'b waits');
  t.equal(await a.acquire(), true, 'a keeps it');
  t.equal(await b.holder(), 'node-a');
  await a.writeRecord({ tables: { 'rtb-1': ['198.19.0.0/26'] } });
  t.same(await b.readRecord(), { tables: { 'rtb-1': ['198.19.0.0/26'] } });
  await t.rejects(b.writeRecord({ tables: {} }), NotLeaderError, 'a follower cannot write the record');

  // a stops renewing (as a crashed or partitioned holder would): b takes over after the TTL.
  a.abandon();
  let took = false;
  const start = Date.now();
  while (!took && Date.now() - start < 10_000) {
    took = await b.acquire();
    if (!took) await new Promise((r) => setTimeout(r, 200));
  }
  t.ok(took, `b leads ${Date.now() - start} ms after a stopped renewing (TTL 2 s)`);
  await t.rejects(a.writeRecord({ tables: {} }), NotLeaderError, 'the old leader is fenced off');
  t.same((await b.readRecord()).tables, { 'rtb-1': ['198.19.0.0/26'] }, 'its record survives for b');
  await b.resign();
  t.equal(await a.acquire(), true, 'after a resign the key is free at once');
});

t.test('a controller pass led through etcd', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const etcd = await startEtcd(lab);
  const env = await VpcEnv.create(t, new MemoryBlockStore());
  await env.addNode({ name: 'a', zone: 0, blocks: [0] });
  await env.addNode({ name: 'b', zone: 1, blocks: [4] });
  const opts = {
    hosts: [`http://127.0.0.1:${etcd.clientPort}`],
    prefix: '/podroute-aws-ctl',
    ttl: 5,
    logger,
  };
  const la = new EtcdLeadership(opts, 'ctl-a');
  const lb = new EtcdLeadership(opts, 'ctl-b');
  t.teardown(async () => {
    await la.close();
    await lb.close();
  });
  const one = env.controller({ leadership: la }).c;
  const two = env.controller({ leadership: lb }).c;
  await one.runPass();
  await two.runPass();
  t.match(one.status(), { leader: true, leadership: 'etcd', lastApply: { ok: true } });
  t.match(two.status(), { leader: false, holder: 'ctl-a' });
  for (const table of env.tables) t.equal(Object.keys(env.routes(table)).length, 2);
  await one.stop();
  const since = env.ec2.calls.length;
  await two.runPass();
  t.equal(two.status().leader, true);
  t.same(env.ec2.mutations(since), [], 'the successor reads the record from etcd and has nothing to do');
});
