/**
 * RoutesManager with learned routes (updateLearned) against the in-memory kernel: an ECMP default
 * from two leafs, a leaf going away is one replace (diff, never a flush), the node's own prefix is
 * never installed, a foreign route at the key shows as the reason in the status view, and the
 * learned routes sit beside the blackholes.
 */
import t from 'tap';
import { routesSchema } from '../../src/config/routes.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';
import { parsePrefix } from '../../src/net/prefix.js';
import type { LearnedPeer } from '../../src/routes/learned.js';
import { RoutesManager } from '../../src/routes/manager.js';
import { describeRoute } from '../../src/routes/route.js';
import { FakeKernel } from './fake-kernel.js';

const P = parsePrefix;

function setup() {
  const kernel = new FakeKernel();
  kernel.connected = [
    { ifindex: 2, ifname: 'eth1', address: '198.18.0.1', prefix: P('198.18.0.0/31') },
    { ifindex: 3, ifname: 'eth2', address: '198.18.0.3', prefix: P('198.18.0.2/31') },
    { ifindex: 2, ifname: 'eth1', address: '2001:db8::1', prefix: P('2001:db8::/127') },
    { ifindex: 3, ifname: 'eth2', address: '2001:db8::3', prefix: P('2001:db8::2/127') },
  ];
  const cfg = routesSchema.parse({});
  const mgr = new RoutesManager({ config: cfg, logger: silentLogger, clock: new ManualClock(), kernel });
  const ours = () => kernel.ours(cfg.protocol).map(describeRoute);
  return { kernel, mgr, ours, cfg };
}

const seq = (asns: number[]) => [{ type: 2, asns }];
const leaf = (n: 0 | 1, extra: LearnedPeer['routes'] = []): LearnedPeer => ({
  address: `198.18.0.${2 * n}`,
  asn: 65101 + n,
  ibgp: false,
  routerId: `10.0.0.${n + 1}`,
  localAddress: `198.18.0.${2 * n + 1}`,
  install: true,
  routes: [
    { prefix: P('0.0.0.0/0'), nextHop: `198.18.0.${2 * n}`, asPath: seq([65101 + n]), origin: 0 },
    {
      prefix: P('::/0'),
      nextHop: `2001:db8::${2 * n}`,
      linkLocalNextHop: `fe80::${(n + 10).toString(16)}`,
      asPath: seq([65101 + n]),
      origin: 0,
    },
    ...extra,
  ],
});

t.test('ECMP default from two leafs; one leaf gone is a replace, both gone a delete', async (t) => {
  const { kernel, mgr, ours } = setup();
  const own = { prefix: P('198.19.1.0/24'), nextHop: '198.18.0.0', asPath: seq([65101]), origin: 0 };
  mgr.update({ announced: [P('198.19.1.0/24')], peers: [] });
  mgr.updateLearned({ peers: [leaf(0, [own]), leaf(1)], podNetworks: [P('198.19.0.0/17')] });
  await mgr.start();
  t.same(ours(), [
    '0.0.0.0/0 via 198.18.0.0 dev 2 via 198.18.0.2 dev 3',
    '198.19.1.0/24 blackhole',
    '::/0 via fe80::a dev 2 via fe80::b dev 3',
  ]);
  const view = mgr.status().learned;
  t.match(view, { paths: 5, prefixes: 3, installed: 2, omitted: 0 });
  t.match(
    view.routes.find((r) => r.prefix === '198.19.1.0/24'),
    { installed: false, selected: null, reason: 'the node announces this prefix' },
  );
  t.match(
    view.routes.find((r) => r.prefix === '::/0' && r.selected === 'multipath'),
    {
      peer: '198.18.0.2',
      via: 'fe80::b dev eth2',
      installed: true,
    },
  );

  kernel.calls.length = 0;
  mgr.updateLearned({ peers: [leaf(1)], podNetworks: [] });
  await mgr.idle();
  t.same(
    kernel.calls,
    ['list', 'replace 254 0.0.0.0/0 0', 'replace 254 ::/0 1024'],
    'diff only: two replaces',
  );
  t.same(ours(), ['0.0.0.0/0 via 198.18.0.2 dev 3', '198.19.1.0/24 blackhole', '::/0 via fe80::b dev 3']);

  kernel.calls.length = 0;
  mgr.updateLearned({ peers: [], podNetworks: [] });
  await mgr.idle();
  t.same(kernel.calls, ['list', 'delete 254 0.0.0.0/0 0', 'delete 254 ::/0 1024']);
  t.same(ours(), ['198.19.1.0/24 blackhole'], 'the blackhole stays');
  t.match(mgr.status().learned, { paths: 0, installed: 0, routes: [] });
  await mgr.stop({ removeRoutes: false });
});

t.test('a foreign default route keeps the key: the view says why', async (t) => {
  const { kernel, mgr } = setup();
  kernel.install({
    dst: P('0.0.0.0/0'),
    table: 254,
    metric: 0,
    kind: 'unicast',
    nexthops: [{ gateway: '198.18.0.0', ifindex: 2 }],
    protocol: 3,
  });
  mgr.updateLearned({ peers: [leaf(0)], podNetworks: [] });
  await mgr.start();
  const v4 = mgr.status().learned.routes.find((r) => r.prefix === '0.0.0.0/0');
  t.match(v4, { selected: 'best', installed: false, reason: /another route/ });
  t.equal(mgr.status().learned.installed, 1, 'only ::/0 is in');
  t.equal(kernel.routes.get('254 0.0.0.0/0 0')?.protocol, 3, 'the foreign route is untouched');
  await mgr.stop({ removeRoutes: false });
});

t.test('nothing learned: connected prefixes are not even read', async (t) => {
  const { kernel, mgr } = setup();
  let reads = 0;
  const list = kernel.listConnected.bind(kernel);
  kernel.listConnected = async () => {
    reads++;
    return list();
  };
  mgr.updateLearned({ peers: [{ ...leaf(0), routes: [] }], podNetworks: [] });
  await mgr.start();
  t.equal(reads, 0);
  mgr.updateLearned({ peers: [leaf(0)], podNetworks: [] });
  await mgr.idle();
  t.equal(reads, 1);
  await mgr.stop({ removeRoutes: false });
});

t.test('stop applies the inputs given before it (a peer down just before the stop)', async (t) => {
  const { kernel, mgr, ours } = setup();
  mgr.updateLearned({ peers: [leaf(0), leaf(1)], podNetworks: [] });
  await mgr.start();
  // The second peer goes down while the run for the first one is changing the kernel.
  const replace = kernel.replaceRoute.bind(kernel);
  let stopping: Promise<void> | undefined;
  kernel.replaceRoute = async (r, p) => {
    if (!stopping) {
      mgr.updateLearned({ peers: [], podNetworks: [] });
      stopping = mgr.stop({ removeRoutes: false });
    }
    return replace(r, p);
  };
  mgr.updateLearned({ peers: [leaf(1)], podNetworks: [] });
  await mgr.idle();
  await stopping;
  t.same(ours(), [], 'both peers gone: no learned route left behind');
});
