/**
 * The VLAN data plane derived from IPAM (src/routes/vlan-ipam.ts), as a pure function: rules keyed
 * on the source network, one table per VLAN, same-VLAN peers direct, everything else (another
 * VLAN's pods on this very host included) to the gateway.
 */
import t from 'tap';
import { parsePrefix } from '../../src/net/prefix.js';
import type { ConnectedPrefix, PeerNode } from '../../src/routes/desired.js';
import { parseKernelRule, ruleMessage } from '../../src/routes/netlink.js';
import { describeRoute } from '../../src/routes/route.js';
import { describeRule } from '../../src/routes/rule.js';
import { type IpamVlan, ipamVlanPolicy, vlanTable } from '../../src/routes/vlan-ipam.js';

const P = parsePrefix;
const connected: ConnectedPrefix[] = [
  { ifindex: 5, ifname: 'eth1.100', address: '198.19.100.251', prefix: P('198.19.100.0/24') },
  { ifindex: 6, ifname: 'eth1.200', address: '198.19.200.251', prefix: P('198.19.200.0/24') },
];
const vlanA: IpamVlan = {
  network: 'vlan-a',
  vlan: 100,
  interface: 'eth1.100',
  gateway: '198.19.100.1',
  ranges: [P('198.19.100.0/24')],
  blocks: [P('198.19.100.0/27')],
};
const vlanB: IpamVlan = {
  network: 'vlan-b',
  vlan: 200,
  interface: 'eth1.200',
  gateway: '198.19.200.1',
  ranges: [P('198.19.200.0/24')],
  blocks: [P('198.19.200.0/27')],
};
const peers: PeerNode[] = [
  // In both VLANs: its VLAN A block direct in table A, its VLAN B block direct in table B only.
  {
    node: 'host2',
    addresses: ['198.19.100.252', '198.19.200.252'],
    blocks: [P('198.19.100.128/27'), P('198.19.200.128/27')],
  },
  // Only in VLAN A, with a block of VLAN B (held elsewhere before): never direct from VLAN A.
  { node: 'host3', addresses: ['198.19.100.253'], blocks: [P('198.19.100.160/27'), P('198.19.200.160/27')] },
];

const view = (p: ReturnType<typeof ipamVlanPolicy>) => ({
  routes: p.routes.map((r) => `${r.table} ${describeRoute(r)}`),
  rules: p.rules.map(describeRule),
  issues: p.issues,
});

t.test('two VLANs: a table each, rules keyed on source, peers only inside their VLAN', async (t) => {
  const p = view(ipamVlanPolicy({ vlans: [vlanA, vlanB], peers, connected, metric: 0 }));
  t.same(p.issues, []);
  t.same(p.rules, [
    '900 from 0.0.0.0/0 iif eth1.100 to 198.19.100.0/24 lookup 254',
    '900 from 0.0.0.0/0 iif eth1.200 to 198.19.200.0/24 lookup 254',
    '901 from 198.19.100.0/24 lookup 10100',
    '901 from 198.19.200.0/24 lookup 10200',
  ]);
  const a = p.routes.filter((r) => r.startsWith('10100 '));
  const b = p.routes.filter((r) => r.startsWith('10200 '));
  t.ok(a.includes('10100 0.0.0.0/0 via 198.19.100.1 dev 5'), 'A: default via its gateway');
  t.ok(a.includes('10100 198.19.100.0/24 throw'), 'A: hosts of the VLAN on-link');
  t.ok(a.includes('10100 198.19.100.0/27 throw'), 'A: local VLAN A pods via main');
  t.ok(a.includes('10100 198.19.100.128/27 via 198.19.100.252 dev 5'), 'A: host2 direct');
  t.ok(a.includes('10100 198.19.100.160/27 via 198.19.100.253 dev 5'), 'A: host3 direct');
  t.notOk(
    a.some((r) => r.includes('198.19.200.')),
    'A: nothing of VLAN B — not the local B block, not peers’ B blocks: they go to the gateway',
  );
  t.ok(b.includes('10200 198.19.200.128/27 via 198.19.200.252 dev 6'), 'B: host2 direct over VLAN B');
  t.notOk(
    b.some((r) => r.includes('198.19.200.160/27')),
    'B: host3 has no leg in VLAN B, its block goes via the gateway',
  );
  t.notOk(
    b.some((r) => r.includes('198.19.100.')),
    'B: nothing of VLAN A (same-host A pods via gateway)',
  );
  t.equal(vlanTable(100), 10100);
});

t.test('a VLAN whose interface is missing installs nothing of it, and says why', async (t) => {
  const p = view(
    ipamVlanPolicy({ vlans: [vlanA, { ...vlanB, interface: 'eth1.201' }], peers, connected, metric: 0 }),
  );
  t.same(p.issues, [
    'vlan-b (vlan 200): eth1.201 missing or without an IPv4 address; VLAN routes not installed',
  ]);
  t.notOk(
    p.rules.some((r) => r.includes('198.19.200.')),
    'no rule for VLAN B (would fall through to main)',
  );
  t.notOk(
    p.routes.some((r) => r.startsWith('10200 ')),
    'no table for VLAN B',
  );
  t.equal(p.rules.length, 2, 'VLAN A still complete');
});

t.test('a gateway outside the interface prefixes is onlink; no VLANs is nothing', async (t) => {
  const p = ipamVlanPolicy({
    vlans: [{ ...vlanA, gateway: '198.19.101.1' }],
    peers: [],
    connected,
    metric: 0,
  });
  const def = p.routes.find((r) => r.dst.length === 0)!;
  t.same(def.nexthops, [{ gateway: '198.19.101.1', ifindex: 5, onlink: true }]);
  t.same(ipamVlanPolicy({ vlans: [], peers, connected, metric: 0 }), { routes: [], rules: [], issues: [] });
});

t.test('iif and to selectors go to the kernel and come back (FRA_IIFNAME, FRA_DST)', async (t) => {
  const rule = { priority: 900, src: P('0.0.0.0/0'), iif: 'eth1.100', dst: P('198.19.100.0/24'), table: 254 };
  const m = ruleMessage(rule, 176);
  t.match(m.data, { family: 2, srcLen: 0, dstLen: 24, table: 254 });
  t.same(m.attrs, {
    priority: 900,
    table: 254,
    protocol: 176,
    dst: Buffer.from([198, 19, 100, 0]),
    iifname: 'eth1.100',
  });
  const back = parseKernelRule({ kind: 'rule', data: m.data, attrs: m.attrs } as unknown as Parameters<
    typeof parseKernelRule
  >[0]);
  t.same(back, { ...rule, protocol: 176 });
  t.equal(describeRule(rule), '900 from 0.0.0.0/0 iif eth1.100 to 198.19.100.0/24 lookup 254');
  const plain = ruleMessage({ priority: 901, src: P('198.19.100.0/24'), table: 10100 }, 176);
  t.notOk('dstLen' in plain.data, 'a rule without selectors is the message it always was');
});
