/**
 * Per-node peer selection (src/config/peer-selection.ts): one cluster-wide bgp section, a table of
 * nodes (labels, gateways) and what each gets — peers, local ASN, and the status lines saying why.
 */
import t from 'tap';
import { ConfigError, parseConfig } from '../../src/config/index.js';
import { type Gateway, PeerSelectionError, selectNodeBgp } from '../../src/config/peer-selection.js';
import { parsePrefix } from '../../src/net/prefix.js';
import { defaultGateways } from '../../src/routes/gateways.js';

const cluster = parseConfig(`
bgp:
  asn: 65000
  asnOverrides:
    - { nodeSelector: { rack: r2 }, asn: 65020 }
  peers:
    - { address: 198.18.1.1, asn: 65101, nodeSelector: { rack: r1 } }
    - { address: 198.18.2.1, asn: 65102, nodeSelector: { rack: r2, zone: a } }
    - { address: gateway, asn: 65200, nodeSelector: { role: edge } }
    - { address: 198.18.9.9, asn: 65300, description: route server }
`).bgp!;

const gw = (address: string, iface = 'eth0'): Gateway => ({
  address,
  family: address.includes(':') ? 6 : 4,
  interface: iface,
});

const rows: {
  name: string;
  labels: Record<string, string>;
  gateways: Gateway[];
  asn: number;
  peers: string[];
  applied: boolean[];
  reasons: RegExp[];
}[] = [
  {
    name: 'rack r1 node',
    labels: { rack: 'r1' },
    gateways: [],
    asn: 65000,
    peers: ['198.18.1.1', '198.18.9.9'],
    applied: [true, false, false, true],
    reasons: [
      /nodeSelector rack=r1 matches/,
      /rack=r2,zone=a: node has rack=r1/,
      /node has no label role/,
      /no nodeSelector/,
    ],
  },
  {
    name: 'rack r2 zone b: second label differs',
    labels: { rack: 'r2', zone: 'b' },
    gateways: [],
    asn: 65020,
    peers: ['198.18.9.9'],
    applied: [false, false, false, true],
    reasons: [/node has rack=r2/, /node has zone=b/, /no label role/, /every node/],
  },
  {
    name: 'edge node with ECMP IPv4 + global and link-local IPv6 gateways',
    labels: { rack: 'r2', zone: 'a', role: 'edge' },
    gateways: [gw('198.18.3.1'), gw('198.18.4.1', 'eth1'), gw('2001:db8:3::1'), gw('fe80::1', 'eth1')],
    asn: 65020,
    peers: ['198.18.2.1', '198.18.3.1', '198.18.4.1', '2001:db8:3::1', 'fe80::1%eth1', '198.18.9.9'],
    applied: [false, true, true, true],
    reasons: [
      /rack=r1: node has rack=r2/,
      /matches/,
      /gateways 198.18.3.1, 198.18.4.1, 2001:db8:3::1, fe80::1%eth1; no global IPv6 address on eth1/,
      /every node/,
    ],
  },
  {
    name: 'edge node without a default gateway',
    labels: { role: 'edge' },
    gateways: [],
    asn: 65000,
    peers: ['198.18.9.9'],
    applied: [false, false, false, true],
    reasons: [
      /no label rack/,
      /no label rack/,
      /role=edge matches; no default gateway on the node/,
      /every node/,
    ],
  },
];

t.test('selection table', async (t) => {
  for (const row of rows) {
    const got = selectNodeBgp(cluster, { name: row.name, labels: row.labels, gateways: row.gateways });
    t.equal(got.bgp.asn, row.asn, `${row.name}: local AS`);
    t.same(
      got.bgp.peers.map((p) => p.address),
      row.peers,
      `${row.name}: peers`,
    );
    t.same(
      got.selection.map((s) => s.applied),
      row.applied,
      `${row.name}: applied`,
    );
    row.reasons.forEach((re, i) => {
      t.match(got.selection[i]!.reason, re, `${row.name}: entry ${i} reason`);
    });
    for (const p of got.bgp.peers) t.notOk('nodeSelector' in p, 'the effective peer carries no selector');
  }
});

t.test('gateway peers keep the entry settings and get a description', async (t) => {
  const got = selectNodeBgp(cluster, {
    name: 'n',
    labels: { role: 'edge' },
    gateways: [gw('198.18.3.1', 'uplink0')],
  });
  const peer = got.bgp.peers.find((p) => p.address === '198.18.3.1')!;
  t.equal(peer.asn, 65200);
  t.equal(peer.description, 'gateway via uplink0');
  t.same(got.selection[2]!.resolved, ['198.18.3.1']);
});

