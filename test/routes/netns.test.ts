/**
 * Kernel test: a real RoutesManager programs blackholes and layer 2 routes (incl. ECMP, IPv4 and IPv6)
 * into table 1000 of a namespace the lab creates, and `ip -j route show table 1000` is the judge.
 * Covers: removal when an input goes, repair of a hand-deleted route by the resync timer, ECMP shrinking
 * to one path, foreign routes (other protocols) never touched, stop({ removeRoutes }) cleaning up.
 */
import t from 'tap';
// The fixture's own modules rather than its index, which pulls in every router and the daemon.
import { interopGate } from '../../lab/fixture/gate.js';
import { Lab } from '../../lab/fixture/lab.js';
import type { Namespace } from '../../lab/fixture/namespace.js';
import { sleep, waitFor } from '../../lab/fixture/wait.js';
import { Driver, tableLines } from './netns-helpers.js';

const TABLE = 1000;
const gate = interopGate([]);
const table = (ns: Namespace) => tableLines(ns, TABLE);

t.test('RoutesManager programs a namespace kernel by diff', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  let driver: Driver | undefined;
  t.teardown(async () => {
    driver?.kill();
    await lab.destroy();
  });
  const node = await lab.addNamespace('node');
  const lan = await lab.addNamespace('lan');
  await lab.addLink(
    { ns: node, ifname: 'eth0', addresses: ['198.18.0.2/24', '2001:db8::2/64'] },
    { ns: lan, ifname: 'n0', addresses: ['198.18.0.1/24', '2001:db8::1/64'] },
  );
  await lab.addLink({ ns: node, ifname: 'eth1', addresses: ['198.18.1.2/24'] }, { ns: lan, ifname: 'n1' });
  // Foreign routes in our table: one elsewhere, one at a destination we will announce.
  await node.ip(['route', 'add', 'blackhole', '198.19.99.0/24', 'table', String(TABLE), 'proto', 'static']);
  await node.ip([
    'route',
    'add',
    '198.19.7.0/24',
    'via',
    '198.18.0.1',
    'table',
    String(TABLE),
    'proto',
    'bgp',
  ]);
  const foreign = [
    '198.19.7.0/24 via 198.18.0.1 dev eth0 proto bgp',
    '198.19.99.0/24 blackhole proto static',
  ];

  const config = { mode: 'layer2', table: TABLE, resyncInterval: 1 };
  const started = await Driver.start(node, config);
  driver = started.driver;
  t.equal(started.status.protocol, 176);

  const n3 = {
    node: 'n3',
    addresses: ['198.18.0.3', '2001:db8::3', '2001:db8::13'],
    blocks: ['198.19.3.0/26', '2001:db8:3::/64'],
  };
  const n4 = { node: 'n4', addresses: ['198.18.0.4', '198.18.1.4'], blocks: ['198.19.4.0/26'] };
  const far = { node: 'far', addresses: ['198.18.50.1'], blocks: ['198.19.50.0/26'] };
  const announced = ['198.19.1.0/24', '2001:db8:1::/48', '198.19.7.0/24'];

  let st = await driver.send({ op: 'update', announced, peers: [n3, n4, far] });
  t.same(await table(node), [
    '198.19.1.0/24 blackhole proto 176',
    '198.19.3.0/26 via 198.18.0.3 dev eth0 proto 176',
    '198.19.4.0/26 via 198.18.0.4 dev eth0 via 198.18.1.4 dev eth1 proto 176',
    ...foreign,
    '2001:db8:1::/48 blackhole proto 176',
    '2001:db8:3::/64 via 2001:db8::13 dev eth0 via 2001:db8::3 dev eth0 proto 176',
  ]);
  t.equal(st.programmed, 5);
  t.match(st.pending, [{ route: '198.19.7.0/24 blackhole', reason: /not ours/ }], 'foreign holder reported');
  t.match(st.skipped, [{ node: 'far', block: '198.19.50.0/26' }], 'off-link node skipped');

  // Resyncs that find the kernel as desired change nothing: what we read back (incl. IPv4 and IPv6
  // RTA_MULTIPATH) parses to exactly what we programmed.
  await sleep(2500);
  const quiet = await driver.send({ op: 'status' });
  t.ok(quiet.reconciles >= st.reconciles + 2, 'resync ran meanwhile');
  t.equal(quiet.changes, st.changes, 'no churn from resync');

  // An input goes away: exactly its routes go.
  st = await driver.send({ op: 'update', announced, peers: [n4, far] });
  t.same(await table(node), [
    '198.19.1.0/24 blackhole proto 176',
    '198.19.4.0/26 via 198.18.0.4 dev eth0 via 198.18.1.4 dev eth1 proto 176',
    ...foreign,
    '2001:db8:1::/48 blackhole proto 176',
  ]);

  // ECMP shrinks to one path when a node loses an address: replaced in place (IPv4 and IPv6, whose
  // kernel keeps multipath legs as sibling routes and must drop the others on NLM_F_REPLACE).
  const n3v6 = { ...n3, addresses: ['2001:db8::13'] };
  st = await driver.send({
    op: 'update',
    announced,
    peers: [{ ...n4, addresses: ['198.18.1.4'] }, n3v6, far],
  });
  const shrunk = await table(node);
  t.ok(
    shrunk.includes('198.19.4.0/26 via 198.18.1.4 dev eth1 proto 176'),
    'IPv4 ECMP replaced by the path left',
  );
  t.ok(
    shrunk.includes('2001:db8:3::/64 via 2001:db8::13 dev eth0 proto 176'),
    'IPv6 ECMP replaced by the path left',
  );
  t.equal(shrunk.filter((l) => l.startsWith('2001:db8:3::/64')).length, 1, 'no IPv6 sibling left behind');
  // And back to two legs.
  st = await driver.send({ op: 'update', announced, peers: [{ ...n4, addresses: ['198.18.1.4'] }, n3, far] });
  t.ok(
    (await table(node)).includes(
      '2001:db8:3::/64 via 2001:db8::13 dev eth0 via 2001:db8::3 dev eth0 proto 176',
    ),
  );
  st = await driver.send({ op: 'update', announced, peers: [{ ...n4, addresses: ['198.18.1.4'] }, far] });

  // Someone deletes our blackhole by hand: the 1 s resync puts it back.
  await node.ip(['route', 'del', '198.19.1.0/24', 'table', String(TABLE)]);
  t.notOk((await table(node)).includes('198.19.1.0/24 blackhole proto 176'), 'deleted by hand');
  await waitFor(async () => (await table(node)).includes('198.19.1.0/24 blackhole proto 176'), {
    timeoutMs: 5000,
  });
  t.pass('hand-deleted route repaired by resync');

  st = await driver.send({ op: 'stop', removeRoutes: true });
  t.equal(st.programmed, 0);
  t.same(await table(node), foreign, 'only foreign routes remain after stop({ removeRoutes: true })');
  t.equal(st.errors, 1, 'the lasting EEXIST against the foreign 198.19.7.0/24 counts once, not per resync');
});
