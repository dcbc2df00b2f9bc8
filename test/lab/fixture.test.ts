/**
 * Proves the shared lab fixture against the real tools: namespaces and veths carry traffic, FRR peers
 * with FRR, BIRD and GoBGP and installs what it learns in the kernel, etcd serves and survives a restart,
 * and nothing of a lab (namespace, process, /var/run/frr dir, temp dir) survives its destroy, including
 * when the owning process crashes or is killed by a signal.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import {
  FRR_RUN_DIR,
  frrBgpConfig,
  gateDecision,
  InteropUnavailableError,
  interopGate,
  Lab,
  REPO_ROOT,
  run,
  startBird,
  startEtcd,
  startFrr,
  startGobgp,
  WaitTimeoutError,
  waitFor,
} from '../../lab/fixture/index.js';

t.test('interop gate: skip with a reason, but fail under CI=true', async (t) => {
  t.same(gateDecision([], { CI: 'true' }), { skip: false }, 'nothing missing: run, CI or not');
  t.same(
    gateDecision(['bird2 not installed'], {}),
    { skip: 'bird2 not installed' },
    'developer machine: skip',
  );
  t.same(
    gateDecision(['a', 'b'], { CI: 'false' }),
    { skip: 'a; b' },
    'only CI=true turns a skip into a failure',
  );
  t.throws(() => gateDecision(['not running as root'], { CI: 'true' }), InteropUnavailableError);
  t.throws(() => gateDecision(['not running as root'], { CI: 'true' }), /not running as root/);
});

t.test('waitFor: returns the value, times out with the reason, gives up at once', async (t) => {
  let n = 0;
  t.equal(await waitFor(() => (++n >= 3 ? n : 0), { intervalMs: 1 }), 3, 'value of the first truthy try');
  await t.rejects(
    waitFor(
      () => {
        throw new Error('not yet: peer Active');
      },
      { timeoutMs: 30, intervalMs: 5, what: 'session' },
    ),
    { name: 'WaitTimeoutError', message: /waiting for session; last error: not yet: peer Active/ },
  );
  const started = Date.now();
  await t.rejects(
    waitFor(() => false, { timeoutMs: 5000, giveUp: () => 'daemon exited' }),
    /daemon exited/,
  );
  t.ok(Date.now() - started < 1000, 'giveUp ends the wait without waiting out the timeout');
  t.ok(new WaitTimeoutError('x', undefined) instanceof Error);
});

const gate = interopGate(['frr', 'bird', 'gobgp', 'etcd', 'ping']);

async function netnsList(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter(Boolean);
}

/** Alive and not a zombie (a killed orphan may wait a moment for its reaper). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** Asserts that nothing the lab described in `state` is left on the machine. */
async function assertGone(t: Test, lab: Lab, state: ReturnType<Lab['state']>): Promise<void> {
  t.ok(lab.isDestroyed, 'lab reports destroyed');
  const left = (await netnsList()).filter((n) => state.namespaces.includes(n));
  t.same(left, [], 'no namespace of the lab remains');
  t.same(
    state.pids.filter((p) => alive(p)),
    [],
    'no process of the lab remains',
  );
  const frrDirs = state.namespaces.map((n) => join(FRR_RUN_DIR, n)).filter((d) => existsSync(d));
  t.same(frrDirs, [], 'no /var/run/frr dir of the lab remains');
  t.notOk(existsSync(state.tmpDir), 'temp dir removed');
}

