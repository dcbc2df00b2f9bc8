/**
 * The containerlab topologies as files (no root needed): each parses, is consistent (the two ends of
 * a veth share a subnet, every FRR and podroute BGP neighbor is the far end of one of its links or in
 * a listen range, podroute configs pass the daemon's schema, the etcd store is the etcd node), has the
 * shape its README row describes, and has that row. Unsupported containerlab features in small bad
 * files get one line each naming the node and key (a table test).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { REPO_ROOT, run } from '../../lab/fixture/index.js';
import { type LabTopology, loadTopology, parseTopology, TopologyError } from '../../lab/topology.js';
import { validateConfig } from '../../src/config/index.js';
import { parsePrefix, prefixContains } from '../../src/net/prefix.js';

const CLAB = join(REPO_ROOT, 'containerlab');
const FILES = [
  'demo',
  'dual-homed',
  'spine-leaf-bgp',
  'spine-leaf-ospf',
  'multi-segment',
  'rack-scale',
] as const;
const topos = new Map<string, LabTopology>(FILES.map((f) => [f, loadTopology(join(CLAB, `${f}.clab.yml`))]));
const topo = (f: (typeof FILES)[number]): LabTopology => topos.get(f)!;

/** node:ifname → CIDRs from `ip addr add X dev IF` exec lines. */
function addrs(tp: LabTopology): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const n of tp.nodes)
    for (const argv of n.exec) {
      const dev = argv.indexOf('dev');
      if (argv[1] === 'addr' && argv[2] === 'add' && dev > 0) {
        const key = `${n.name}:${argv[dev + 1]}`;
        out.set(key, [...(out.get(key) ?? []), argv[3]!]);
      }
    }
  return out;
}

const sameSubnet = (a: string, b: string): boolean => {
  const pa = parsePrefix(a, false);
  const pb = parsePrefix(b, false);
  return pa.family === pb.family && pa.length === pb.length && prefixContains(pa, pb) && a !== b;
};
const bare = (cidr: string): string => cidr.split('/')[0]!;
const roleOf = (tp: LabTopology, name: string): string | undefined =>
  tp.nodes.find((n) => n.name === name)?.role;
const linksOf = (tp: LabTopology, name: string): string[] =>
  tp.links.flatMap((l) => (l.a.node === name ? [l.b.node] : l.b.node === name ? [l.a.node] : [])).sort();

