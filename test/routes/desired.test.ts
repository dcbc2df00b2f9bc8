import t from 'tap';
import { formatPrefix, parsePrefix } from '../../src/net/prefix.js';
import {
  type ConnectedPrefix,
  type DesiredOptions,
  desiredRoutes,
  type PeerNode,
} from '../../src/routes/desired.js';
import { describeRoute } from '../../src/routes/route.js';

const P = parsePrefix;
const layer2: DesiredOptions = { mode: 'layer2', blackholes: true, table: 100, metric: 0 };
const connected: ConnectedPrefix[] = [
  { ifindex: 2, ifname: 'eth0', address: '198.18.0.2', prefix: P('198.18.0.0/24') },
  { ifindex: 3, ifname: 'eth1', address: '198.18.1.2', prefix: P('198.18.1.0/24') },
  { ifindex: 2, ifname: 'eth0', address: '2001:db8::2', prefix: P('2001:db8::/64') },
  { ifindex: 2, ifname: 'eth0', address: 'fe80::2', prefix: P('fe80::/64') },
];
const lines = (input: Parameters<typeof desiredRoutes>[0]) => desiredRoutes(input).routes.map(describeRoute);

t.test('announced prefixes become blackholes in the configured table', async (t) => {
  const r = desiredRoutes({
    announced: [P('198.19.1.0/24'), P('2001:db8:1::/48')],
    peers: [],
    connected: [],
    options: { mode: 'layer3', blackholes: true, table: 254, metric: 0 },
  });
  t.same(r.routes.map(describeRoute), ['198.19.1.0/24 blackhole', '2001:db8:1::/48 blackhole']);
  t.same(
    r.routes.map((x) => [x.table, x.metric]),
    [
      [254, 0],
      [254, 1024], // IPv6 stores metric 0 as 1024
    ],
  );
  const none = desiredRoutes({
    announced: [P('198.19.1.0/24')],
    peers: [],
    connected,
    options: { mode: 'layer3', blackholes: false, table: 254, metric: 0 },
  });
  t.same(none.routes, []);
});

t.test('layer3 mode ignores peers', async (t) => {
  const peers: PeerNode[] = [{ node: 'n3', addresses: ['198.18.0.3'], blocks: [P('198.19.3.0/26')] }];
  t.same(lines({ announced: [], peers, connected, options: { ...layer2, mode: 'layer3' } }), []);
});

t.test('layer2: peer blocks via the peer address, on-link peers only', async (t) => {
  const peers: PeerNode[] = [
    { node: 'n3', addresses: ['198.18.0.3'], blocks: [P('198.19.3.0/26'), P('198.19.3.64/26')] },
    { node: 'far', addresses: ['198.18.9.9'], blocks: [P('198.19.9.0/26')] },
    { node: 'n4', addresses: ['198.18.1.4'], blocks: [P('198.19.4.0/26')] },
  ];
  const r = desiredRoutes({ announced: [P('198.19.1.0/24')], peers, connected, options: layer2 });
  t.same(r.routes.map(describeRoute), [
    '198.19.1.0/24 blackhole',
    '198.19.3.0/26 via 198.18.0.3 dev 2',
    '198.19.3.64/26 via 198.18.0.3 dev 2',
    '198.19.4.0/26 via 198.18.1.4 dev 3',
  ]);
  t.ok(r.routes.every((x) => x.table === 100));
  t.same(r.skipped, [
    { node: 'far', block: '198.19.9.0/26', reason: 'no IPv4 address of the node is on one of our links' },
  ]);
});

t.test('layer2: a node with two addresses on our links gets ECMP, per family', async (t) => {
  const peers: PeerNode[] = [
    {
      node: 'dual',
      // Given out of order, with a duplicate: the next-hop set is sorted and deduplicated.
      addresses: ['198.18.1.5', '198.18.0.5', '198.18.0.5', '2001:db8::5'],
      blocks: [P('198.19.5.0/26'), P('2001:db8:5::/64')],
    },
  ];
  const r = desiredRoutes({ announced: [], peers, connected, options: layer2 });
  t.same(r.routes.map(describeRoute), [
    '198.19.5.0/26 via 198.18.0.5 dev 2 via 198.18.1.5 dev 3',
    '2001:db8:5::/64 via 2001:db8::5 dev 2',
  ]);
  t.equal(r.routes[1]!.metric, 1024);
});

