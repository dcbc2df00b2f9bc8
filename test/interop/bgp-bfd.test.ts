/**
 * BGP with BFD (RFC 5882 10.2; RFC 5880 asynchronous mode, RFC 5881 single hop) against real FRR
 * (bgpd + bfdd, `neighbor X bfd` with a 100/100/3 profile) and BIRD 2 (`bfd on`), podroute spawned
 * from bin/podroute in the node's namespace:
 * - FRR (IPv4) and BIRD (IPv4 and IPv6): the BFD session Up at both ends, podroute's status
 *   shows it (state, negotiated 100 ms intervals, 300 ms Detection Time);
 * - a dual-homed node: a silent failure of one uplink (iptables DROP both ways in the node's
 *   namespace) removes that leaf from the node's ECMP default and the node's prefix from that leaf
 *   within 1 s with BFD; without BFD (hold 9 s) both are still there at 1 s and go with the hold
 *   time. Times printed. After the rules go, BFD comes Up and the session and route come back;
 * - malformed BFD packets toward the node (bad version, bad length, TTL 254, unknown Your
 *   Discriminator, zero My Discriminator) are dropped and counted; BFD and BGP stay up.
 */
import t from 'tap';
import {
  CLEAN_NODE,
  interopGate,
  Lab,
  sleep,
  startBird,
  startPodroute,
  waitFor,
} from '../../lab/fixture/index.js';
import { BfdState } from '../../src/bfd/constants.js';
import type { BfdSessionStatus } from '../../src/bfd/index.js';
import { encodeControl } from '../../src/bfd/packet.js';
import { runChild } from '../bfd/helpers.js';
import {
  defaultHops,
  failUplink,
  healUplink,
  LEAF_PEERS,
  NODE_ADDRS,
  OWN,
  startFabric,
} from './bfd-fabric.js';
import { addUplink, waitEstablished } from './bgp-helpers.js';

const gate = interopGate(['ip', 'frr', 'bird', 'podroute']);
const FAST = { minRx: 100, minTx: 100, multiplier: 3 };

async function bfdOf(node: { status(): Promise<{ bfd?: { sessions: BfdSessionStatus[] } }> }, peer: string) {
  return (await node.status()).bfd?.sessions.find((s) => s.peer === peer);
}

function waitBfdUp(node: Parameters<typeof bfdOf>[0], peer: string) {
  return waitFor(
    async () => {
      const s = await bfdOf(node, peer);
      // Up, and the Poll that moved off the 1 s slow rate (RFC 5880 6.8.3) is over.
      return s?.state === 'Up' && !s.pollActive && s.txIntervalMs === 100 ? s : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 100, what: `podroute BFD to ${peer} Up at 100 ms` },
  );
}