for (const f of FILES) {
  t.test(`${f}: consistent links, neighbors and configs`, async (t) => {
    const tp = topo(f);
    t.equal(tp.name, f, 'lab name is the file name');
    const a = addrs(tp);
    // node → addresses at the far end of its links; bridge segments: every member of the segment.
    const far = new Map<string, Set<string>>();
    const add = (node: string, addresses: readonly string[]): void => {
      const s = far.get(node) ?? new Set<string>();
      for (const x of addresses) s.add(bare(x));
      far.set(node, s);
    };
    for (const l of tp.links) {
      const bridge = roleOf(tp, l.a.node) === 'bridge' || roleOf(tp, l.b.node) === 'bridge';
      if (bridge) continue;
      const x = a.get(`${l.a.node}:${l.a.ifname}`) ?? [];
      const y = a.get(`${l.b.node}:${l.b.ifname}`) ?? [];
      t.ok(
        x.length > 0 && x.length === y.length,
        `${l.a.node}:${l.a.ifname} and ${l.b.node}:${l.b.ifname} addressed`,
      );
      x.forEach((v, i) => {
        if (!sameSubnet(v, y[i]!))
          t.fail(`${l.a.node}:${l.a.ifname} ${v} / ${l.b.node}:${l.b.ifname} ${y[i]}`);
      });
      add(l.a.node, y);
      add(l.b.node, x);
    }
    for (const br of tp.nodes.filter((n) => n.role === 'bridge')) {
      const members = tp.links.flatMap((l) =>
        l.a.node === br.name ? [l.b] : l.b.node === br.name ? [l.a] : [],
      );
      const seg = members.flatMap((m) => a.get(`${m.node}:${m.ifname}`) ?? []);
      t.ok(members.length >= 2, `${br.name}: a segment of ${members.length} members`);
      for (const m of members) {
        const own = a.get(`${m.node}:${m.ifname}`) ?? [];
        t.equal(own.length, 1, `${m.node}:${m.ifname} has its address on ${br.name}`);
        if (!seg.every((s) => s === own[0] || sameSubnet(s, own[0]!)))
          t.fail(`${m.node}:${m.ifname} is not on the subnet of ${br.name}`);
        add(m.node, seg);
      }
    }
    const etcdAddrs = new Set(tp.nodes.filter((n) => n.role === 'etcd').flatMap((n) => n.addresses));
    for (const n of tp.nodes) {
      const listen = [...(n.frrConfig ?? '').matchAll(/^ bgp listen range (\S+)/gm)].map(
        (m) => [m[1]!, parsePrefix(m[1]!)] as const,
      );
      const peers =
        n.role === 'frr'
          ? [...n.frrConfig!.matchAll(/^ neighbor (\d+\.\d+\.\d+\.\d+) (?:remote-as|peer-group)/gm)].map(
              (m) => m[1]!,
            )
          : [];
      if (n.role === 'podroute') {
        const cfg = validateConfig(n.podrouteConfig);
        t.ok(cfg.bgp || cfg.ospf, `${n.name}: podroute config valid, with a routing protocol`);
        for (const p of cfg.bgp?.peers ?? []) if (p.address !== 'gateway') peers.push(p.address);
        const store = cfg.ipam?.store;
        if (store?.startsWith('etcd://'))
          t.ok(
            etcdAddrs.has(store.slice(7).split(':')[0]!),
            `${n.name}: ipam.store ${store} is the lab's etcd node`,
          );
        // OSPF interfaces exist on the node.
        for (const i of cfg.ospf?.interfaces ?? [])
          t.ok(a.has(`${n.name}:${i.name}`), `${n.name}: OSPF interface ${i.name} is a link of the node`);
      }
      for (const p of new Set(peers))
        t.ok(far.get(n.name)?.has(p), `${n.name}: BGP neighbor ${p} is the far end of one of its links`);
      for (const [text, range] of listen) {
        const ends = [...(far.get(n.name) ?? [])].filter((x) =>
          prefixContains(range, parsePrefix(`${x}/32`)),
        );
        t.ok(
          ends.length > 0 && ends.length === linksOf(tp, n.name).length,
          `${n.name}: listen range ${text} covers its links' far ends (${ends.length})`,
        );
      }
      if (n.role === 'frr' && /^router ospf/m.test(n.frrConfig!)) {
        for (const m of n.frrConfig!.matchAll(/^interface (\S+)/gm))
          t.ok(a.has(`${n.name}:${m[1]}`), `${n.name}: OSPF interface ${m[1]} is a link of the node`);
      }
    }
  });
}

t.test('every topology has its row in containerlab/README.md', async (t) => {
  const readme = readFileSync(join(CLAB, 'README.md'), 'utf8');
  for (const f of FILES)
    t.match(readme, new RegExp(`^\\| \`${f}\\.clab\\.yml\` \\|`, 'm'), `${f}.clab.yml row`);
  t.notMatch(readme, /spine-leaf\.clab\.yml/, 'no reference to the old spine-leaf.clab.yml');
});

t.test('spine-leaf-bgp: 2 spines, 2 leafs, 4 single-homed nodes, RFC 7938 ASNs, one etcd', async (t) => {
  const tp = topo('spine-leaf-bgp');
  const asn = (name: string): number => {
    const n = tp.nodes.find((x) => x.name === name)!;
    if (n.role === 'frr') return Number(/^router bgp (\d+)/m.exec(n.frrConfig!)![1]);
    return validateConfig(n.podrouteConfig).bgp!.asn!;
  };
  t.same(linksOf(tp, 'leaf1'), ['node1', 'node2', 'spine1', 'spine2']);
  t.same(linksOf(tp, 'leaf2'), ['node3', 'node4', 'spine1', 'spine2']);
  for (const n of ['node1', 'node2', 'node3', 'node4']) {
    t.same(
      linksOf(tp, n).filter((x) => roleOf(tp, x) === 'frr'),
      [n < 'node3' ? 'leaf1' : 'leaf2'],
      `${n} single-homed`,
    );
    t.same(
      linksOf(tp, n).filter((x) => roleOf(tp, x) === 'bridge'),
      ['oob'],
      `${n} on the oob segment`,
    );
  }
  t.equal(asn('spine1'), asn('spine2'), 'spines share one AS');
  const all = ['spine1', 'leaf1', 'leaf2', 'node1', 'node2', 'node3', 'node4'].map(asn);
  t.equal(new Set(all).size, all.length, 'every leaf and node its own AS');
  t.same(
    tp.nodes.filter((n) => n.role === 'etcd').map((n) => n.name),
    ['etcd'],
  );
  t.equal(roleOf(tp, 'oob'), 'bridge');
});