t.test('two namespaces, one veth, ping over IPv4 and IPv6', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const a = await lab.addNamespace('a');
  const b = await lab.addNamespace('b');
  t.ok(
    a.name.startsWith(`${lab.prefix}-`) && a.name.length <= 15,
    `namespace name ${a.name} is short and prefixed`,
  );
  const link = await lab.addLink(
    { ns: a, ifname: 'eth1', addresses: ['198.18.0.0/31', '2001:db8::/127'] },
    { ns: b, ifname: 'eth1', addresses: ['198.18.0.1/31', '2001:db8::1/127'] },
  );
  const cap = b.capture('eth1', ['icmp']);
  await waitFor(() => existsSync(cap.path), { timeoutMs: 5000, what: 'tcpdump started' });
  t.ok(await a.ping('198.18.0.1'), 'a pings b over IPv4');
  t.ok(await b.ping('2001:db8::'), 'b pings a over IPv6 at once (no DAD wait)');
  await cap.process.stop();
  // pcap global header is 24 bytes; each captured ICMP packet adds a 16-byte record header + data.
  t.ok(statSync(cap.path).size > 24 + 2 * 16, 'tcpdump captured the echo exchange');
  await link.set('down', 'b');
  t.notOk(await a.ping('198.18.0.1', { timeoutS: 1 }), 'no answer with the link down');
  await link.set('up', 'b');
  t.ok(await waitFor(() => a.ping('198.18.0.1'), { timeoutMs: 5000 }), 'answers again after link up');
  // Nothing of the test link exists in the root namespace.
  const root = await run('ip', ['-j', 'addr', 'show']);
  t.notMatch(root.stdout, /198\.18\.0\.[01]"/, 'no test address in the root namespace');
  await t.rejects(
    lab.addLink({ ns: a, ifname: 'x'.repeat(16) }, { ns: b, ifname: 'y' }),
    /1\.\.15 characters/,
  );
  const state = lab.state();
  await lab.destroy();
  await lab.destroy(); // idempotent
  await assertGone(t, lab, state);
});

t.test('a bridge joins three namespaces on one layer 2 segment', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const hosts = await Promise.all(['h1', 'h2', 'h3'].map((n) => lab.addNamespace(n)));
  const br = await lab.addBridge(
    'lan',
    hosts.map((ns, i) => ({
      ns,
      ifname: 'eth1',
      addresses: [`198.18.1.${i + 1}/24`, `2001:db8:1::${i + 1}/64`],
    })),
  );
  t.equal(br.members.length, 3);
  t.ok(await hosts[0]!.ping('198.18.1.3'), 'h1 reaches h3 across the bridge');
  t.ok(await hosts[2]!.ping('2001:db8:1::2'), 'h3 reaches h2 over IPv6');
  // Broadcast reaches every member: an all-hosts ping gets answers from both others.
  const r = await hosts[0]!.exec('ping', ['-n', '-b', '-c', '2', '-w', '3', '198.18.1.255'], {
    allowFail: true,
  });
  t.match(r.stdout, /198\.18\.1\.[23]/, 'broadcast answered through the bridge');
  const state = lab.state();
  await lab.destroy();
  await assertGone(t, lab, state);
});

const LEAF = frrBgpConfig({
  asn: 65000,
  routerId: '198.18.0.0',
  neighbors: [
    { address: '198.18.0.1', asn: 65001 },
    { address: '198.18.0.3', asn: 65002 },
    { address: '198.18.0.5', asn: 65003 },
  ],
});

const PEER = frrBgpConfig({
  hostname: 'peer',
  asn: 65001,
  routerId: '198.18.0.1',
  extra: ['no bgp network import-check'],
  neighbors: [{ address: '198.18.0.0', asn: 65000 }],
  networks: ['198.19.1.0/24'],
});

const BIRD = `log stderr all;
router id 198.18.0.3;
protocol device { scan time 1; }
protocol static { ipv4; route 198.19.2.0/24 blackhole; }
protocol bgp leaf {
  local 198.18.0.3 as 65002;
  neighbor 198.18.0.2 as 65000;
  hold time 3;
  keepalive time 1;
  connect retry time 1;
  ipv4 { import all; export all; };
}
`;

const GOBGP = `[global.config]
  as = 65003
  router-id = "198.18.0.5"
  local-address-list = ["198.18.0.5"]

[[neighbors]]
  [neighbors.config]
    neighbor-address = "198.18.0.4"
    peer-as = 65000
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 3
    keepalive-interval = 1
`;