t.test(
  'BGP + BFD with FRR: Up at both ends; malformed BFD packets dropped, sessions stay',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const f = await startFabric(lab, { bfd: true, keepalive: 3, hold: 9 }, 'podroute');
    const node = f.podroute!;
    const leaf = f.leafs[0]!;
    const s = await waitBfdUp(node, LEAF_PEERS[0]!);
    t.same(
      [s.localAddress, s.txIntervalMs, s.rxIntervalMs, s.detectTimeMs],
      [NODE_ADDRS[0], 100, 100, 300],
      'podroute: keyed by the BGP session address, 100/100 ms, Detection Time 300 ms',
    );
    const frrPeer = await waitFor(
      async () => {
        const peers =
          await leaf.vtyshJson<{ peer: string; status: string; 'remote-id': number }[]>(
            'show bfd peers json',
          );
        const p = peers.find((x) => x.peer === NODE_ADDRS[0]);
        return p?.status === 'up' ? p : undefined;
      },
      { timeoutMs: 10_000, what: 'FRR bfdd: session to the node up' },
    );
    t.equal(frrPeer['remote-id'], s.localDiscriminator, "FRR knows podroute's discriminator");
    const nb = await leaf.vtysh(`show bgp neighbors ${NODE_ADDRS[0]}`);
    t.match(nb, /BFD:[\s\S]*Status: Up/, 'FRR bgpd: the neighbor is BFD-tracked and Up');
    const cli = await node.ns.exec(CLEAN_NODE[0], [
      ...CLEAN_NODE.slice(1),
      node.bin,
      'status',
      '--socket',
      node.socketPath,
    ]);
    t.match(
      cli.stdout,
      /BFD peer[\s\S]*198\.18\.0\.0\s+198\.18\.0\.1\s+Up\s+Up\s+100\/100\s+300/,
      'podroute status shows the BFD row',
    );

    // ----- malformed packets from the leaf's namespace toward the node's BFD port
    const good = encodeControl({
      diag: 0,
      state: BfdState.Up,
      poll: false,
      final: false,
      cpi: false,
      demand: false,
      detectMult: 3,
      myDiscriminator: s.remoteDiscriminator,
      yourDiscriminator: s.localDiscriminator,
      desiredMinTxUs: 100_000,
      requiredMinRxUs: 100_000,
      requiredMinEchoRxUs: 0,
    });
    const mutate = (fn: (b: Buffer) => void) => {
      const b = Buffer.from(good);
      fn(b);
      return b.toString('hex');
    };
    const bad = [
      mutate((b) => {
        b[0] = (2 << 5) | (b[0]! & 0x1f);
      }),
      mutate((b) => {
        b[3] = 40;
      }),
      mutate((b) => b.writeUInt32BE((s.localDiscriminator ^ 0x5a5a5a5a) >>> 0, 8)),
      mutate((b) => b.writeUInt32BE(0, 4)),
    ];
    const N = 3;
    const badFile = lab.writeFile(
      'bgp-bfd-bad.hex',
      `${Array.from({ length: N }, () => bad)
        .flat()
        .join('\n')}\n`,
    );
    const ttlFile = lab.writeFile(
      'bgp-bfd-ttl.hex',
      `${Array.from({ length: N }, () => good.toString('hex')).join('\n')}\n`,
    );
    const before = s.counters;
    const flapsBefore = (await node.status()).bgp!.peers[0]!.counters.flaps;
    t.match(
      (await runChild(f.leafNs[0]!, ['inject', LEAF_PEERS[0]!, NODE_ADDRS[0]!, '255', badFile])).stdout,
      `"sent":${N * bad.length}`,
    );
    t.match(
      (await runChild(f.leafNs[0]!, ['inject', LEAF_PEERS[0]!, NODE_ADDRS[0]!, '254', ttlFile])).stdout,
      `"sent":${N}`,
    );
    const after = await waitFor(
      async () => {
        const x = await bfdOf(node, LEAF_PEERS[0]!);
        return x && (x.counters.drops.ttl ?? 0) >= (before.drops.ttl ?? 0) + N ? x : undefined;
      },
      { timeoutMs: 5000, what: 'TTL drops counted' },
    );
    const delta = (k: string) => (after.counters.drops[k] ?? 0) - (before.drops[k] ?? 0);
    t.comment(`drops: ${JSON.stringify(after.counters.drops)}`);
    for (const k of ['bad-version', 'bad-length', 'ttl', 'unknown-discriminator', 'zero-my-discriminator']) {
      t.equal(delta(k), N, `${k}: dropped and counted`);
    }
    await sleep(500);
    const st = await node.status();
    const b = st.bfd!.sessions.find((x) => x.peer === LEAF_PEERS[0])!;
    t.equal(b.state, 'Up', 'BFD stays Up');
    t.equal(b.counters.downTransitions, before.downTransitions, 'no BFD flap');
    t.equal(st.bgp!.peers[0]!.state, 'Established', 'BGP stays Established');
    t.equal(st.bgp!.peers[0]!.counters.flaps, flapsBefore, 'no BGP flap');
  },
);

t.test(
  'dual-homed node with BFD 100 ms x 3: a silent uplink failure is gone within 1 s at both ends',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const f = await startFabric(lab, { bfd: true, keepalive: 3, hold: 9 }, 'podroute');
    t.same(await defaultHops(f.nodeNs), LEAF_PEERS, "the node's kernel: one ECMP default via both leafs");
    for (const p of LEAF_PEERS) await waitBfdUp(f.podroute!, p);
    const times = await failUplink(f, 5000);
    t.comment(
      `BFD: node ECMP default lost leaf1 after ${times.nodeMs.toFixed(0)} ms, leaf1 lost ${OWN} after ${times.leafMs.toFixed(0)} ms`,
    );
    t.ok(times.nodeMs < 1000, `node side within 1 s (${times.nodeMs.toFixed(0)} ms)`);
    t.ok(times.leafMs < 1000, `leaf side within 1 s (${times.leafMs.toFixed(0)} ms)`);
    const st = await f.podroute!.status();
    const p0 = st.bgp!.peers.find((p) => p.address === LEAF_PEERS[0])!;
    t.not(p0.state, 'Established', 'the BGP session to leaf1 is down');
    t.match(p0.lastError ?? '', /BFD Down|BFD went/, `its last error names BFD: ${p0.lastError}`);
    t.equal(st.bgp!.peers.find((p) => p.address === LEAF_PEERS[1])!.state, 'Established', 'leaf2 untouched');
    const b = st.bfd!.sessions.find((s) => s.peer === LEAF_PEERS[0])!;
    t.match(b.lastDiagnostic ?? '', /Detection Time Expired/i, `BFD last diagnostic: ${b.lastDiagnostic}`);
    // Held Idle while BFD is Down (RFC 5882 4.1): no reconnect over the dead path.
    await sleep(1500);
    t.equal((await f.podroute!.status()).bgp!.peers[0]!.state, 'Idle', 'BGP waits in Idle while BFD is Down');
    const healMs = await healUplink(f);
    t.comment(`after the rules went: both paths back in ${healMs.toFixed(0)} ms`);
    await waitEstablished(f.podroute!, LEAF_PEERS, 20_000);
    t.pass('BFD Up again, the session and the ECMP default are back');
  },
);

