/**
 * podroute's BFD authentication (RFC 5880 6.7) against BIRD 2's `protocol bfd`, single hop, three
 * links between the leaf (BIRD) and node (a BfdManager child) namespaces, 100 ms x 3:
 *  - eth1: Keyed SHA1 (6.7.4), the same key both sides: Up, and no packet dropped;
 *  - eth2: Meticulous Keyed SHA1: Up, stays Up (a new sequence number in every packet, both ways),
 *    and after a silent failure comes Up again (the sequence numbers relearned, 6.8.1);
 *  - eth3: Keyed SHA1 with a wrong key on our side: never Up at either end, every packet from BIRD
 *    dropped and counted as `auth-failed`.
 * And bin/podroute with a BGP peer's `bfd.authentication` (keyed SHA1, the key from `keyFile`)
 * against BIRD's BGP with `bfd on`: BFD Up at both ends, status shows the type and Key ID, and
 * neither status nor the log holds the key.
 * FRR 8.4's bfdd has no BFD authentication, so BIRD is the peer here.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  type BirdRouter,
  interopGate,
  Lab,
  startBird,
  startPodroute,
  waitFor,
} from '../../lab/fixture/index.js';
import type { BfdSessionStatus } from '../../src/bfd/index.js';
import { BfdAuthType } from '../../src/bfd/packet.js';
import { blackhole, FAST_TIMERS, startBfdNode } from '../bfd/interop-helpers.js';
import { addUplink, waitEstablished } from './bgp-helpers.js';

const gate = interopGate(['ip', 'bird']);
const daemonGate = interopGate(['ip', 'bird', 'podroute']);

const KEY = 'fabric-secret';
const METICULOUS_KEY = 'per-packet-key';
/** [leaf, node] on each link. */
const L1 = ['198.18.0.1', '198.18.0.2'] as const;
const L2 = ['198.18.0.5', '198.18.0.6'] as const;
const L3 = ['198.18.0.9', '198.18.0.10'] as const;

const timers = 'min rx interval 100 ms; min tx interval 100 ms; multiplier 3;';
const birdConfig = `log stderr all;
router id ${L1[0]};
protocol device { }
protocol bfd bfd1 {
  interface "eth1" { ${timers} authentication keyed sha1; password "${KEY}" { id 1; }; };
  interface "eth2" { ${timers} authentication meticulous keyed sha1; password "${METICULOUS_KEY}" { id 2; }; };
  interface "eth3" { ${timers} authentication keyed sha1; password "${KEY}" { id 1; }; };
  neighbor ${L1[1]} dev "eth1" local ${L1[0]};
  neighbor ${L2[1]} dev "eth2" local ${L2[0]};
  neighbor ${L3[1]} dev "eth3" local ${L3[0]};
}
`;

/** BIRD's `show bfd sessions` state of one neighbor. */
async function birdState(bird: BirdRouter, address: string): Promise<string | undefined> {
  const out = await bird.birdc('show bfd sessions');
  for (const line of out.split('\n')) {
    const w = line.trim().split(/\s+/);
    if (w[0] === address && w.length >= 3) return w[2];
  }
  return undefined;
}

function waitBird(bird: BirdRouter, address: string, state: string) {
  return waitFor(async () => ((await birdState(bird, address)) === state ? true : undefined), {
    timeoutMs: 15_000,
    intervalMs: 50,
    what: `BIRD: ${address} ${state}`,
  });
}

