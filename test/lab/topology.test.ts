/**
 * The lab runner: the repository's containerlab topologies parse, are consistent (both ends of each
 * link on one subnet, every BGP neighbor is the address on the other end of a link, podroute configs
 * pass the daemon's own schema), bad topologies are rejected with the offending key, and the runner
 * builds the dual-homed fabric with FRR (sessions up, ECMP) and brings a lab up and down from the CLI.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { interopGate, Lab, REPO_ROOT, run, waitFor } from '../../lab/fixture/index.js';
import { buildTopology, type LabTopology, loadTopology, parseTopology } from '../../lab/topology.js';
import { validateConfig } from '../../src/config/index.js';
import { parsePrefix, prefixContains } from '../../src/net/prefix.js';

const CLAB = join(REPO_ROOT, 'containerlab');
const demo = loadTopology(join(CLAB, 'demo.clab.yml'));
const spineLeaf = loadTopology(join(CLAB, 'dual-homed.clab.yml'));

/** node → ifname → addresses (CIDR) from the topology's `ip addr add X dev IF` exec lines. */
function addressesOf(topo: LabTopology): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  for (const n of topo.nodes) {
    const m = new Map<string, string[]>();
    for (const argv of n.exec) {
      const i = argv.indexOf('add');
      const dev = argv.indexOf('dev');
      if (argv[1] === 'addr' && i > 0 && dev > 0)
        m.set(argv[dev + 1]!, [...(m.get(argv[dev + 1]!) ?? []), argv[i + 1]!]);
    }
    out.set(n.name, m);
  }
  return out;
}

function sameSubnet(a: string, b: string): boolean {
  const pa = parsePrefix(a, false);
  const pb = parsePrefix(b, false);
  return pa.family === pb.family && pa.length === pb.length && prefixContains(pa, pb) && a !== b;
}

/** For every link: its two ends' addresses pairwise on one subnet; returns the peer address map. */
function checkLinks(t: Test, topo: LabTopology): Map<string, Set<string>> {
  const addrs = addressesOf(topo);
  // node → addresses of its directly connected neighbors
  const neighbors = new Map<string, Set<string>>();
  for (const l of topo.links) {
    const a = addrs.get(l.a.node)?.get(l.a.ifname) ?? [];
    const b = addrs.get(l.b.node)?.get(l.b.ifname) ?? [];
    t.ok(
      a.length > 0 && a.length === b.length,
      `${l.a.node}:${l.a.ifname} and ${l.b.node}:${l.b.ifname} both addressed`,
    );
    a.forEach((x, i) => {
      t.ok(
        sameSubnet(x, b[i]!),
        `${l.a.node}:${l.a.ifname} ${x} and ${l.b.node}:${l.b.ifname} ${b[i]} share a subnet`,
      );
    });
    for (const [self, other] of [
      [l.a.node, b],
      [l.b.node, a],
    ] as const) {
      const set = neighbors.get(self) ?? new Set<string>();
      for (const x of other) set.add(x.split('/')[0]!);
      neighbors.set(self, set);
    }
  }
  return neighbors;
}

function frrNeighbors(config: string): string[] {
  return [...config.matchAll(/^ neighbor (\d+\.\d+\.\d+\.\d+) (?:remote-as|peer-group)/gm)].map((m) => m[1]!);
}

for (const topo of [demo, spineLeaf]) {
  t.test(`${topo.name}: consistent addressing, neighbors and configs`, async (t) => {
    const neighbors = checkLinks(t, topo);
    for (const n of topo.nodes) {
      const peers = n.role === 'frr' ? frrNeighbors(n.frrConfig!) : [];
      if (n.role === 'podroute') {
        const cfg = validateConfig(n.podrouteConfig);
        t.ok(cfg.bgp, `${n.name}: podroute config valid with a bgp section`);
        for (const p of cfg.bgp?.peers ?? []) peers.push(p.address);
      }
      t.ok(peers.length > 0, `${n.name} has BGP neighbors`);
      for (const p of new Set(peers)) {
        t.ok(neighbors.get(n.name)?.has(p), `${n.name}: neighbor ${p} is the far end of one of its links`);
      }
    }
  });
}

t.test('demo: the shape the brief asks for', async (t) => {
  t.same(
    demo.nodes.map((n) => [n.name, n.role]),
    [
      ['leaf1', 'frr'],
      ['node1', 'podroute'],
    ],
  );
  t.match(demo.nodes[0]!.frrConfig, /^router bgp 65000$/m);
  const cfg = validateConfig(demo.nodes[1]!.podrouteConfig);
  t.equal(cfg.bgp?.asn, 65001);
  t.same(cfg.announce, ['198.19.1.0/24']);
  t.same(addressesOf(demo).get('leaf1')?.get('eth1')?.[0], '198.18.0.0/31');
});