t.test(
  'dual-homed node without BFD: the same failure takes the hold time (9 s)',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const f = await startFabric(lab, { bfd: false, keepalive: 3, hold: 9 }, 'podroute');
    t.same(await defaultHops(f.nodeNs), LEAF_PEERS, 'one ECMP default via both leafs');
    const times = await failUplink(f, 15_000, {
      ms: 1000,
      fn: async () => {
        t.same(await defaultHops(f.nodeNs), LEAF_PEERS, 'at 1 s the node still routes via both leafs');
        t.ok(await f.leafNs[0]!.route(OWN), `at 1 s leaf1 still has ${OWN}`);
      },
    });
    t.comment(
      `no BFD: node lost leaf1 after ${times.nodeMs.toFixed(0)} ms, leaf1 lost ${OWN} after ${times.leafMs.toFixed(0)} ms`,
    );
    t.ok(
      times.nodeMs > 5000 && times.leafMs > 5000,
      'both only after the hold timer (9 s, keepalives every 3 s)',
    );
  },
);

t.test('BGP + BFD with BIRD (`bfd on`), IPv4 and IPv6: Up at both ends', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const leafNs = await lab.addNamespace('leaf');
  const nodeNs = await lab.addNamespace('node');
  await addUplink(lab, leafNs, nodeNs, 0);
  const bird = await startBird(leafNs, {
    config: `log stderr all;
router id 198.18.0.0;
protocol device { scan time 1; }
protocol bfd {
  interface "eth1" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };
}
protocol bgp node4 {
  local 198.18.0.0 as 65000;
  neighbor 198.18.0.1 as 65001;
  hold time 9;
  connect retry time 1;
  bfd on;
  ipv4 { import all; export none; };
}
protocol bgp node6 {
  local 2001:db8:: as 65000;
  neighbor 2001:db8::1 as 65001;
  hold time 9;
  connect retry time 1;
  bfd on;
  ipv6 { import all; export none; };
}
`,
  });
  const node = await startPodroute(nodeNs, {
    config: {
      node: { name: 'node1', routerId: '198.18.0.1' },
      announce: [OWN],
      bgp: {
        asn: 65001,
        peers: ['198.18.0.0', '2001:db8::'].map((address) => ({
          address,
          asn: 65000,
          holdTime: 9,
          bfd: FAST,
        })),
      },
    },
  });
  await waitEstablished(node, ['198.18.0.0', '2001:db8::'], 30_000);
  const s = await waitBfdUp(node, '198.18.0.0');
  t.same([s.localAddress, s.detectTimeMs], ['198.18.0.1', 300], 'podroute IPv4: Up, Detection Time 300 ms');
  const s6 = await waitBfdUp(node, '2001:db8::');
  t.same(
    [s6.localAddress, s6.detectTimeMs],
    ['2001:db8::1', 300],
    'podroute IPv6: Up, keyed by the session address',
  );
  const birdUp = await waitFor(
    async () => {
      const out = await bird.birdc('show bfd sessions');
      return /198\.18\.0\.1\s+eth1\s+Up/.test(out) && /2001:db8::1\s+eth1\s+Up/.test(out) ? out : undefined;
    },
    { timeoutMs: 10_000, what: 'BIRD: BFD session to the node Up' },
  );
  t.comment(birdUp.trim());
  t.pass('BIRD BFD Up');
  const proto = (await bird.birdc('show protocols all node4')) ?? '';
  t.match(proto, /Established/, 'BIRD BGP Established with BFD on');
  t.match((await bird.birdc('show protocols all node6')) ?? '', /Established/, 'and the IPv6 session');
});
