/** The reload plan: old configuration vs new, as a table of cases. */
import t from 'tap';
import { type ConfigDiff, diffConfig } from '../../src/config/diff.js';
import { parseConfig } from '../../src/config/index.js';

const base = `
node: { routerId: 198.18.0.2 }
announce: [198.18.100.0/24]
bgp:
  asn: 65001
  peers:
    - { address: 198.18.0.1, asn: 65000 }
    - { address: "2001:db8::1", asn: 65000, passive: true }
`;

function diff(after: string, before = base): ConfigDiff {
  return diffConfig(parseConfig(before), parseConfig(after));
}

/** base with the first peer's line replaced. */
const peer1 = (line: string) => base.replace('{ address: 198.18.0.1, asn: 65000 }', line);

t.test('the same file: nothing to do', async (t) => {
  const d = diff(base);
  t.ok(d.unchanged);
  t.same([d.peersAdded, d.peersRemoved, d.peersChanged, d.refused], [[], [], [], []]);
});

t.test('peers added and removed, matched by canonical address', async (t) => {
  const d = diff(base.replace('2001:db8::1', '2001:DB8:0::1').replace('198.18.0.1', '198.18.0.9'));
  t.same(
    d.peersAdded.map((p) => p.address),
    ['198.18.0.9'],
  );
  t.same(
    d.peersRemoved.map((p) => p.address),
    ['198.18.0.1'],
  );
  t.same(d.peersChanged, [], 'the IPv6 peer written differently is the same peer');
  t.same(d.refused, []);
});

const cases: [
  string,
  string,
  string[],
  Partial<Record<'reset' | 'export' | 'import' | 'resend', boolean>>,
][] = [
  ['asn', '{ address: 198.18.0.1, asn: 65099 }', ['asn'], { reset: true }],
  ['holdTime', '{ address: 198.18.0.1, asn: 65000, holdTime: 9 }', ['holdTime'], { reset: true }],
  ['passive', '{ address: 198.18.0.1, asn: 65000, passive: true }', ['passive'], { reset: true }],
  ['password', '{ address: 198.18.0.1, asn: 65000, password: x }', ['password'], { reset: true }],
  ['ttlSecurity', '{ address: 198.18.0.1, asn: 65000, ttlSecurity: true }', ['ttlSecurity'], { reset: true }],
  [
    'localAddress',
    '{ address: 198.18.0.1, asn: 65000, localAddress: 198.18.0.2 }',
    ['localAddress'],
    { reset: true },
  ],
  ['accept', '{ address: 198.18.0.1, asn: 65000, accept: default }', ['accept'], { import: true }],
  [
    'import (accept follows it)',
    '{ address: 198.18.0.1, asn: 65000, import: { ipv4: [{ prefix: 0.0.0.0/0, action: permit }] } }',
    ['accept', 'import'],
    { import: true },
  ],
  [
    'export',
    '{ address: 198.18.0.1, asn: 65000, export: { ipv4: [{ prefix: 198.18.0.0/15, le: 32, action: permit }] } }',
    ['export'],
    { export: true },
  ],
  [
    'ipv6NextHop',
    '{ address: 198.18.0.1, asn: 65000, ipv6NextHop: "2001:db8::2" }',
    ['ipv6NextHop'],
    { resend: true },
  ],
  ['description', '{ address: 198.18.0.1, asn: 65000, description: leaf1 }', ['description'], {}],
  ['install', '{ address: 198.18.0.1, asn: 65000, install: false }', ['install'], {}],
  ['maxPrefixes', '{ address: 198.18.0.1, asn: 65000, maxPrefixes: 10 }', ['maxPrefixes'], {}],
  [
    'holdTime and export together',
    '{ address: 198.18.0.1, asn: 65000, holdTime: 30, export: { ipv4: [] } }',
    ['export', 'holdTime'],
    { reset: true, export: true },
  ],
];

for (const [name, line, keys, want] of cases) {
  t.test(`peer setting ${name}`, async (t) => {
    const d = diff(peer1(line));
    t.same(d.refused, []);
    t.same(d.peersAdded, []);
    t.same(d.peersRemoved, []);
    t.equal(d.peersChanged.length, 1);
    const c = d.peersChanged[0]!;
    t.same(c.keys, keys);
    t.same(
      { reset: c.reset, export: c.export, import: c.import, resend: c.resend },
      { reset: false, export: false, import: false, resend: false, ...want },
    );
    t.equal(c.before.address, '198.18.0.1');
  });
}