t.test('layer2: a block whose family the node has no on-link address for is skipped', async (t) => {
  const peers: PeerNode[] = [{ node: 'v4only', addresses: ['198.18.0.7'], blocks: [P('2001:db8:7::/64')] }];
  const r = desiredRoutes({ announced: [], peers, connected, options: layer2 });
  t.same(r.routes, []);
  t.match(r.skipped, [{ node: 'v4only', block: '2001:db8:7::/64', reason: /no IPv6 address/ }]);
});

t.test('layer2: own addresses, link-local and garbage addresses are never next hops', async (t) => {
  const peers: PeerNode[] = [
    { node: 'self', addresses: ['198.18.0.2'], blocks: [P('198.19.1.0/26')] },
    { node: 'll', addresses: ['fe80::9'], blocks: [P('2001:db8:9::/64')] },
    { node: 'bad', addresses: ['not-an-ip'], blocks: [P('198.19.8.0/26')] },
  ];
  const r = desiredRoutes({ announced: [], peers, connected, options: layer2 });
  t.same(r.routes, []);
  t.same(
    r.skipped.filter((s) => s.block === undefined).map((s) => `${s.node}: ${s.reason}`),
    [
      'bad: "not-an-ip" is not an IP address',
      'll: fe80::9 is link-local',
      'self: 198.18.0.2 is one of our own addresses',
    ],
  );
});

t.test('layer2: the interfaces option limits which links count', async (t) => {
  const peers: PeerNode[] = [
    { node: 'a', addresses: ['198.18.0.3'], blocks: [P('198.19.3.0/26')] },
    { node: 'b', addresses: ['198.18.1.4'], blocks: [P('198.19.4.0/26')] },
  ];
  t.same(lines({ announced: [], peers, connected, options: { ...layer2, interfaces: ['eth1'] } }), [
    '198.19.4.0/26 via 198.18.1.4 dev 3',
  ]);
});

t.test('layer2: the longest connected prefix picks the interface', async (t) => {
  const overlapping: ConnectedPrefix[] = [
    { ifindex: 5, ifname: 'wide', address: '198.18.200.1', prefix: P('198.18.0.0/16') },
    { ifindex: 6, ifname: 'narrow', address: '198.18.7.1', prefix: P('198.18.7.0/24') },
    { ifindex: 7, ifname: 'host', address: '198.18.7.9', prefix: P('198.18.7.9/32') },
  ];
  const peers: PeerNode[] = [
    { node: 'x', addresses: ['198.18.7.9', '198.18.8.8'], blocks: [P('198.19.7.0/26')] },
  ];
  // 198.18.7.9 is ours (the /32), so only 198.18.8.8 via the /16 remains.
  t.same(lines({ announced: [], peers, connected: overlapping, options: layer2 }), [
    '198.19.7.0/26 via 198.18.8.8 dev 5',
  ]);
  const peers2: PeerNode[] = [{ node: 'y', addresses: ['198.18.7.20'], blocks: [P('198.19.7.0/26')] }];
  t.same(lines({ announced: [], peers: peers2, connected: overlapping, options: layer2 }), [
    '198.19.7.0/26 via 198.18.7.20 dev 6',
  ]);
});

t.test('layer2: conflicts keep our blackhole and the first node by name', async (t) => {
  const peers: PeerNode[] = [
    { node: 'zeta', addresses: ['198.18.0.9'], blocks: [P('198.19.6.0/26')] },
    { node: 'alpha', addresses: ['198.18.0.8'], blocks: [P('198.19.6.0/26'), P('198.19.1.0/24')] },
  ];
  const r = desiredRoutes({ announced: [P('198.19.1.0/24')], peers, connected, options: layer2 });
  t.same(r.routes.map(describeRoute), ['198.19.1.0/24 blackhole', '198.19.6.0/26 via 198.18.0.8 dev 2']);
  t.same(
    r.skipped.map((s) => `${s.node} ${s.block}: ${s.reason}`),
    [
      'alpha 198.19.1.0/24: the block is one of our own announced prefixes',
      'zeta 198.19.6.0/26: another node already holds the same block',
    ],
  );
  t.equal(formatPrefix(r.routes[0]!.dst), '198.19.1.0/24');
});