t.test('dual-homed: every node dual-homed to both leafs, every leaf to both spines', async (t) => {
  const linksOf = (n: string): string[] =>
    spineLeaf.links.flatMap((l) => (l.a.node === n ? [l.b.node] : l.b.node === n ? [l.a.node] : [])).sort();
  t.same(linksOf('node1'), ['leaf1', 'leaf2']);
  t.same(linksOf('node2'), ['leaf1', 'leaf2']);
  t.same(linksOf('leaf1'), ['node1', 'node2', 'spine1', 'spine2']);
  t.same(linksOf('spine2'), ['leaf1', 'leaf2']);
});

t.test('bad topologies are rejected with the key at fault', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podroute-topo-'));
  t.teardown(() => run('rm', ['-rf', dir]));
  writeFileSync(join(dir, 'frr.conf'), 'router bgp 65000\n');
  const topo = (nodes: string, links = ''): string =>
    `name: t\ntopology:\n  nodes:\n${nodes}\n  links:\n${links || '    - endpoints: ["a:eth1", "b:eth1"]'}\n`;
  const plain = '    a: {kind: linux}\n    b: {kind: linux}';
  const f = join(dir, 't.clab.yml');
  t.equal(parseTopology(topo(plain), f).links.length, 1, 'a minimal topology parses');
  t.throws(
    () => parseTopology(topo(plain, '    - endpoints: ["a:eth1", "c:eth1"]'), f),
    /endpoints\[1\]: node "c" is not defined/,
  );
  t.throws(
    () => parseTopology(topo(plain, '    - endpoints: ["a:eth1", "b:averyveryverylongname"]'), f),
    /1\.\.15 characters/,
  );
  t.throws(
    () =>
      parseTopology(
        topo(plain, '    - endpoints: ["a:eth1", "b:eth1"]\n    - endpoints: ["a:eth1", "b:eth2"]'),
        f,
      ),
    /a:eth1 is used by two links/,
  );
  t.throws(
    () => parseTopology(topo(`${plain}\n    c: {exec: ["curl http://x"]}`), f),
    /nodes\.c\.exec\[0\].*only "ip \.\.\." and "sysctl/,
  );
  t.throws(
    () => parseTopology(topo(`${plain}\n    c: {exec: ["ip addr add 10.0.0.1/24 dev eth1"]}`), f),
    /10\.0\.0\.1\/24 is outside the lab address space/,
  );
  t.throws(
    () => parseTopology(topo(`${plain}\n    c: {exec: ["ip -6 addr add 2001:db9::1/64 dev eth1"]}`), f),
    /2001:db9::1\/64 is outside/,
  );
  t.throws(
    () => parseTopology(topo(`${plain}\n    c: {image: frrouting/frr}`), f),
    /nodes\.c\.binds: an frr node needs/,
  );
  t.throws(
    () => parseTopology(topo(`${plain}\n    c: {labels: {podroute.lab/role: router}}`), f),
    /"router" is not one of frr, podroute, linux/,
  );
  t.throws(
    () => parseTopology(topo(`${plain}\n    c: {kind: nokia_srlinux}`), f),
    /nodes\.c\.kind: "nokia_srlinux" is not supported/,
  );
  t.throws(
    () => parseTopology('name: "bad name"\ntopology: {nodes: {}}\n', f),
    /name: is not a valid lab name/,
  );
  const frr = parseTopology(
    topo(`${plain}\n    c: {image: frrouting/frr, binds: ["frr.conf:/etc/frr/frr.conf"]}`),
    f,
  );
  t.equal(frr.nodes[2]!.role, 'frr', 'role from the image name');
  t.equal(frr.nodes[2]!.frrConfig, 'router bgp 65000\n', 'bind read relative to the topology file');
});

const gate = interopGate(['frr', 'ping']);