t.test('spine-leaf-ospf: the same fabric, OSPF on every fabric and node link', async (t) => {
  const bgp = topo('spine-leaf-bgp');
  const ospf = topo('spine-leaf-ospf');
  t.same(
    ospf.links.map((l) => `${l.a.node}:${l.a.ifname}-${l.b.node}:${l.b.ifname}`),
    bgp.links.map((l) => `${l.a.node}:${l.a.ifname}-${l.b.node}:${l.b.ifname}`),
    'same links',
  );
  for (const n of ospf.nodes) {
    if (n.role === 'frr') {
      t.match(n.frrConfig, /^router ospf$/m, `${n.name} runs ospfd`);
      t.notMatch(n.frrConfig, /^router bgp/m, `${n.name} runs no bgpd`);
    }
    if (n.role === 'podroute') {
      const cfg = validateConfig(n.podrouteConfig);
      t.notOk(cfg.bgp, `${n.name}: no BGP`);
      t.same(
        cfg.ospf?.interfaces.map((i) => [i.name, i.network]),
        [['eth1', 'point-to-point']],
        `${n.name}: OSPF on its uplink`,
      );
      t.ok(
        n.exec.some((argv) => argv.join(' ').startsWith('ip route add default via')),
        `${n.name}: static default via its leaf`,
      );
    }
  }
});

t.test('dual-homed: every node on both leafs, BFD on every session', async (t) => {
  const tp = topo('dual-homed');
  t.same(linksOf(tp, 'node1'), ['leaf1', 'leaf2']);
  t.same(linksOf(tp, 'node2'), ['leaf1', 'leaf2']);
  t.same(linksOf(tp, 'leaf1'), ['node1', 'node2', 'spine1', 'spine2']);
  for (const n of tp.nodes) {
    if (n.role === 'frr') t.match(n.frrConfig, /bfd profile fast/, `${n.name}: BFD`);
    if (n.role === 'podroute') {
      const cfg = validateConfig(n.podrouteConfig);
      t.ok(
        cfg.bgp?.peers.every((p) => p.bfd),
        `${n.name}: BFD on both sessions`,
      );
      t.ok(cfg.ipam, `${n.name}: IPAM for its pods`);
    }
  }
});

t.test('multi-segment: two ranges in two zones, nodes placed by zone/rack labels', async (t) => {
  const tp = topo('multi-segment');
  const prs = tp.nodes.filter((n) => n.role === 'podroute').map((n) => validateConfig(n.podrouteConfig));
  const nets = prs[0]!.ipam!.networks;
  t.equal(nets.length, 1, 'one pod network');
  t.same(nets[0]!.cidrs ?? [], ['198.19.0.0/18', '198.19.128.0/18'], 'of two separate ranges');
  const zones = new Set(prs.map((c) => c.node.labels.zone));
  t.same([...zones].sort(), ['z1', 'z2'], 'nodes in two zones');
  t.equal(new Set(prs.map((c) => c.node.labels.rack)).size, 4, 'each node in its own rack');
  for (const c of prs) t.same(c.ipam, prs[0]!.ipam, `${c.node.name}: the same ipam section as every node`);
});

t.test(
  'rack-scale: one leaf pair, 32 nodes on both leafs and the oob segment, one shared node config',
  async (t) => {
    const tp = topo('rack-scale');
    const nodes = tp.nodes.filter((n) => n.role === 'podroute');
    t.equal(nodes.length, 32);
    t.same(
      tp.nodes.filter((n) => n.role === 'frr').map((n) => n.name),
      ['leaf1', 'leaf2'],
    );
    for (const n of nodes)
      if (linksOf(tp, n.name).join() !== 'leaf1,leaf2,oob') t.fail(`${n.name} not on both leafs`);
    t.equal(new Set(nodes.map((n) => JSON.stringify(n.podrouteConfig))).size, 1, 'one config for all nodes');
    t.same(validateConfig(nodes[0]!.podrouteConfig).bgp?.peers[0]?.address, 'gateway');
  },
);

