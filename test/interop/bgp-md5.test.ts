/**
 * TCP MD5 signatures (RFC 2385) between podroute and real FRR, BIRD and GoBGP leafs, IPv4 and
 * IPv6, podroute active and passive. One lab per router with four uplinks and eight sessions:
 * four with matching passwords (must reach Established on both ends), four with a wrong or
 * missing password on one side (must never reach Established; podroute's status names the likely
 * cause; the kernel counts the rejected segments; the daemon stays up). The password must not
 * appear in podroute's log, status or metrics.
 */
import t, { type Test } from 'tap';
import {
  frrBgpConfig,
  interopGate,
  Lab,
  type Namespace,
  type PodrouteNode,
  startBird,
  startFrr,
  startGobgp,
  startPodroute,
  waitFor,
} from '../../lab/fixture/index.js';
import { addUplink, waitEstablished } from './bgp-helpers.js';

const RIGHT = 'Right-Pass-7391';
const WRONG = 'Wrong-Pass-1022';

/** One session: which end connects, and each end's password (undefined = none). */
interface Case {
  name: string;
  node: string; // podroute's address
  leaf: string; // the router's address
  podrouteActive: boolean;
  podroutePassword?: string;
  leafPassword?: string;
  good: boolean;
}

function cases(): Case[] {
  const v4 = (k: number, end: number) => `198.18.0.${2 * k + end}`;
  const v6 = (k: number, end: number) => `2001:db8::${(2 * k + end).toString(16)}`;
  const both = { podroutePassword: RIGHT, leafPassword: RIGHT, good: true };
  return [
    { name: 'IPv4, podroute active', node: v4(0, 1), leaf: v4(0, 0), podrouteActive: true, ...both },
    { name: 'IPv6, podroute passive', node: v6(0, 1), leaf: v6(0, 0), podrouteActive: false, ...both },
    { name: 'IPv4, podroute passive', node: v4(1, 1), leaf: v4(1, 0), podrouteActive: false, ...both },
    { name: 'IPv6, podroute active', node: v6(1, 1), leaf: v6(1, 0), podrouteActive: true, ...both },
    {
      name: 'IPv4, podroute active, wrong password on podroute',
      node: v4(2, 1),
      leaf: v4(2, 0),
      podrouteActive: true,
      podroutePassword: WRONG,
      leafPassword: RIGHT,
      good: false,
    },
    {
      name: 'IPv6, podroute passive, wrong password on podroute',
      node: v6(2, 1),
      leaf: v6(2, 0),
      podrouteActive: false,
      podroutePassword: WRONG,
      leafPassword: RIGHT,
      good: false,
    },
    {
      name: 'IPv4, podroute active, no password on the leaf',
      node: v4(3, 1),
      leaf: v4(3, 0),
      podrouteActive: true,
      podroutePassword: RIGHT,
      good: false,
    },
    {
      name: 'IPv6, podroute passive, no password on podroute',
      node: v6(3, 1),
      leaf: v6(3, 0),
      podrouteActive: false,
      leafPassword: RIGHT,
      good: false,
    },
  ];
}

function frrConfig(cs: Case[]): string {
  return frrBgpConfig({
    asn: 65000,
    routerId: '198.18.0.0',
    neighbors: cs.map((c) => ({
      address: c.node,
      asn: 65001,
      extra: [
        ...(c.leafPassword ? [`password ${c.leafPassword}`] : []),
        ...(c.podrouteActive ? ['passive'] : []),
      ],
    })),
  });
}

function birdConfig(cs: Case[]): string {
  const out = ['log stderr all;', 'router id 198.18.0.0;', 'protocol device { scan time 1; }'];
  cs.forEach((c, i) => {
    const af = c.node.includes(':') ? 'ipv6' : 'ipv4';
    out.push(
      `protocol bgp s${i} {`,
      `  local ${c.leaf} as 65000;`,
      `  neighbor ${c.node} as 65001;`,
      '  hold time 9;',
      '  connect retry time 1;',
      ...(c.leafPassword ? [`  password "${c.leafPassword}";`] : []),
      ...(c.podrouteActive ? ['  passive on;'] : []),
      `  ${af} { import all; export none; };`,
      '}',
    );
  });
  return `${out.join('\n')}\n`;
}

