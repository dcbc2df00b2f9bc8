import t from 'tap';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { Topology } from '../../src/ipam/topology.js';
import { formatPrefix } from '../../src/net/prefix.js';

function problems(yaml: string): string[] {
  try {
    parseConfig(yaml);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  return [];
}

function topo(yaml: string): Topology {
  const cfg = parseConfig(yaml);
  return Topology.build(cfg.ipam!);
}

t.test('a valid zone → rack topology loads', async (t) => {
  const tp = topo(`
ipam:
  networks:
    - { name: pods, cidr: 198.18.0.0/16, blockSize: 26, gateway: 198.18.0.1, reserved: [198.18.0.2, 198.18.0.16/28] }
  groups:
    - name: zone-a
      selector: { zone: a }
      cidrs: [198.18.0.0/17]
      groups:
        - { name: rack-1, selector: { rack: "1" }, cidrs: [198.18.0.0/20] }
        - { name: rack-2, selector: { rack: "2" } }
    - { name: zone-b, selector: { zone: b } }
`);
  t.same(
    tp.groups.map((g) => g.path),
    ['zone-a', 'zone-a/rack-1', 'zone-a/rack-2', 'zone-b'],
  );
  const net = tp.network('pods')!;
  t.equal(net.blockLength, 26);
  t.same(net.reserved.map(formatPrefix), [
    '198.18.0.0/32',
    '198.18.255.255/32',
    '198.18.0.1/32',
    '198.18.0.2/32',
    '198.18.0.16/28',
  ]);
  // rack-2 shares zone-a's range minus rack-1's explicit range.
  t.same(tp.pool(tp.group('rack-2')!, net).map(formatPrefix), [
    '198.18.16.0/20',
    '198.18.32.0/19',
    '198.18.64.0/18',
  ]);
  // zone-b draws from the network minus zone-a.
  t.same(tp.pool(tp.group('zone-b')!, net).map(formatPrefix), ['198.18.128.0/17']);
  t.same(tp.pool(tp.group('rack-1')!, net).map(formatPrefix), ['198.18.0.0/20']);
});

t.test('placement: deepest matching group, least loaded on ties, stays where it is', async (t) => {
  const tp = topo(`
ipam:
  networks: [{ name: pods, cidr: 198.18.0.0/16 }]
  groups:
    - name: zone-a
      selector: { zone: a }
      groups:
        - { name: rack-1, selector: { rack: "1" } }
        - { name: vlan-x }
        - { name: vlan-y }
    - { name: zone-b, selector: { zone: b } }
`);
  const none = (): number => 0;
  t.equal(tp.place({ zone: 'a', rack: '1' }, none)?.name, 'rack-1', 'first of the deepest on equal load');
  const load = (g: { name: string }): number => ({ 'rack-1': 3, 'vlan-x': 2, 'vlan-y': 1 })[g.name] ?? 0;
  t.equal(tp.place({ zone: 'a', rack: '1' }, load)?.name, 'vlan-y', 'least loaded');
  t.equal(tp.place({ zone: 'a', rack: '1' }, load, 'rack-1')?.name, 'rack-1', 'current group kept');
  t.equal(
    tp.place({ zone: 'b' }, none, 'rack-1')?.name,
    'zone-b',
    'current group no longer matching is left',
  );
  t.equal(tp.place({ zone: 'c' }, none), undefined, 'no match');
  t.equal(tp.place({ rack: '1' }, none), undefined, 'child matches but parent does not');
});

t.test('no groups: one default group holds every node', async (t) => {
  const tp = topo('ipam: { networks: [{ name: pods, cidrs: [198.18.0.0/24, 198.18.8.0/24] }] }');
  t.equal(tp.place({}, () => 0)?.name, 'default');
  t.same(tp.pool(tp.groups[0]!, tp.networks[0]!).map(formatPrefix), ['198.18.0.0/24', '198.18.8.0/24']);
});

t.test('validation errors name the key, the value and the rule', async (t) => {
  t.same(
    problems(`
ipam:
  networks:
    - { name: a, cidr: 198.18.0.0/16 }
    - { name: b, cidrs: [198.19.0.0/16, 198.18.128.0/17] }
`),
    ['ipam.networks[1].cidrs[1]: "198.18.128.0/17" overlaps ipam.networks[0].cidr (198.18.0.0/16)'],
  );
  t.same(
    problems(`
ipam:
  networks: [{ name: a, cidr: 198.18.0.0/16 }]
  groups:
    - name: z
      cidrs: [198.18.0.0/20]
      groups: [{ name: r, cidrs: [198.18.0.0/19] }]
`),
    ['ipam.groups[0].groups[0].cidrs[0]: "198.18.0.0/19" is larger than parent group z (198.18.0.0/20)'],
  );
  t.same(
    problems(`
ipam:
  networks: [{ name: a, cidr: 198.18.0.0/16, blockSize: 24 }]
  groups: [{ name: z, cidrs: [198.18.0.0/25] }]
`),
    [
      'ipam.groups[0].cidrs[0]: "198.18.0.0/25" is smaller than one block of network a (/24): a block cannot be larger than its group',
    ],
  );
  t.same(
    problems(`
ipam:
  networks: [{ name: a, cidr: 198.18.0.0/16 }]
  groups:
    - { name: x, cidrs: [198.18.0.0/20] }
    - { name: y, cidrs: [198.18.8.0/21] }
    - { name: x, networks: [nope] }
`),
    [
      'ipam.groups[1].cidrs[0]: "198.18.8.0/21" overlaps group x at ipam.groups[0].cidrs[0] (198.18.0.0/20)',
      'ipam.groups[2].name: "x" is the name of another group too',
      'ipam.groups[2].networks[0]: "nope" is not a network in ipam.networks',
    ],
  );
  t.same(
    problems(`
ipam:
  networks: [{ name: a, cidr: 198.18.0.0/28, gateway: 198.19.0.1, blockSize: 26 }]
  groups: [{ name: x, cidrs: [198.20.0.0/24] }]
`),
    [
      'ipam.networks[0].cidr: "198.18.0.0/28" is smaller than one block (/26); lengthen blockSize or widen it',
      'ipam.networks[0].gateway: "198.19.0.1" is outside network a (a gateway must lie in one of its ranges)',
      'ipam.groups[0].cidrs[0]: "198.20.0.0/24" is outside its networks (198.18.0.0/28)',
    ],
  );
  t.same(problems('ipam: { networks: [{ name: a, cidr: "2001:db8::/64", blockSize: 100 }] }'), [
    'ipam.networks[0].blockSize: 100 makes blocks of 2^28 addresses; use /112 or longer',
  ]);
  t.same(problems('ipam: { networks: [{ name: a, cidr: 198.18.0.0/16, cidrs: [198.19.0.0/16] }] }'), [
    'ipam.networks[0].cidr: "198.18.0.0/16" give exactly one of cidr or cidrs',
  ]);
  t.same(problems('ipam: { networks: [{ name: a, cidr: 198.18.0.0/16, colour: red }] }'), [
    'ipam.networks[0].colour: is not a known key',
  ]);
  t.same(problems('ipam: { networks: [] }'), ['ipam.networks: [] is empty (list at least one pod network)']);
});

t.test('adding a group or a network moves no existing group range', async (t) => {
  const before = topo(`
ipam:
  networks: [{ name: a, cidr: 198.18.0.0/16 }]
  groups: [{ name: x, cidrs: [198.18.0.0/20] }, { name: y, cidrs: [198.18.16.0/20] }]
`);
  const after = topo(`
ipam:
  networks: [{ name: a, cidr: 198.18.0.0/16 }, { name: b, cidr: 198.19.0.0/16 }]
  groups:
    - { name: w }
    - { name: x, cidrs: [198.18.0.0/20] }
    - { name: y, cidrs: [198.18.16.0/20] }
    - { name: z, cidrs: [198.18.32.0/20] }
`);
  for (const g of ['x', 'y']) {
    t.same(
      after.pool(after.group(g)!, after.network('a')!).map(formatPrefix),
      before.pool(before.group(g)!, before.network('a')!).map(formatPrefix),
      `${g} unchanged`,
    );
  }
});
