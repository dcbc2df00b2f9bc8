import t from 'tap';
import { type RoutesConfig, routesSchema } from '../../src/config/routes.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { parsePrefix } from '../../src/net/prefix.js';
import { RoutesManager } from '../../src/routes/manager.js';
import { describeRoute, routeKey } from '../../src/routes/route.js';
import { FakeKernel } from './fake-kernel.js';

const P = parsePrefix;
const config = (over: Partial<RoutesConfig> = {}): RoutesConfig =>
  routesSchema.parse({ mode: 'layer2', table: 100, resyncInterval: 30, ...over });

function setup(over: Partial<RoutesConfig> = {}) {
  const kernel = new FakeKernel();
  kernel.connected = [{ ifindex: 2, ifname: 'eth0', address: '198.18.0.2', prefix: P('198.18.0.0/24') }];
  const clock = new ManualClock();
  const cfg = config(over);
  const mgr = new RoutesManager({ config: cfg, logger: silentLogger, clock, kernel });
  const ours = () => kernel.ours(cfg.protocol).map(describeRoute);
  return { kernel, clock, mgr, ours, cfg };
}

const peers = [
  { node: 'n3', addresses: ['198.18.0.3'], blocks: [P('198.19.3.0/26')] },
  { node: 'n4', addresses: ['198.18.0.4', '198.18.0.14'], blocks: [P('198.19.4.0/26')] },
  { node: 'far', addresses: ['198.18.50.1'], blocks: [P('198.19.50.0/26')] },
];

t.test('start programs the desired set; update reconciles by diff', async (t) => {
  const { kernel, mgr, ours } = setup();
  mgr.update({ announced: [P('198.19.1.0/24')], peers });
  t.same(kernel.calls, [], 'nothing happens before start');
  await mgr.start();
  t.same(ours(), [
    '198.19.1.0/24 blackhole',
    '198.19.3.0/26 via 198.18.0.3 dev 2',
    '198.19.4.0/26 via 198.18.0.14 dev 2 via 198.18.0.4 dev 2',
  ]);
  const st = mgr.status();
  t.equal(st.programmed, 3);
  t.equal(st.changes, 3);
  t.equal(st.errors, 0);
  await mgr.reconcileNow();
  t.equal(mgr.status().changes, 3, 'a reconcile against an unchanged kernel changes nothing');
  t.match(st.skipped, [{ node: 'far' }]);

  kernel.calls.length = 0;
  mgr.update({ announced: [P('198.19.1.0/24')], peers: peers.slice(1) });
  await mgr.idle();
  t.same(kernel.calls, ['list', 'delete 100 198.19.3.0/26 0'], 'only the removed peer block is touched');
  t.same(ours(), ['198.19.1.0/24 blackhole', '198.19.4.0/26 via 198.18.0.14 dev 2 via 198.18.0.4 dev 2']);
  await mgr.stop({ removeRoutes: false });
});

t.test('updates during a run coalesce into one follow-up run', async (t) => {
  const { kernel, mgr, ours } = setup();
  await mgr.start();
  kernel.calls.length = 0;
  mgr.update({ announced: [P('198.19.1.0/24')], peers: [] });
  mgr.update({ announced: [P('198.19.2.0/24')], peers: [] });
  const done = mgr.reconcileNow();
  mgr.update({ announced: [P('198.19.3.0/24')], peers: [] });
  await done;
  t.same(ours(), ['198.19.3.0/24 blackhole'], 'the last input wins');
  t.ok(kernel.calls.filter((c) => c === 'list').length <= 2, 'at most a run and one follow-up');
  await mgr.stop({ removeRoutes: false });
});