t.test(
  'BFD authentication with BIRD: keyed SHA1, meticulous keyed SHA1, a wrong key',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const leaf = await lab.addNamespace('leaf');
    const nodeNs = await lab.addNamespace('node');
    for (const [i, [l, n]] of [L1, L2, L3].entries()) {
      await lab.addLink(
        { ns: leaf, ifname: `eth${i + 1}`, addresses: [`${l}/30`] },
        { ns: nodeNs, ifname: `eth${i + 1}`, addresses: [`${n}/30`] },
      );
    }
    const bird = await startBird(leaf, { config: birdConfig });
    const sha1 = { type: BfdAuthType.KeyedSha1, keyId: 1, key: KEY };
    const node = startBfdNode(lab, nodeNs, [
      { peer: L1[0], localAddress: L1[1], ...FAST_TIMERS, auth: sha1 },
      {
        peer: L2[0],
        localAddress: L2[1],
        ...FAST_TIMERS,
        auth: { type: BfdAuthType.MeticulousKeyedSha1, keyId: 2, key: METICULOUS_KEY },
      },
      { peer: L3[0], localAddress: L3[1], ...FAST_TIMERS, auth: { ...sha1, key: 'not-the-key' } },
    ]);
    try {
      for (const [l, n] of [L1, L2]) {
        await node.waitState(l, 'Up', 20_000);
        await waitBird(bird, n, 'Up');
      }
      t.pass('keyed SHA1 and meticulous keyed SHA1 sessions Up at both ends');
      t.comment(await bird.birdc('show bfd sessions'));
      // Two seconds at 100 ms: some 20 packets each way on each authenticated session.
      await new Promise((r) => setTimeout(r, 2000));
      for (const [l, type, keyId] of [
        [L1[0], 'keyed-sha1', 1],
        [L2[0], 'meticulous-keyed-sha1', 2],
      ] as const) {
        const s = node.session(l)!;
        t.equal(s.state, 'Up', `${l}: still Up`);
        t.equal(s.counters.downTransitions, 0, `${l}: never went down`);
        t.same(s.counters.drops, {}, `${l}: no packet of BIRD's refused`);
        t.ok(s.counters.packetsIn >= 15, `${l}: ${s.counters.packetsIn} authenticated packets taken in`);
        t.same(s.authentication, { type, keyId }, `${l}: status shows the type and Key ID`);
        t.notOk(JSON.stringify(s).includes(KEY) || JSON.stringify(s).includes(METICULOUS_KEY), 'no key');
      }

      // BIRD sends its Down packets once a second (RFC 5880 6.8.3) on the link where keys differ.
      const wrong = await waitFor(
        () => {
          const x = node.session(L3[0]);
          return x && (x.counters.drops['auth-failed'] ?? 0) >= 3 ? x : undefined;
        },
        { timeoutMs: 10_000, what: 'three of BIRD’s packets refused on the wrong-key link' },
      );
      t.equal(wrong.state, 'Down', 'wrong key: our side Down');
      t.same(
        Object.keys(wrong.counters.drops),
        ['auth-failed'],
        `counted: ${JSON.stringify(wrong.counters.drops)}`,
      );
      t.equal(wrong.counters.packetsIn, 0, 'none taken in');
      t.not(await birdState(bird, L3[1]), 'Up', 'wrong key: BIRD not Up either');
      t.equal(
        node.read()?.events.some((e) => e.key.peer === L3[0]),
        false,
        'no state change at all',
      );

      // A silent failure on the meticulous link: both ends must accept the other's sequence
      // numbers again afterwards, though they moved on while nothing arrived.
      await blackhole(leaf, 'eth2', true);
      await node.waitState(L2[0], 'Down', 5000);
      await new Promise((r) => setTimeout(r, 1500));
      await blackhole(leaf, 'eth2', false);
      await node.waitState(L2[0], 'Up', 15_000);
      await waitBird(bird, L2[1], 'Up');
      t.pass('meticulous session Up again after the failure');
      t.equal(node.session(L1[0])?.counters.downTransitions, 0, 'the keyed SHA1 session was untouched');
    } catch (e) {
      t.comment(node.proc.tail(40));
      t.comment(bird.logs().split('\n').slice(-40).join('\n'));
      throw e;
    }
  },
);

t.test(
  'bin/podroute: BGP peer with bfd.authentication (keyed SHA1, keyFile) and BIRD `bfd on`',
  { skip: daemonGate.skip },
  async (t) => {
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
  interface "eth1" { ${timers} authentication keyed sha1; password "${KEY}" { id 9; }; };
}
protocol bgp node4 {
  local 198.18.0.0 as 65000;
  neighbor 198.18.0.1 as 65001;
  hold time 9;
  connect retry time 1;
  bfd on;
  ipv4 { import all; export none; };
}
`,
    });
    const keyFile = join(lab.tmpDir, 'bfd.key');
    writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
    const node = await startPodroute(nodeNs, {
      config: {
        node: { name: 'node1', routerId: '198.18.0.1' },
        announce: ['198.19.1.0/24'],
        bgp: {
          asn: 65001,
          peers: [
            {
              address: '198.18.0.0',
              asn: 65000,
              holdTime: 9,
              bfd: {
                minRx: 100,
                minTx: 100,
                multiplier: 3,
                authentication: { type: 'keyed-sha1', keyId: 9, keyFile },
              },
            },
          ],
        },
      },
    });
    try {
      await waitEstablished(node, ['198.18.0.0'], 30_000);
      const s = await waitFor(
        async () => {
          const x = (await node.status()).bfd?.sessions.find(
            (y: BfdSessionStatus) => y.peer === '198.18.0.0',
          );
          return x?.state === 'Up' && !x.pollActive && x.txIntervalMs === 100 ? x : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100, what: 'podroute BFD Up at 100 ms' },
      );
      t.same(s.authentication, { type: 'keyed-sha1', keyId: 9 }, 'status: type and Key ID');
      t.same(s.counters.drops, {}, 'no packet refused');
      await waitBird(bird, '198.18.0.1', 'Up');
      t.pass('BIRD: the authenticated BFD session Up');
      t.match(
        await bird.birdc('show protocols all node4'),
        /Established/,
        'BIRD BGP Established with BFD on',
      );
      t.notOk(JSON.stringify(await node.status()).includes(KEY), 'the key is not in the status');
      t.notOk(node.logs().includes(KEY), 'nor in the log');
    } catch (e) {
      t.comment(node.logs().split('\n').slice(-40).join('\n'));
      t.comment(bird.logs().split('\n').slice(-40).join('\n'));
      throw e;
    }
  },
);
