/**
 * The FRR config builder, without root: the full text of a dual-stack leaf with the shared lines in
 * FRR's order, each family's block holding only its neighbors, and the particular shapes tests use
 * (per-neighbor lines, a link-local neighbor, a listening peer group, timers left to the profile).
 */
import t from 'tap';
import { frrBgpConfig } from '../../lab/fixture/frr-config.js';

t.test('a dual-stack leaf: the shared lines, then each family with its own neighbors', async (t) => {
  const text = frrBgpConfig({
    asn: 65000,
    routerId: '198.18.0.0',
    neighbors: [
      { address: '198.18.0.1', asn: 65001 },
      { address: '2001:db8::1', asn: 65001 },
    ],
    networks: ['198.18.100.0/24', '2001:db8:100::/48'],
    extra: ['no bgp network import-check'],
  });
  t.equal(
    text,
    [
      'frr defaults datacenter',
      'hostname leaf',
      'bgp route-map delay-timer 0',
      '!',
      'router bgp 65000',
      ' bgp router-id 198.18.0.0',
      ' no bgp ebgp-requires-policy',
      ' no bgp default ipv4-unicast',
      ' timers bgp 1 3',
      ' no bgp network import-check',
      ' neighbor 198.18.0.1 remote-as 65001',
      ' neighbor 198.18.0.1 timers connect 1',
      ' neighbor 2001:db8::1 remote-as 65001',
      ' neighbor 2001:db8::1 timers connect 1',
      ' address-family ipv4 unicast',
      '  network 198.18.100.0/24',
      '  neighbor 198.18.0.1 activate',
      ' exit-address-family',
      ' address-family ipv6 unicast',
      '  network 2001:db8:100::/48',
      '  neighbor 2001:db8::1 activate',
      ' exit-address-family',
      '!',
      '',
    ].join('\n'),
  );
});

t.test('particular lines: per neighbor, per family, global, and an empty family left out', async (t) => {
  const text = frrBgpConfig({
    hostname: 'leaf2',
    asn: 65102,
    routerId: '198.18.255.2',
    timers: { keepalive: 3, hold: 9 },
    global: ['ip route 198.19.1.0/24 blackhole'],
    neighbors: [
      {
        address: '198.18.0.3',
        asn: 'external',
        connect: 2,
        extra: ['password s3cret', 'ttl-security hops 1'],
        afExtra: ['default-originate'],
      },
    ],
    networks: ['198.19.1.0/24'],
    afExtra: { ipv4: ['maximum-paths 2'] },
  });
  const lines = text.split('\n');
  t.equal(lines[1], 'hostname leaf2');
  t.equal(lines[3], 'ip route 198.19.1.0/24 blackhole', 'global lines before router bgp');
  t.equal(lines[4], '!');
  t.ok(lines.includes(' timers bgp 3 9'));
  t.same(
    lines.filter((l) => l.includes('198.18.0.3')),
    [
      ' neighbor 198.18.0.3 remote-as external',
      ' neighbor 198.18.0.3 timers connect 2',
      ' neighbor 198.18.0.3 password s3cret',
      ' neighbor 198.18.0.3 ttl-security hops 1',
      '  neighbor 198.18.0.3 activate',
      '  neighbor 198.18.0.3 default-originate',
    ],
  );
  t.same(lines.slice(lines.indexOf(' address-family ipv4 unicast')), [
    ' address-family ipv4 unicast',
    '  network 198.19.1.0/24',
    '  maximum-paths 2',
    '  neighbor 198.18.0.3 activate',
    '  neighbor 198.18.0.3 default-originate',
    ' exit-address-family',
    '!',
    '',
  ]);
  t.notMatch(text, /ipv6/, 'no IPv6 block without an IPv6 neighbor or network');
});

t.test('link-local neighbor, listening peer group, profile timers, explicit families', async (t) => {
  const ll = frrBgpConfig({
    asn: 65101,
    routerId: '198.18.101.1',
    neighbors: [{ address: 'fe80::2', asn: 65001, interface: 'eth1' }],
  });
  t.match(
    ll,
    / neighbor fe80::2 remote-as 65001\n neighbor fe80::2 interface eth1\n neighbor fe80::2 timers connect 1\n/,
  );
  t.match(ll, / address-family ipv6 unicast\n {2}neighbor fe80::2 activate\n exit-address-family\n/);

  const group = frrBgpConfig({
    asn: 65101,
    routerId: '198.18.101.254',
    timers: null,
    neighbors: [{ address: 'NODES', asn: 'external', listen: ['198.18.0.0/24', '2001:db8::/64'] }],
  });
  t.notMatch(group, /timers/, 'no timers bgp, no connect timer for a listening group');
  t.match(
    group,
    [
      ' neighbor NODES peer-group',
      ' neighbor NODES remote-as external',
      ' bgp listen range 198.18.0.0/24 peer-group NODES',
      ' bgp listen range 2001:db8::/64 peer-group NODES',
      ' address-family ipv4 unicast',
      '  neighbor NODES activate',
      ' exit-address-family',
    ].join('\n'),
    'a peer group carries IPv4 unicast, over either transport',
  );

  const both = frrBgpConfig({
    asn: 65000,
    routerId: '198.18.0.0',
    neighbors: [
      { address: '198.18.0.1', asn: 'internal', connect: null, families: ['ipv4', 'ipv6'] },
      { address: '198.18.0.3', asn: 65003, families: [] },
    ],
  });
  t.notMatch(both, /198\.18\.0\.1 timers connect/, "connect: null leaves the profile's retry");
  t.match(both, / neighbor 198\.18\.0\.3 timers connect 1\n/);
  t.match(both, / address-family ipv4 unicast\n {2}neighbor 198.18.0.1 activate\n exit-address-family\n/);
  t.match(both, / address-family ipv6 unicast\n {2}neighbor 198.18.0.1 activate\n exit-address-family\n/);
  t.notMatch(both, /198\.18\.0\.3 activate/, 'families: [] activates nothing');
});