t.test(
  'dual-homed built with FRR (podroute nodes as plain hosts): sessions, ECMP, reachability',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const lines: string[] = [];
    const running = await buildTopology(lab, spineLeaf, {
      skipDaemons: ['podroute'],
      onProgress: (l) => lines.push(l),
    });
    t.equal(running.frr.size, 4, 'four FRR routers');
    t.equal(running.podroute.size, 0, 'podroute skipped');
    t.ok(
      lines.some((l) => /node1: podroute not started/.test(l)),
      'progress says what was skipped',
    );
    const leaf1 = running.frr.get('leaf1')!;
    for (const [name, r] of running.frr) {
      for (const p of frrNeighbors(spineLeaf.nodes.find((n) => n.name === name)!.frrConfig!)) {
        if (/^198\.18\.0\.(9|11|13|15)$/.test(p)) continue; // podroute nodes: not running
        await r.waitBgpEstablished(p, 30_000);
      }
    }
    t.pass('every dual-homed session Established');
    // leaf2's loopback is two equal-cost paths away from leaf1 (via spine1 and spine2).
    const route = await waitFor(
      async () => {
        const r = await running.namespaces.get('leaf1')!.route('198.18.255.12');
        return r?.nexthops && r.nexthops.length === 2 ? r : undefined;
      },
      { timeoutMs: 20_000, what: 'ECMP route to leaf2 loopback on leaf1' },
    );
    t.same(
      route.nexthops?.map((n) => n.gateway).sort(),
      ['198.18.0.0', '198.18.0.4'],
      'ECMP via both spines',
    );
    const node1 = running.namespaces.get('node1')!;
    t.ok(await node1.ping('198.18.0.8'), 'node1 reaches leaf1 on eth1');
    t.ok(await node1.ping('198.18.0.10'), 'node1 reaches leaf2 on eth2');
    t.ok(await node1.ping('2001:db8:0:5::'), 'node1 reaches leaf1 over IPv6');
    t.match(await leaf1.vtysh('show bgp summary'), /198\.18\.0\.9\s/, 'vtysh reaches the leaf');
  },
);

// The runner in the foreground (`up --foreground`): it prints session changes and owns the lab until
// `down` signals it. (`up` without it detaches a background runner: test/lab/runner.test.ts.)
t.test('lab/cli.ts: up --foreground, status --json, down', { skip: gate.skip }, async (t) => {
  const name = `prc${Math.random().toString(36).slice(2, 6)}`;
  const cli = join(REPO_ROOT, 'lab', 'cli.ts');
  const up = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      cli,
      'up',
      '--foreground',
      '--no-podroute',
      '--name',
      name,
      join(CLAB, 'demo.clab.yml'),
    ],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  up.stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  up.stderr.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<number | null>((r) => up.on('exit', (c) => r(c)));
  // Always `down` (a no-op when the test already did): a runner that outlived `up` is removed too.
  t.teardown(async () => {
    await run(process.execPath, ['--import', 'tsx', cli, 'down', name], {
      allowFail: true,
      cwd: REPO_ROOT,
    });
    if (up.exitCode === null) up.kill('SIGKILL');
  });
  await waitFor(() => out.includes(`lab ${name} is up`) || up.exitCode !== null, {
    timeoutMs: 60_000,
    what: 'lab up',
  });
  t.match(out, `lab ${name} is up`, 'up reports the lab');
  t.ok(existsSync(`/run/podroute-lab/${name}.json`), 'state file written');
  await waitFor(
    () => out.includes('leaf1: BGP 198.18.0.1 Active') || out.includes('leaf1: BGP 198.18.0.1 Connect'),
    {
      timeoutMs: 20_000,
      what: 'session progress printed',
    },
  );
  const st = await run(process.execPath, ['--import', 'tsx', cli, 'status', name, '--json'], {
    cwd: REPO_ROOT,
    allowFail: true,
  });
  // Exit 1: node1's podroute was not started (--no-podroute), so it has no status to show.
  t.equal(st.code, 1, 'status exits 1 while a podroute node has no status');
  const report = JSON.parse(st.stdout) as {
    name: string;
    runnerAlive: boolean;
    nodes: { name: string; sessions: { protocol: string; peer: string; state: string }[] }[];
  };
  t.equal(report.name, name);
  t.equal(report.runnerAlive, true);
  t.match(
    report.nodes.find((n) => n.name === 'leaf1')?.sessions,
    [{ protocol: 'bgp', peer: '198.18.0.1' }],
    "the leaf's BGP session to the node",
  );
  const down = await run(process.execPath, ['--import', 'tsx', cli, 'down', name], { cwd: REPO_ROOT });
  t.match(down.stdout, `lab ${name} removed`);
  t.equal(await exited, 0, '`up` tore down and exited 0 on SIGTERM from `down`');
  const ns = (await run('ip', ['netns', 'list'])).stdout;
  t.notMatch(ns, `${name}-`, 'no namespace left');
  t.notOk(existsSync(`/var/run/frr/${name}-leaf1`), 'no FRR run dir left');
  t.notOk(existsSync(`/run/podroute-lab/${name}.json`), 'state file removed');
});
