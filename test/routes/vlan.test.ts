import t from 'tap';
import { parsePrefix } from '../../src/net/prefix.js';
import type { ConnectedPrefix, PeerNode } from '../../src/routes/desired.js';
import { describeRoute } from '../../src/routes/route.js';
import { describeRule } from '../../src/routes/rule.js';
import { type VlanSpec, vlanPolicy } from '../../src/routes/vlan.js';

const P = parsePrefix;
const connected: ConnectedPrefix[] = [
  { ifindex: 10, ifname: 'eth0.10', address: '198.18.10.2', prefix: P('198.18.10.0/24') },
  { ifindex: 10, ifname: 'eth0.10', address: '2001:db8:10::2', prefix: P('2001:db8:10::/64') },
  { ifindex: 20, ifname: 'eth0.20', address: '198.18.20.2', prefix: P('198.18.20.0/24') },
];
const v10: VlanSpec = {
  interface: 'eth0.10',
  gateway: '198.18.10.1',
  gateway6: '2001:db8:10::1',
  networks: [P('198.19.0.0/20'), P('2001:db8:a::/48')],
  table: 110,
  priority: 1000,
};
const peers: PeerNode[] = [
  // Same VLAN: direct.
  { node: 'same', addresses: ['198.18.10.3', '198.18.10.13'], blocks: [P('198.19.0.64/26')] },
  // Other VLAN, reachable over our eth0.20 leg: must still go via VLAN 10's gateway.
  { node: 'other', addresses: ['198.18.20.3'], blocks: [P('198.19.16.0/26')] },
];

const view = (p: ReturnType<typeof vlanPolicy>) => ({
  routes: p.routes.map((r) => `${r.table} ${describeRoute(r)} metric ${r.metric}`),
  rules: p.rules.map(describeRule),
  issues: p.issues,
});

t.test('layer3: default via the gateway, throw for local and connected, rules per network', async (t) => {
  const p = vlanPolicy({
    vlans: [v10],
    announced: [P('198.19.0.0/26')],
    peers,
    connected,
    mode: 'layer3',
    metric: 0,
  });
  t.same(view(p), {
    routes: [
      '110 0.0.0.0/0 via 198.18.10.1 dev 10 metric 0',
      '110 198.18.10.0/24 throw metric 0',
      '110 198.19.0.0/26 throw metric 0',
      '110 ::/0 via 2001:db8:10::1 dev 10 metric 1024',
      '110 2001:db8:10::/64 throw metric 1024',
    ],
    rules: ['1000 from 198.19.0.0/20 lookup 110', '1000 from 2001:db8:a::/48 lookup 110'],
    issues: [],
  });
});

t.test('layer2: same-VLAN peers are direct (ECMP), other-VLAN peers are left to the gateway', async (t) => {
  const p = vlanPolicy({ vlans: [v10], announced: [], peers, connected, mode: 'layer2', metric: 0 });
  const routes = view(p).routes;
  t.ok(routes.includes('110 198.19.0.64/26 via 198.18.10.13 dev 10 via 198.18.10.3 dev 10 metric 0'));
  t.notOk(
    routes.some((r) => r.includes('198.19.16.0/26')),
    'a node in VLAN 20 gets no direct route in the VLAN 10 table',
  );
});

t.test('a gateway outside the connected prefixes is programmed onlink', async (t) => {
  const p = vlanPolicy({
    vlans: [{ ...v10, gateway: '198.18.99.1', networks: [P('198.19.0.0/20')] }],
    announced: [],
    peers: [],
    connected,
    mode: 'layer3',
    metric: 5,
  });
  t.same(p.routes[0]?.nexthops, [{ gateway: '198.18.99.1', ifindex: 10, onlink: true }]);
  t.equal(p.routes[0]?.metric, 5);
});

t.test('a missing interface installs nothing (no rule that would fall through to main)', async (t) => {
  const p = vlanPolicy({
    vlans: [{ ...v10, interface: 'eth0.30' }],
    announced: [P('198.19.0.0/26')],
    peers,
    connected,
    mode: 'layer2',
    metric: 0,
  });
  t.same(p.routes, []);
  t.same(p.rules, []);
  t.match(p.issues, [/eth0\.30: no such interface/]);
});

t.test('a family without a gateway gets neither routes nor rules', async (t) => {
  const p = vlanPolicy({
    vlans: [{ ...v10, gateway6: undefined }],
    announced: [P('2001:db8:a::/64')],
    peers: [],
    connected,
    mode: 'layer3',
    metric: 0,
  });
  t.ok(p.routes.every((r) => r.dst.family === 4));
  t.same(p.rules.map(describeRule), ['1000 from 198.19.0.0/20 lookup 110']);
  t.match(p.issues, [/no IPv6 gateway/]);
});

t.test('two VLANs keep to their own tables and preferences', async (t) => {
  const v20: VlanSpec = {
    interface: 'eth0.20',
    gateway: '198.18.20.1',
    networks: [P('198.19.16.0/20')],
    table: 120,
    priority: 1001,
  };
  const p = vlanPolicy({
    vlans: [v10, v20],
    announced: [],
    peers,
    connected,
    mode: 'layer2',
    metric: 0,
  });
  const v = view(p);
  t.same(v.rules, [
    '1000 from 198.19.0.0/20 lookup 110',
    '1000 from 2001:db8:a::/48 lookup 110',
    '1001 from 198.19.16.0/20 lookup 120',
  ]);
  t.ok(v.routes.includes('120 198.19.16.0/26 via 198.18.20.3 dev 20 metric 0'));
  t.ok(v.routes.includes('120 0.0.0.0/0 via 198.18.20.1 dev 20 metric 0'));
  t.notOk(v.routes.some((r) => r.startsWith('120 198.19.0.64/26')));
});
