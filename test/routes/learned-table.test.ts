/**
 * The route programmer's learned inputs kept by differences (learned-table.ts): the copy follows
 * reset / diff / gone, and the status view with `install: false` peers read in place (never given to
 * selection) shows what selection over every peer shows.
 */
import t from 'tap';
import { routesSchema } from '../../src/config/routes.js';
import { parsePrefix } from '../../src/net/prefix.js';
import { type LearnedPeer, selectLearned } from '../../src/routes/learned.js';
import { LearnedInputs, LearnedTable } from '../../src/routes/learned-table.js';
import { learnedStatus, type ShownOnlyRoutes } from '../../src/routes/learned-view.js';

const P = parsePrefix;
const path = (prefix: string, nextHop: string) => ({
  prefix: P(prefix),
  nextHop,
  asPath: [{ type: 2, asns: [65101] }],
  origin: 0,
});
const facts = (n: number, install: boolean) => ({
  address: `198.18.0.${2 * n}`,
  asn: 65101,
  ibgp: false,
  routerId: `10.0.0.${n + 1}`,
  localAddress: `198.18.0.${2 * n + 1}`,
  install,
});

t.test('the table follows reset, diff and gone', async (t) => {
  const table = new LearnedTable();
  const names = () =>
    table.input([]).peers.map((p) => `${p.address}: ${[...p.routes].map((r) => r.nextHop).join(' ')}`);
  t.ok(table.apply([{ kind: 'reset', peer: facts(0, true), routes: [path('0.0.0.0/0', '198.18.0.0')] }]));
  t.same(names(), ['198.18.0.0: 198.18.0.0']);
  t.ok(
    table.apply([
      {
        kind: 'diff',
        address: '198.18.0.0',
        set: [path('198.20.0.0/24', '198.18.0.0')],
        withdrawn: [P('0.0.0.0/0')],
      },
    ]),
  );
  t.same(table.input([]).peers[0] && [...table.input([]).peers[0]!.routes].map((r) => r.prefix), [
    P('198.20.0.0/24'),
  ]);
  t.notOk(table.apply([{ kind: 'diff', address: '198.18.0.9', set: [], withdrawn: [] }]), 'unknown peer');
  t.ok(table.apply([{ kind: 'gone', address: '198.18.0.0' }]));
  t.same(names(), []);
});

t.test('status with install: false peers read in place equals selection over every peer', async (t) => {
  const config = routesSchema.parse({});
  const connected = [
    { ifindex: 2, ifname: 'eth1', address: '198.18.0.1', prefix: P('198.18.0.0/31') },
    { ifindex: 3, ifname: 'eth2', address: '198.18.0.3', prefix: P('198.18.0.2/31') },
  ];
  const installed: LearnedPeer = {
    ...facts(0, true),
    routes: [path('0.0.0.0/0', '198.18.0.0'), path('198.20.5.0/24', '198.18.0.0')],
  };
  const quietRoutes = [
    path('0.0.0.0/0', '198.18.0.2'),
    path('198.19.1.0/24', '198.18.0.2'),
    ...Array.from({ length: 8 }, (_, i) => path(`198.20.${i}.0/24`, '198.18.0.2')),
  ];
  const quiet: LearnedPeer = { ...facts(1, false), routes: quietRoutes };
  const own = [P('198.19.1.0/24')];
  const limit = 100;
  const shown: ShownOnlyRoutes = {
    paths: () => quietRoutes.length,
    prefixes: () => 10,
    first: (n) => [{ ...quiet, routes: quietRoutes.slice(0, n) }],
  };
  const inputs = new LearnedInputs();
  inputs.apply({
    changes: [{ kind: 'reset', peer: facts(0, true), routes: [...installed.routes] }],
    podNetworks: [],
    shown,
  });
  inputs.connected = connected;
  t.ok(inputs.needsConnected(config));
  const onlyInstalled = selectLearned(inputs.input, own, connected, config);
  t.equal(onlyInstalled.paths.length, 2, 'selection sees the installed peer only');
  const kernel = { inKernel: () => true, pendingReason: () => undefined };
  const view = inputs.status(onlyInstalled, own, config, kernel);
  const everything = selectLearned({ peers: [installed, quiet], podNetworks: [] }, own, connected, config);
  const before = learnedStatus(everything, kernel.inKernel, kernel.pendingReason, limit);
  t.same(view, before, 'the same view as when every path went through selection');
  t.match(
    view.routes.find((r) => r.prefix === '198.19.1.0/24'),
    { reason: 'the node announces this prefix', via: '198.18.0.2 dev eth2' },
  );
  t.equal(view.routes.filter((r) => r.reason === 'install: false').length, 9);
});