function gobgpConfig(cs: Case[]): string {
  const out = ['[global.config]', '  as = 65000', '  router-id = "198.18.0.0"', ''];
  for (const c of cs) {
    out.push(
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = "${c.node}"`,
      '    peer-as = 65001',
      ...(c.leafPassword ? [`    auth-password = "${c.leafPassword}"`] : []),
      '  [neighbors.timers.config]',
      '    connect-retry = 1',
      '    hold-time = 9',
      '    keepalive-interval = 3',
      ...(c.podrouteActive ? ['  [neighbors.transport.config]', '    passive-mode = true'] : []),
      '  [[neighbors.afi-safis]]',
      '    [neighbors.afi-safis.config]',
      `      afi-safi-name = "${c.node.includes(':') ? 'ipv6' : 'ipv4'}-unicast"`,
      '',
    );
  }
  return out.join('\n');
}

function nodeConfig(cs: Case[]) {
  return {
    node: { name: 'node1', routerId: '198.18.0.1' },
    log: { level: 'debug' },
    api: { metrics: '127.0.0.1:9473' },
    announce: ['198.19.1.0/24', '2001:db8:100::/48'],
    bgp: {
      asn: 65001,
      peers: cs.map((c) => ({
        address: c.leaf,
        asn: 65000,
        holdTime: 9,
        connectRetryTime: 2,
        passive: !c.podrouteActive,
        ...(c.podroutePassword ? { password: c.podroutePassword } : {}),
      })),
    },
  };
}

/** TcpExt MD5 counters in a namespace (segments the kernel dropped for a missing or bad signature). */
async function md5Drops(ns: Namespace): Promise<number> {
  const r = await ns.exec('nstat', [
    '-az',
    'TcpExtTCPMD5NotFound',
    'TcpExtTCPMD5Unexpected',
    'TcpExtTCPMD5Failure',
  ]);
  let sum = 0;
  for (const line of r.stdout.split('\n')) {
    const m = /^TcpExtTCPMD5\w+\s+(\d+)/.exec(line);
    if (m) sum += Number(m[1]);
  }
  return sum;
}

type LeafState = (address: string) => Promise<string | undefined>;

async function runMatrix(t: Test, start: (leafNs: Namespace, cs: Case[]) => Promise<LeafState>) {
  const cs = cases();
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const leafNs = await lab.addNamespace('leaf');
  const nodeNs = await lab.addNamespace('node');
  for (let k = 0; k < 4; k++) await addUplink(lab, leafNs, nodeNs, k, `eth${k + 1}`);
  const leafState = await start(leafNs, cs);
  const node: PodrouteNode = await startPodroute(nodeNs, { config: nodeConfig(cs) });

  // Watch the bad sessions from the start: they must never be Established, on either end.
  const bad = cs.filter((c) => !c.good);
  const seenUp = new Set<string>();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const s = await node.status().catch(() => undefined);
      for (const p of s?.bgp?.peers ?? []) {
        if (p.state === 'Established' && bad.some((c) => c.leaf === p.address))
          seenUp.add(`podroute→${p.address}`);
      }
      for (const c of bad) if ((await leafState(c.node)) === 'Established') seenUp.add(`leaf→${c.node}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();

  const good = cs.filter((c) => c.good);
  await waitEstablished(
    node,
    good.map((c) => c.leaf),
    30_000,
  );
  for (const c of good) {
    await waitFor(async () => (await leafState(c.node)) === 'Established', {
      timeoutMs: 15_000,
      intervalMs: 200,
      what: `leaf → ${c.node} Established`,
    });
    t.pass(`${c.name}: Established on both ends with matching passwords`);
  }

  // Bounded time: 3 connect-retry periods of podroute (2 s) and many of the leaf (1 s) more.
  await new Promise((r) => setTimeout(r, 7000));
  watching = false;
  await watcher;
  t.same([...seenUp], [], 'no session with a wrong or missing password was ever Established');
  t.ok(node.running, 'the daemon keeps running');

  const status = await node.status();
  for (const c of bad) {
    const p = status.bgp?.peers.find((x) => x.address === c.leaf);
    t.not(p?.state, 'Established', `${c.name}: not Established`);
    if (c.podroutePassword) {
      t.match(
        p?.lastError,
        /with a TCP MD5 password configured, a password mismatch is the likely cause/,
        `${c.name}: lastError names the likely cause (${p?.lastError})`,
      );
    }
  }
  t.ok((await md5Drops(nodeNs)) > 0, "podroute's kernel dropped segments for their MD5 signature");

  const metrics = await nodeNs.exec('curl', ['-sf', 'http://127.0.0.1:9473/metrics']);
  t.match(metrics.stdout, /podroute_bgp_peer_state/, 'metrics answered');
  const everything = [node.logs(), JSON.stringify(status), metrics.stdout].join('\n');
  t.notOk(everything.includes(RIGHT) || everything.includes(WRONG), 'no password in logs, status or metrics');
}

const frrGate = interopGate(['frr', 'podroute']);
t.test('MD5 with FRR', { skip: frrGate.skip }, async (t) => {
  await runMatrix(t, async (ns, cs) => {
    const frr = await startFrr(ns, { config: frrConfig(cs) });
    return (a) => frr.bgpState(a);
  });
});

const birdGate = interopGate(['bird', 'podroute']);
t.test('MD5 with BIRD', { skip: birdGate.skip }, async (t) => {
  await runMatrix(t, async (ns, cs) => {
    const bird = await startBird(ns, { config: birdConfig(cs) });
    const names = new Map(cs.map((c, i) => [c.node, `s${i}`]));
    return async (a) => {
      const info = await bird.protocolInfo(names.get(a) ?? '');
      return info?.includes('Established') ? 'Established' : info;
    };
  });
});

const gobgpGate = interopGate(['gobgp', 'podroute']);
t.test('MD5 with GoBGP', { skip: gobgpGate.skip }, async (t) => {
  await runMatrix(t, async (ns, cs) => {
    const gobgp = await startGobgp(ns, { config: gobgpConfig(cs) });
    return (a) => gobgp.neighborState(a);
  });
});