t.test(
  'FRR leaf peers with FRR, BIRD and GoBGP; routes land in the kernel',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const [leafNs, peerNs, birdNs, gobgpNs] = await Promise.all(
      ['leaf', 'peer', 'bird', 'gobgp'].map((n) => lab.addNamespace(n)),
    );
    await lab.addLink(
      { ns: leafNs!, ifname: 'eth1', addresses: ['198.18.0.0/31'] },
      { ns: peerNs!, ifname: 'eth1', addresses: ['198.18.0.1/31'] },
    );
    await lab.addLink(
      { ns: leafNs!, ifname: 'eth2', addresses: ['198.18.0.2/31'] },
      { ns: birdNs!, ifname: 'eth1', addresses: ['198.18.0.3/31'] },
    );
    await lab.addLink(
      { ns: leafNs!, ifname: 'eth3', addresses: ['198.18.0.4/31'] },
      { ns: gobgpNs!, ifname: 'eth1', addresses: ['198.18.0.5/31'] },
    );
    const [leaf, peer, bird, gobgp] = await Promise.all([
      startFrr(leafNs!, { config: LEAF }),
      startFrr(peerNs!, { config: PEER }),
      startBird(birdNs!, { config: BIRD }),
      startGobgp(gobgpNs!, { config: GOBGP }),
    ]);
    t.same(leaf.daemons, ['bgpd'], 'daemons inferred from the config');
    t.ok(existsSync(join(FRR_RUN_DIR, leafNs!.name, 'bgpd.vty')), 'vty socket under /var/run/frr/<ns>');

    await t.test('FRR ↔ FRR', async (t) => {
      await leaf.waitBgpEstablished('198.18.0.1');
      t.equal(await peer.bgpState('198.18.0.0'), 'Established', 'both sides Established');
      const route = await waitFor(() => leafNs!.route('198.19.1.0/24'), {
        timeoutMs: 15_000,
        what: 'kernel route',
      });
      t.equal(route.gateway, '198.18.0.1', 'kernel route via the peer');
      t.equal(route.protocol, 'bgp', 'installed by zebra for bgpd');
      const viaHandle = (await leaf.kernelRoutes()).find((r) => r.dst === '198.19.1.0/24');
      t.ok(viaHandle, 'kernelRoutes() shows it too');
      const rib = await leaf.vtyshJson<{ routes: Record<string, unknown> }>('show ip bgp json');
      t.ok(rib.routes['198.19.1.0/24'], 'in the leaf BGP table');
    });

    await t.test('BIRD ↔ FRR', async (t) => {
      await leaf.waitBgpEstablished('198.18.0.3');
      t.equal(await bird.protocolInfo('leaf'), 'Established', 'BIRD reports Established');
      const route = await waitFor(() => leafNs!.route('198.19.2.0/24'), {
        timeoutMs: 15_000,
        what: 'BIRD route',
      });
      t.equal(route.gateway, '198.18.0.3');
      // The leaf passes the FRR peer's route on to BIRD after its own kernel has it: wait for it.
      const birdRoutes = await waitFor(
        async () => {
          const out = await bird.birdc('show route');
          return /198\.19\.1\.0\/24/.test(out) ? out : undefined;
        },
        { timeoutMs: 15_000, what: 'FRR peer route in BIRD' },
      );
      t.match(birdRoutes, /198\.19\.1\.0\/24/, 'BIRD learned the FRR peer route via the leaf');
    });

    await t.test('GoBGP ↔ FRR', async (t) => {
      await leaf.waitBgpEstablished('198.18.0.5');
      t.equal(await gobgp.neighborState('198.18.0.4'), 'Established', 'GoBGP reports Established');
      await gobgp.gobgp(['global', 'rib', 'add', '198.19.3.0/24', '-a', 'ipv4']);
      const route = await waitFor(() => leafNs!.route('198.19.3.0/24'), {
        timeoutMs: 15_000,
        what: 'GoBGP route',
      });
      t.equal(route.gateway, '198.18.0.5');
    });

    await t.test('restart: FRR peer killed and restarted, session and route come back', async (t) => {
      await peer.kill();
      await waitFor(async () => (await leaf.bgpState('198.18.0.1')) !== 'Established', {
        timeoutMs: 10_000,
        what: 'hold timer expiry on the leaf',
      });
      await waitFor(async () => !(await leafNs!.route('198.19.1.0/24')), {
        timeoutMs: 10_000,
        what: 'route withdrawn',
      });
      await peer.start();
      await leaf.waitBgpEstablished('198.18.0.1');
      await waitFor(() => leafNs!.route('198.19.1.0/24'), { timeoutMs: 15_000, what: 'route back' });
      t.pass('route back after restart');
    });

    const state = lab.state();
    t.ok(state.pids.length >= 6, `lab tracks its daemons (${state.pids.length} pids)`);
    t.ok(
      state.dirs.some((d) => d.startsWith(FRR_RUN_DIR)),
      'lab owns the /var/run/frr dirs',
    );
    await lab.destroy();
    await assertGone(t, lab, state);
  },
);

const ospfRouter = (n: number): string => `frr defaults datacenter
hostname r${n}
!
interface eth1
 ip ospf area 0.0.0.0
 ip ospf network broadcast
 ip ospf hello-interval 1
 ip ospf dead-interval 4
 ip ospf priority ${n}
!
router ospf
 ospf router-id 198.18.1.${n}
!
`;

