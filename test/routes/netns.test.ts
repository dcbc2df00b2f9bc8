/**
 * Kernel test: a real RoutesManager programs blackholes and layer 2 routes (incl. ECMP, IPv4 and IPv6)
 * into table 1000 of a namespace the lab creates, and `ip -j route show table 1000` is the judge.
 * Covers: removal when an input goes, repair of a hand-deleted route by the resync timer, ECMP shrinking
 * to one path, foreign routes (other protocols) never touched, stop({ removeRoutes }) cleaning up.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import t from 'tap';
// The fixture's own modules rather than its index, which pulls in every router and the daemon.
import { interopGate } from '../../lab/fixture/gate.js';
import { Lab } from '../../lab/fixture/lab.js';
import type { Namespace } from '../../lab/fixture/namespace.js';
import { sleep, waitFor } from '../../lab/fixture/wait.js';
import type { RoutesStatus } from '../../src/routes/manager.js';

const TABLE = 1000;
const gate = interopGate([]);
const driverPath = fileURLToPath(new URL('./netns-driver.ts', import.meta.url));

type DriverProcess = ChildProcessByStdio<Writable, Readable, null>;

interface IpRoute {
  dst: string;
  type?: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  metric?: number;
  nexthops?: { gateway: string; dev: string }[];
}

/** `ip -j route show table 1000` for both families, as "dst what proto" lines easy to compare. */
async function table(ns: Namespace): Promise<string[]> {
  const out: string[] = [];
  for (const f of ['-4', '-6']) {
    const r = await ns.ip(['-j', f, 'route', 'show', 'table', String(TABLE)]);
    for (const x of JSON.parse(r.stdout.trim() || '[]') as IpRoute[]) {
      const what = x.nexthops
        ? x.nexthops.map((h) => `via ${h.gateway} dev ${h.dev}`).join(' ')
        : x.type === 'blackhole'
          ? 'blackhole'
          : `via ${x.gateway} dev ${x.dev}`;
      out.push(`${x.dst} ${what} proto ${x.protocol}`);
    }
  }
  return out.sort();
}

class Driver {
  private readonly lines: AsyncIterator<string>;
  constructor(readonly child: DriverProcess) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }
  async next(): Promise<RoutesStatus> {
    const r = await this.lines.next();
    if (r.done) throw new Error('driver exited');
    const msg = JSON.parse(r.value) as { ok: boolean; status?: RoutesStatus; error?: string };
    if (!msg.ok || !msg.status) throw new Error(`driver: ${msg.error}`);
    return msg.status;
  }
  send(cmd: object): Promise<RoutesStatus> {
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    return this.next();
  }
}

t.test('RoutesManager programs a namespace kernel by diff', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  let child: DriverProcess | undefined;
  t.teardown(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
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
  child = spawn(
    'ip',
    ['netns', 'exec', node.name, process.execPath, '--import', 'tsx', driverPath, JSON.stringify(config)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const driver = new Driver(child);
  const started = await driver.next();
  t.equal(started.protocol, 176);

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

  // ECMP shrinks to one path when the node loses an address: replaced in place.
  st = await driver.send({ op: 'update', announced, peers: [{ ...n4, addresses: ['198.18.1.4'] }, far] });
  t.ok(
    (await table(node)).includes('198.19.4.0/26 via 198.18.1.4 dev eth1 proto 176'),
    'ECMP replaced by the one path left',
  );

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