t.test('the resync timer repairs a route deleted by hand', async (t) => {
  const { kernel, clock, mgr, ours, cfg } = setup();
  mgr.update({ announced: [P('198.19.1.0/24')], peers });
  await mgr.start();
  kernel.routes.delete(`100 198.19.3.0/26 0`);
  t.equal(ours().length, 2);
  kernel.calls.length = 0;
  clock.advance(29_000);
  t.same(kernel.calls, [], 'no run before the interval');
  clock.advance(1_000);
  t.same(kernel.calls, ['list'], 'the timer started a run');
  await mgr.reconcileNow(); // joins the timer-started run
  t.equal(ours().length, 3);
  t.ok(ours().includes('198.19.3.0/26 via 198.18.0.3 dev 2'));
  t.equal(mgr.status().reconciles >= 2, true);
  t.equal(cfg.resyncInterval, 30);
  await mgr.stop({ removeRoutes: false });
  t.equal(clock.armed, 0, 'stop cancels the timer');
});

t.test('netlink errors are counted and retried, never thrown', async (t) => {
  const { kernel, clock, mgr, ours } = setup();
  kernel.failNext = [{ op: 'list', errno: 'ENOBUFS' }];
  mgr.update({ announced: [P('198.19.1.0/24')], peers: [] });
  await t.resolves(mgr.start());
  t.equal(mgr.status().errors, 1);
  t.match(mgr.status().lastError, /read kernel state: list routes: ENOBUFS/);
  t.same(ours(), []);

  kernel.failNext = [{ op: 'add', errno: 'ENETUNREACH' }];
  clock.advance(30_000);
  await mgr.reconcileNow();
  // The timer run failed the add; the reconcileNow run that followed installed it.
  t.equal(mgr.status().errors, 2);
  t.same(ours(), ['198.19.1.0/24 blackhole']);
  await mgr.stop({ removeRoutes: false });
});

t.test('a foreign route at our key is left alone and reported pending', async (t) => {
  const { kernel, clock, mgr, ours } = setup();
  kernel.install({
    dst: P('198.19.1.0/24'),
    table: 100,
    metric: 0,
    kind: 'unicast',
    nexthops: [{ gateway: '198.18.0.77', ifindex: 2 }],
    protocol: 4,
  });
  mgr.update({ announced: [P('198.19.1.0/24')], peers: [] });
  await mgr.start();
  t.same(ours(), []);
  t.equal(kernel.routes.get('100 198.19.1.0/24 0')?.protocol, 4, 'foreign route untouched');
  const st = mgr.status();
  t.equal(st.programmed, 0);
  t.same(st.pending, [
    { route: '198.19.1.0/24 blackhole', reason: 'another route (not ours) holds this destination' },
  ]);
  t.equal(st.errors, 1);
  clock.advance(30_000);
  await mgr.reconcileNow();
  t.equal(kernel.calls.filter((c) => c === 'add 100 198.19.1.0/24 0').length, 3, 'retried every run');
  t.equal(mgr.status().errors, 1, 'a lasting conflict counts once');
  kernel.routes.delete('100 198.19.1.0/24 0');
  await mgr.reconcileNow();
  t.same(ours(), ['198.19.1.0/24 blackhole'], 'installed once the foreign route is gone');
  t.same(mgr.status().pending, []);
  await mgr.stop({ removeRoutes: true });
});

t.test(
  'stop with removeRoutes deletes exactly our routes, in every table; a gone route is fine',
  async (t) => {
    const { kernel, mgr, ours } = setup();
    kernel.install({
      dst: P('198.19.9.0/24'),
      table: 100,
      metric: 0,
      kind: 'blackhole',
      nexthops: [],
      protocol: 186,
    });
    kernel.install({
      dst: P('198.19.8.0/24'),
      table: 254,
      metric: 0,
      kind: 'blackhole',
      nexthops: [],
      protocol: 176,
    });
    mgr.update({ announced: [P('198.19.1.0/24'), P('2001:db8:1::/48')], peers });
    await mgr.start();
    t.equal(ours().length, 4);
    t.notOk(
      kernel.routes.has('254 198.19.8.0/24 0'),
      'a route of ours in a table the config no longer uses is cleaned up',
    );
    // Someone deletes a route by hand between our dump and our delete: the kernel says ESRCH.
    const realDelete = kernel.deleteRoute.bind(kernel);
    let raced = false;
    kernel.deleteRoute = async (r, proto) => {
      if (!raced) {
        raced = true;
        kernel.routes.delete(routeKey(r));
      }
      return realDelete(r, proto);
    };
    await mgr.stop({ removeRoutes: true });
    t.ok(raced);
    t.same(
      [...kernel.routes.values()].map((r) => `${r.table} ${describeRoute(r)} ${r.protocol}`).sort(),
      ['100 198.19.9.0/24 blackhole 186'],
      'other protocols survive',
    );
    t.equal(mgr.status().errors, 0, 'ESRCH on delete is not an error');
    t.equal(mgr.status().programmed, 0);
  },
);