t.test('a link-local gateway: zoned address, the uplink global address as IPv6 next hop', async (t) => {
  const ll = { ...gw('fe80::1', 'uplink0'), global6: '2001:db8:7::2' };
  const got = selectNodeBgp(cluster, { name: 'n', labels: { role: 'edge' }, gateways: [ll] });
  const peer = got.bgp.peers.find((p) => p.address === 'fe80::1%uplink0');
  t.match(peer, { asn: 65200, ipv6NextHop: '2001:db8:7::2', description: 'gateway via uplink0' });
  t.same(got.selection[2]!.resolved, ['fe80::1%uplink0']);
  t.equal(got.selection[2]!.reason, 'nodeSelector role=edge matches; default gateway fe80::1%uplink0');

  const own = parseConfig(
    'bgp:\n  asn: 65000\n  peers:\n    - { address: gateway, asn: 65101, ipv6NextHop: "2001:db8:9::9" }\n',
  ).bgp!;
  t.equal(
    selectNodeBgp(own, { name: 'n', labels: {}, gateways: [ll] }).bgp.peers[0]?.ipv6NextHop,
    '2001:db8:9::9',
    "the entry's own ipv6NextHop wins",
  );
  const md5 = parseConfig(
    'bgp:\n  asn: 65000\n  peers:\n    - { address: gateway, asn: 65101, password: secret }\n',
  ).bgp!;
  const refused = selectNodeBgp(md5, { name: 'n', labels: {}, gateways: [ll, gw('198.18.3.1')] });
  t.same(
    refused.bgp.peers.map((p) => p.address),
    ['198.18.3.1'],
    'with TCP MD5 the link-local gateway is skipped',
  );
  t.match(refused.selection[0]!.reason, /link-local gateway fe80::1 on uplink0 skipped \(TCP MD5 and GTSM/);
});

t.test('no entry matches: no peers, every entry says why', async (t) => {
  const bgp = parseConfig(
    'bgp:\n  asn: 65000\n  peers:\n    - { address: 198.18.1.1, asn: 65101, nodeSelector: { rack: r1 } }\n',
  ).bgp!;
  const got = selectNodeBgp(bgp, { name: 'n9', labels: { rack: 'r9' }, gateways: [] });
  t.same(got.bgp.peers, []);
  t.same(got.selection, [
    { entry: 0, address: '198.18.1.1', applied: false, reason: 'nodeSelector rack=r1: node has rack=r9' },
  ]);
});

t.test('a duplicate address applies once', async (t) => {
  const bgp = parseConfig(
    'bgp:\n  asn: 65000\n  peers:\n    - { address: 198.18.1.1, asn: 65101 }\n    - { address: gateway, asn: 65101 }\n',
  ).bgp!;
  const got = selectNodeBgp(bgp, { name: 'n', labels: {}, gateways: [gw('198.18.1.1')] });
  t.same(
    got.bgp.peers.map((p) => p.address),
    ['198.18.1.1'],
  );
  t.equal(got.selection[1]!.applied, false);
  t.match(got.selection[1]!.reason, /gateway 198.18.1.1 is already entry 0/);
});

t.test('ASN from a node label', async (t) => {
  const bgp = parseConfig(
    'bgp:\n  asnFromLabel: podroute.io/asn\n  asnOverrides: [{ nodeSelector: { special: "yes" }, asn: 65999 }]\n',
  ).bgp!;
  const pick = (labels: Record<string, string>) => selectNodeBgp(bgp, { name: 'n3', labels, gateways: [] });
  t.equal(pick({ 'podroute.io/asn': '4200000001' }).bgp.asn, 4200000001);
  t.equal(pick({ 'podroute.io/asn': '4200000001' }).asnSource, 'node label podroute.io/asn');
  t.equal(pick({ special: 'yes' }).bgp.asn, 65999, 'an override wins');
  t.throws(
    () => pick({}),
    new PeerSelectionError(['bgp.asnFromLabel: node n3 has no label podroute.io/asn']),
  );
  for (const bad of ['65a', '-1', '4294967296', '']) {
    t.throws(
      () => pick({ 'podroute.io/asn': bad }),
      {
        message: `bgp.asnFromLabel: node n3 label podroute.io/asn=${JSON.stringify(bad)} is not a valid ASN (0..4294967295)`,
      },
      `label ${JSON.stringify(bad)}`,
    );
  }
});

t.test('config validation', async (t) => {
  const problems = (text: string): readonly string[] => {
    try {
      parseConfig(text);
      return [];
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
  };
  t.match(problems('bgp:\n  peers: []\n').join('\n'), /bgp\.asn: is required/);
  t.match(
    problems('bgp:\n  asn: 1\n  asnFromLabel: x\n').join('\n'),
    /bgp\.asnFromLabel: "x" is given together with asn/,
  );
  t.match(
    problems('bgp:\n  asn: 1\n  peers: [{ address: gatway, asn: 2 }]\n').join('\n'),
    /bgp\.peers\[0\]\.address: "gatway" is not an IPv4 or IPv6 address/,
  );
  t.match(
    problems('bgp:\n  asn: 1\n  peers: [{ address: 198.18.0.1, asn: 2, nodeSelector: { rack: 1 } }]\n').join(
      '\n',
    ),
    /bgp\.peers\[0\]\.nodeSelector/,
  );
  t.match(
    problems('bgp:\n  asn: 1\n  asnOverrides: [{ asn: 2 }]\n').join('\n'),
    /bgp\.asnOverrides\[0\]\.nodeSelector/,
  );
});

t.test('default gateways from kernel routes', async (t) => {
  const names = new Map([
    [2, 'eth0'],
    [3, 'eth1'],
  ]);
  const route = (dst: string, hops: [string, number][], table = 254) => ({
    dst: parsePrefix(dst),
    table,
    metric: 0,
    kind: 'unicast' as const,
    protocol: 4,
    nexthops: hops.map(([gateway, ifindex]) => ({ gateway, ifindex })),
  });
  const routes = [
    route('0.0.0.0/0', [
      ['198.18.1.1', 2],
      ['198.18.2.1', 3],
    ]),
    route('198.18.0.0/24', [['198.18.1.9', 2]]),
    route('0.0.0.0/0', [['198.18.7.1', 2]], 100),
    route('::/0', [['2001:db8::1', 2]]),
    route('::/0', [['2001:db8::1', 2]]),
  ];
  t.same(defaultGateways(routes, names), [
    { address: '198.18.1.1', family: 4, interface: 'eth0' },
    { address: '198.18.2.1', family: 4, interface: 'eth1' },
    { address: '2001:db8::1', family: 6, interface: 'eth0' },
  ]);
  t.same(
    defaultGateways(routes, names, ['eth1']).map((g) => g.address),
    ['198.18.2.1'],
    'routes.interfaces limits them to the uplinks',
  );
});