t.test(
  'FRR ospfd on the bridge: broadcast adjacencies with a DR (multicast crosses the bridge)',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const nss = await Promise.all([1, 2, 3].map((n) => lab.addNamespace(`r${n}`)));
    await lab.addBridge(
      'seg',
      nss.map((ns, i) => ({ ns, ifname: 'eth1', addresses: [`198.18.1.${i + 1}/24`] })),
    );
    const routers = await Promise.all(nss.map((ns, i) => startFrr(ns, { config: ospfRouter(i + 1) })));
    t.same(routers[0]!.daemons, ['ospfd'], 'ospfd inferred from `router ospf`');
    type Nbrs = { neighbors: Record<string, { nbrState: string }[]> };
    const states = async (i: number): Promise<string[]> =>
      Object.values((await routers[i]!.vtyshJson<Nbrs>('show ip ospf neighbor json')).neighbors).map(
        (l) => l[0]!.nbrState,
      );
    // r3 has the highest priority: it becomes DR and is Full with both others.
    await waitFor(async () => (await states(2)).filter((s) => s.startsWith('Full')).length === 2, {
      timeoutMs: 30_000,
      what: 'r3 Full with r1 and r2',
    });
    const r1 = await states(0);
    t.equal(r1.length, 2, 'r1 sees both neighbors over the bridge');
    t.ok(
      r1.some((s) => s === 'Full/DR'),
      `r1 reports the DR (${r1.join(', ')})`,
    );
    const state = lab.state();
    await lab.destroy();
    await assertGone(t, lab, state);
  },
);

t.test('etcd: starts on loopback, answers, restarts on its data dir', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const etcd = await startEtcd(lab);
  t.match(etcd.endpoints[0], /^http:\/\/127\.0\.0\.1:\d+$/, 'loopback endpoint');
  await etcd.put('/podroute/test', 'hello');
  t.equal(await etcd.get('/podroute/test'), 'hello', 'value read back');
  await etcd.stop();
  t.notOk(await etcd.health(), 'unreachable while stopped');
  await etcd.start();
  t.equal(await etcd.get('/podroute/test'), 'hello', 'value survives a restart on the same data dir');

  const ns = await lab.addNamespace('store');
  const inner = await startEtcd(lab, { ns, name: 'etcd2' });
  await inner.put('k', 'v');
  t.equal(await inner.get('k'), 'v', 'etcd inside a namespace answers');
  const state = lab.state();
  await lab.destroy();
  await assertGone(t, lab, state);
});

/** Runs a child that builds a lab, prints its state, then dies the given way. */
async function crashChild(
  how: 'throw' | 'sigterm' | 'exit',
): Promise<{ state: ReturnType<Lab['state']>; code: number | null; signal: string | null }> {
  const fixture = join(REPO_ROOT, 'lab', 'fixture', 'index.ts');
  const script = `
    import { Lab } from ${JSON.stringify(fixture)};
    const lab = await Lab.create();
    const ns = await lab.addNamespace('x');
    ns.spawn('sleeper', 'sleep', ['600']);
    console.log(JSON.stringify(lab.state()));
    const how = ${JSON.stringify(how)};
    if (how === 'throw') setTimeout(() => { throw new Error('boom'); }, 100);
    else if (how === 'exit') setTimeout(() => process.exit(3), 100);
    else setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    if (how === 'sigterm' && out.includes('\n')) child.kill('SIGTERM');
  });
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
    child.on('exit', (c, s) => r([c, s])),
  );
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`child printed no state; stderr: ${err}`);
  return { state: JSON.parse(line), code, signal };
}

for (const how of ['throw', 'sigterm', 'exit'] as const) {
  t.test(`a lab is removed when its process dies (${how})`, { skip: gate.skip }, async (t) => {
    const { state, code, signal } = await crashChild(how);
    t.ok(code !== 0 || signal !== null, `child ended abnormally (code ${code}, signal ${signal})`);
    t.equal(state.namespaces.length, 1);
    t.equal(state.pids.length, 1);
    const left = (await netnsList()).filter((n) => state.namespaces.includes(n));
    t.same(left, [], 'namespace removed by the exit hook');
    t.notOk(alive(state.pids[0]!), 'process in it killed');
    t.notOk(existsSync(state.tmpDir), 'temp dir removed');
  });
}