/** Small bad files: each names the node and key in one line (no stack trace). */
t.test('unsupported containerlab features: one clear line each', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podroute-topo-'));
  t.teardown(() => run('rm', ['-rf', dir]));
  writeFileSync(join(dir, 'frr.conf'), 'router bgp 65000\n');
  writeFileSync(join(dir, 'bad.yaml'), 'bgp:\n  asn: 4294967296\n  peers: []\n');
  const f = join(dir, 't.clab.yml');
  const ok = '    a: {kind: linux}\n    b: {kind: linux}\n';
  const file = (nodes: string, extra = '', links = '    - endpoints: ["a:eth1", "b:eth1"]\n'): string =>
    `name: t\n${extra}topology:\n  nodes:\n${ok}${nodes}  links:\n${links}`;
  const cases: [string, string, RegExp[]][] = [
    [
      'other kind',
      file('    c: {kind: nokia_srlinux}\n'),
      [/nodes\.c\.kind: "nokia_srlinux" is not supported .*only linux and bridge/],
    ],
    [
      'mgmt section',
      file('', 'mgmt:\n  network: clab\n'),
      [/: mgmt: is not supported by the lab runner: the runner has no management network/],
    ],
    [
      'mgmt-ipv4 on a node',
      file('    c: {mgmt-ipv4: 198.18.255.5}\n'),
      [/nodes\.c\.mgmt-ipv4: is not supported/],
    ],
    ['prefix', file('', 'prefix: x\n'), [/: prefix: is not supported/]],
    ['env on a node', file('    c: {env: {A: b}}\n'), [/nodes\.c\.env: is not supported/]],
    [
      'unknown node key',
      file('    c: {ports: ["80:80"]}\n'),
      [/nodes\.c\.ports: is not supported by the lab runner \(it reads kind, image/],
    ],
    [
      'kinds',
      file('', '', '    - endpoints: ["a:eth1", "b:eth1"]\n').replace(
        'topology:\n',
        'topology:\n  kinds: {linux: {image: x}}\n',
      ),
      [/topology\.kinds: is not supported/],
    ],
    [
      'link mtu',
      file('', '', '    - endpoints: ["a:eth1", "b:eth1"]\n      mtu: 9000\n'),
      [/topology\.links\[0\]\.mtu: is not supported/],
    ],
    [
      'exec outside the lab space',
      file('    c: {exec: ["ip addr add 192.0.2.1/24 dev eth1"]}\n'),
      [/nodes\.c\.exec\[0\]: 192\.0\.2\.1\/24 is outside the lab address space/],
    ],
    [
      'exec not ip/sysctl',
      file('    c: {exec: ["curl http://198.18.0.1"]}\n'),
      [/nodes\.c\.exec\[0\]: "curl .*only "ip \.\.\." and "sysctl/],
    ],
    [
      'bridge with exec',
      file('    br: {kind: bridge, exec: ["ip link set br up"]}\n'),
      [/nodes\.br\.exec: is not supported .*a bridge node is a layer 2 segment/],
    ],
    [
      'bridge to bridge',
      file('    br: {kind: bridge}\n    br2: {kind: bridge}\n', '', '    - endpoints: ["br:p1", "br2:p1"]\n'),
      [/topology\.links\[0\]: a link between two bridge nodes/],
    ],
    [
      'unknown runner label',
      file('    c: {labels: {podroute.lab/pod: 3}}\n'),
      [/nodes\.c\.labels\.podroute\.lab\/pod: is not a label of the lab runner/],
    ],
    [
      'etcd without an address',
      file('    e: {image: quay.io/coreos/etcd:v3.5.17}\n'),
      [/nodes\.e\.exec: an etcd node needs an IPv4 address/],
    ],
    [
      'bad podroute config',
      file('    p: {image: podroute:latest, binds: ["bad.yaml:/etc/podroute/podroute.yaml"]}\n'),
      [/nodes\.p\.binds\[0\]: bad\.yaml: bgp\.asn: 4294967296/],
    ],
    [
      'several problems, one line each',
      file(
        '    c: {kind: vr-sros}\n    d: {env: {A: b}, exec: ["ip addr add 192.0.2.1/24 dev eth1"]}\n',
        'mgmt: {}\n',
      ),
      [/: mgmt: /, /nodes\.c\.kind: /, /nodes\.d\.env: /, /nodes\.d\.exec\[0\]: 192\.0\.2\.1\/24 is outside/],
    ],
  ];
  for (const [what, text, want] of cases) {
    let err: unknown;
    try {
      parseTopology(text, f);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof TopologyError, `${what}: refused with a TopologyError`);
    const lines = (err as TopologyError).problems;
    t.equal(lines.length, want.length, `${what}: ${want.length} line(s): ${lines.join(' | ')}`);
    for (const [i, re] of want.entries()) t.match(lines[i], re, `${what}: line ${i + 1}`);
    for (const l of lines)
      t.ok(l.startsWith(`${f}: `) && !l.includes('\n'), `${what}: "${l}" is one line naming the file`);
  }
  // A minimal bridge topology parses: the bridge-side interface is the port name.
  const br = parseTopology(
    file('    br: {kind: bridge}\n', '', '    - endpoints: ["a:eth1", "br:br-a"]\n'),
    f,
  );
  t.equal(br.nodes.find((n) => n.name === 'br')?.role, 'bridge');
  t.same(br.links[0]?.b, { node: 'br', ifname: 'br-a' });
});