t.test('announcements', async (t) => {
  const d = diff(base.replace('[198.18.100.0/24]', '[198.18.100.0/24, 198.18.101.0/24]'));
  t.ok(d.announcementsChanged);
  t.same(d.peersChanged, []);
  t.same(d.refused, []);
  t.notOk(diff(base).announcementsChanged);
});

const refusals: [string, string, string][] = [
  ['local ASN', base.replace('asn: 65001', 'asn: 65002'), 'bgp.asn: changing the local ASN needs a restart'],
  [
    'router id',
    base.replace('198.18.0.2', '198.18.0.3'),
    'node.routerId: changing the router id needs a restart',
  ],
  [
    'API socket',
    `${base}api: { socket: /tmp/x.sock }\n`,
    'api.socket: changing the API socket needs a restart',
  ],
  ['log level', `${base}log: { level: debug }\n`, 'log.level: changing the log level needs a restart'],
  [
    'listen port',
    base.replace('asn: 65001', 'asn: 65001\n  listenPort: 1179'),
    'bgp.listenPort: changing bgp.listenPort needs a restart',
  ],
  [
    'graceful restart',
    base.replace('asn: 65001', 'asn: 65001\n  gracefulRestart: true'),
    'bgp.gracefulRestart: changing bgp.gracefulRestart needs a restart',
  ],
  [
    'OSPF',
    `${base}ospf: { interfaces: [{ name: eth0 }] }\n`,
    'ospf: changing the OSPF configuration needs a restart',
  ],
  [
    'BGP section removed',
    'node: { routerId: 198.18.0.2 }\n',
    'bgp: removing the BGP section needs a restart',
  ],
  [
    'BFD on a peer',
    peer1('{ address: 198.18.0.1, asn: 65000, bfd: true }'),
    'bgp.peers[0].bfd: changing BFD settings needs a restart',
  ],
  [
    'a new peer with BFD',
    base.replace('peers:', 'peers:\n    - { address: 198.18.0.7, asn: 65000, bfd: true }'),
    'bgp.peers[0].bfd: adding a peer with BFD needs a restart',
  ],
];

for (const [name, after, line] of refusals) {
  t.test(`refused: ${name}`, async (t) => {
    const d = diff(after);
    t.ok(d.refused.includes(line), d.refused.join(' | '));
    t.notOk(d.unchanged);
  });
}

t.test('OSPF and IPAM changes are flagged', async (t) => {
  const withOspf = `${base}ospf: { interfaces: [{ name: eth0 }] }\n`;
  t.ok(diff(withOspf).ospfChanged);
  t.notOk(diff(withOspf).ipamChanged);
  t.notOk(diff(withOspf, withOspf).ospfChanged);
});

t.test('a changed password is reported by key, never by value', async (t) => {
  const d = diff(
    peer1('{ address: 198.18.0.1, asn: 65000, password: s3cret }'),
    peer1('{ address: 198.18.0.1, asn: 65000, password: old }'),
  );
  t.same(d.peersChanged[0]?.keys, ['password']);
  t.notMatch(JSON.stringify({ keys: d.peersChanged[0]?.keys, refused: d.refused }), /s3cret|old/);
});

t.test('global communities and the graceful shutdown wait are live', async (t) => {
  const d = diff(
    base.replace('asn: 65001', 'asn: 65001\n  communities: ["65001:100"]\n  gracefulShutdown: { wait: 5 }'),
  );
  t.ok(d.bgpGlobalsChanged);
  t.same(d.refused, []);
  t.same(d.peersChanged, []);
  t.notOk(diff(base).bgpGlobalsChanged);
});

t.test('per-peer and per-prefix communities are sent again, not reset', async (t) => {
  const d = diff(peer1('{ address: 198.18.0.1, asn: 65000, communities: ["65001:7"] }'));
  t.same(d.peersChanged[0]?.keys, ['communities']);
  t.equal(d.peersChanged[0]?.reset, false);
  t.equal(d.peersChanged[0]?.resend, true);
  const a = diff(
    base.replace('[198.18.100.0/24]', '[{ prefix: 198.18.100.0/24, communities: ["65001:9"] }]'),
  );
  t.ok(a.announcementsChanged);
  t.same(a.refused, []);
});