t.test('manage: false never touches the kernel', async (t) => {
  const { kernel, mgr } = setup({ manage: false });
  mgr.update({ announced: [P('198.19.1.0/24')], peers });
  await mgr.start();
  await mgr.reconcileNow();
  await mgr.stop({ removeRoutes: true });
  t.same(kernel.calls, []);
  t.equal(mgr.status().managed, false);
});

t.test('layer3 mode: only blackholes, connected prefixes never read', async (t) => {
  const { kernel, mgr, ours } = setup({ mode: 'layer3' });
  let reads = 0;
  kernel.listConnected = async () => {
    reads++;
    return [];
  };
  mgr.update({ announced: [P('198.19.1.0/24')], peers });
  await mgr.start();
  t.same(ours(), ['198.19.1.0/24 blackhole']);
  t.equal(reads, 0);
  await mgr.stop({ removeRoutes: false });
});

t.test('VLAN policy: tables filled before rules are added; rules removed before routes', async (t) => {
  const { kernel, mgr } = setup({
    mode: 'layer3',
    vlans: [{ interface: 'eth0', gateway: '198.18.0.1', networks: ['198.19.0.0/20'], table: 110 }],
  });
  mgr.update({ announced: [P('198.19.0.0/26')], peers: [] });
  await mgr.start();
  const changes = kernel.calls.filter((c) => c !== 'list');
  t.same(changes, [
    'add 100 198.19.0.0/26 0',
    'add 110 0.0.0.0/0 0',
    'add 110 198.18.0.0/24 0',
    'add 110 198.19.0.0/26 0',
    'add rule 1000 from 198.19.0.0/20 lookup 110',
  ]);
  const st = mgr.status();
  t.same(st.rules, ['1000 from 198.19.0.0/20 lookup 110']);
  t.same(st.vlanIssues, []);
  t.same(st.routes, [
    '198.19.0.0/26 blackhole',
    '0.0.0.0/0 via 198.18.0.1 dev 2 table 110',
    '198.18.0.0/24 throw table 110',
    '198.19.0.0/26 throw table 110',
  ]);

  // The interface loses its address: rule first, then the table's routes go.
  kernel.connected = [];
  kernel.calls.length = 0;
  await mgr.reconcileNow();
  t.same(
    kernel.calls.filter((c) => c !== 'list'),
    [
      'delete rule 1000 from 198.19.0.0/20 lookup 110',
      'delete 110 0.0.0.0/0 0',
      'delete 110 198.18.0.0/24 0',
      'delete 110 198.19.0.0/26 0',
    ],
  );
  t.match(mgr.status().vlanIssues, [/eth0: no such interface/]);
  t.same(mgr.status().rules, []);

  kernel.connected = [{ ifindex: 2, ifname: 'eth0', address: '198.18.0.2', prefix: P('198.18.0.0/24') }];
  kernel.rules.set('foreign', { priority: 1000, src: P('198.19.0.0/20'), table: 999, protocol: 2 });
  await mgr.reconcileNow();
  t.equal(kernel.rules.size, 2);
  kernel.calls.length = 0;
  await mgr.stop({ removeRoutes: true });
  t.same(
    kernel.calls.slice(0, 1),
    ['delete rule 1000 from 198.19.0.0/20 lookup 110'],
    'rules go first on stop',
  );
  t.same([...kernel.rules.keys()], ['foreign'], 'a foreign rule survives');
  t.same(kernel.ours(176), []);
});
