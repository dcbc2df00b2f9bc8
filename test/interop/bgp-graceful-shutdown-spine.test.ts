/**
 * GRACEFUL_SHUTDOWN (RFC 8326) through a fabric, against real FRR (Debian's 8.4) in namespaces: a
 * podroute node dual-homed to leaf 1 (AS 65101) and leaf 2 (AS 65102) over eBGP, both leafs peering
 * with one spine (AS 65200). What the fabric does with 65535:0 needs no configuration here: FRR's
 * bgpd sets LOCAL_PREF 0 on every route received from an eBGP peer with that community (RFC 8326
 * 4.2, built into its UPDATE processing; its `bgp graceful-shutdown` command is the other side,
 * marking FRR's own routes). A route-map matching 65535:0 on the leafs and the spine changed
 * nothing when tried: the leafs act on it either way.
 *
 * A reload removes the node's peer to leaf 1, with bgp.gracefulShutdown.wait 3 s: the node first
 * re-announces to leaf 1 with GRACEFUL_SHUTDOWN, waits, then withdraws and sends the Cease. The
 * spine's table for the node's prefix and leaf 1's paths to it are read every ~20 ms over vty
 * connections (frr-vty.ts) from the reload until everything has settled; the timeline is printed.
 * What happens, and what is asserted on it:
 *   1. leaf 1 and then the spine get the marked route; the spine's best path moves to leaf 2 while
 *      it still has the leaf-1 path (a time when it has both and prefers leaf 2);
 *   2. leaf 1, LOCAL_PREF 0 on the node's path, now prefers the path through the spine and leaf 2,
 *      so it withdraws its own from the spine: the leaf-1 path disappears, well before the node's
 *      withdrawal reaches leaf 1 (most of the wait later), and never comes back;
 *   3. the prefix is never absent at the spine.
 * Step 1's window is one round trip spine → leaf 1 → spine (~100 ms here), hence the 20 ms reads.
 */
import t from 'tap';
import { frrBgpConfig, interopGate, Lab, startFrr, startPodroute, waitFor } from '../../lab/fixture/index.js';
import { addUplink, reloadNode, rewriteConfig, waitEstablished, waitRoute } from './bgp-helpers.js';
import { FrrVty } from './frr-vty.js';

const gate = interopGate(['frr', 'podroute']);

const OWN = '198.19.1.0/24';
const WAIT_S = 3;
const GSHUT = '65535:0';
const SAMPLE_MS = 20;
/** The node's uplinks (bgp-helpers addUplink): leaf k at 198.18.0.<2k>, the node at .<2k+1>. */
const LEAF_ADDRS = ['198.18.0.0', '198.18.0.2'];
const NODE_ADDRS = ['198.18.0.1', '198.18.0.3'];
/** Leaf k to the spine: spine 198.18.1.<2k>, leaf .<2k+1>. */
const SPINE_SIDE = ['198.18.1.0', '198.18.1.2'];
const LEAF_UP = ['198.18.1.1', '198.18.1.3'];

/** Leaf k: eBGP to the node and to the spine. */
function leafConfig(k: number): string {
  const node = NODE_ADDRS[k]!;
  const spine = SPINE_SIDE[k]!;
  return frrBgpConfig({
    hostname: `leaf${k + 1}`,
    asn: 65101 + k,
    routerId: LEAF_UP[k]!,
    neighbors: [
      { address: node, asn: 65001 },
      { address: spine, asn: 65200 },
    ],
  });
}

const SPINE_CONFIG = frrBgpConfig({
  hostname: 'spine',
  asn: 65200,
  routerId: '198.18.1.0',
  neighbors: LEAF_UP.map((address, k) => ({ address, asn: 65101 + k })),
});

function nodeConfig(leafs: readonly number[]) {
  return {
    node: { name: 'node1', routerId: NODE_ADDRS[0] },
    announce: [OWN],
    bgp: {
      asn: 65001,
      gracefulShutdown: { wait: WAIT_S },
      peers: leafs.map((k) => ({ address: LEAF_ADDRS[k], asn: 65101 + k, holdTime: 9, connectRetryTime: 2 })),
    },
  };
}

interface FrrPath {
  peer?: { peerId?: string };
  bestpath?: { overall?: boolean };
  community?: { string?: string };
}

const marked = (p: FrrPath) => /graceful-shutdown|65535:0/.test(p.community?.string ?? '');

/** One read of the spine's paths to OWN (which leaf, marked, best) and of leaf 1's paths to it. */
interface Sample {
  ms: number;
  paths: { leaf: 1 | 2; gshut: boolean; best: boolean }[];
  /** Leaf 1's path from the node: absent, or present (marked or not). */
  leaf1FromNode: 'none' | 'plain' | 'marked';
  /** Where leaf 1's best path to OWN goes. */
  leaf1Best: 'node' | 'spine' | 'none';
}

async function sample(spine: FrrVty, leaf1: FrrVty, t0: number): Promise<Sample> {
  const cmd = `show bgp ipv4 unicast ${OWN} json`;
  const [s, l] = await Promise.all([
    spine.json<{ paths?: FrrPath[] }>(cmd),
    leaf1.json<{ paths?: FrrPath[] }>(cmd),
  ]);
  const paths = (s.paths ?? [])
    .map((p) => ({
      leaf: (p.peer?.peerId === LEAF_UP[0] ? 1 : 2) as 1 | 2,
      gshut: marked(p),
      best: p.bestpath?.overall === true,
    }))
    .sort((a, b) => a.leaf - b.leaf);
  const fromNode = (l.paths ?? []).find((p) => p.peer?.peerId === NODE_ADDRS[0]);
  const best = (l.paths ?? []).find((p) => p.bestpath?.overall === true);
  return {
    ms: Math.round(performance.now() - t0),
    paths,
    leaf1FromNode: !fromNode ? 'none' : marked(fromNode) ? 'marked' : 'plain',
    leaf1Best: !best ? 'none' : best.peer?.peerId === NODE_ADDRS[0] ? 'node' : 'spine',
  };
}

const describe = (s: Sample): string => {
  const spine =
    s.paths.length === 0
      ? 'ABSENT'
      : s.paths.map((p) => `leaf${p.leaf}${p.gshut ? `(${GSHUT})` : ''}${p.best ? '*' : ''}`).join(' ');
  const node = { none: 'none', plain: 'yes', marked: GSHUT }[s.leaf1FromNode];
  return `spine: ${spine.padEnd(26)} | leaf 1: ${`path from the node ${node},`.padEnd(27)} best via ${s.leaf1Best}`;
};

/** The timeline with repeated states folded: "+ms  state  (n samples)". */
function timeline(samples: readonly Sample[]): string {
  const lines: string[] = [];
  let last = '';
  let n = 0;
  const close = () => {
    if (lines.length) lines[lines.length - 1] += `  (${n} sample${n === 1 ? '' : 's'})`;
  };
  for (const s of samples) {
    const d = describe(s);
    if (d === last) {
      n++;
      continue;
    }
    close();
    lines.push(`${`+${s.ms} ms`.padStart(10)}  ${d}`);
    last = d;
    n = 1;
  }
  close();
  return lines.join('\n');
}

const has = (s: Sample, leaf: 1 | 2) => s.paths.find((p) => p.leaf === leaf);
const bestLeaf = (s: Sample) => s.paths.find((p) => p.best)?.leaf;

t.test(
  'dual-homed node, leaf 1 removed by reload: the spine prefers leaf 2 before leaf 1 withdraws',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const leafNs = [await lab.addNamespace('leaf1'), await lab.addNamespace('leaf2')];
    const spineNs = await lab.addNamespace('spine');
    const nodeNs = await lab.addNamespace('node');
    await addUplink(lab, leafNs[0]!, nodeNs, 0, 'eth1');
    await addUplink(lab, leafNs[1]!, nodeNs, 1, 'eth2');
    for (const k of [0, 1]) {
      await lab.addLink(
        { ns: leafNs[k]!, ifname: 'eth9', addresses: [`${LEAF_UP[k]}/31`] },
        { ns: spineNs, ifname: `eth${k + 1}`, addresses: [`${SPINE_SIDE[k]}/31`] },
      );
    }
    const spine = await startFrr(spineNs, { config: SPINE_CONFIG });
    const leafs = [
      await startFrr(leafNs[0]!, { config: leafConfig(0) }),
      await startFrr(leafNs[1]!, { config: leafConfig(1) }),
    ];
    const node = await startPodroute(nodeNs, { config: nodeConfig([0, 1]) });
    await waitEstablished(node, LEAF_ADDRS, 30_000);
    for (const k of [0, 1]) await spine.waitBgpEstablished(LEAF_UP[k]!);
    await waitRoute(spineNs, OWN);
    const spineVty = await FrrVty.open(spine);
    const leaf1Vty = await FrrVty.open(leafs[0]!);
    t.teardown(() => {
      spineVty.close();
      leaf1Vty.close();
    });
    const before = await waitFor(
      async () => {
        const s = await sample(spineVty, leaf1Vty, performance.now());
        return has(s, 1) && has(s, 2) && s.leaf1Best === 'node' ? s : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `the spine with ${OWN} through both leafs` },
    );
    t.ok(
      before.paths.every((p) => !p.gshut),
      `before the reload: ${describe(before)}`,
    );

    rewriteConfig(node, nodeConfig([1]));
    const t0 = performance.now();
    const reload = reloadNode(node);
    // Until the leaf-1 path and leaf 1's path from the node have been gone for a second (a return
    // would show), 20 s at most.
    const samples: Sample[] = [];
    let quietSince: number | undefined;
    while (performance.now() - t0 < 20_000) {
      const s = await sample(spineVty, leaf1Vty, t0);
      samples.push(s);
      if (has(s, 1) || s.leaf1FromNode !== 'none') quietSince = undefined;
      else quietSince ??= s.ms;
      if (quietSince !== undefined && s.ms - quietSince > 1000) break;
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
    }
    const r = await reload;
    t.equal(r.code, 0, `podroute reload exits 0 ${r.stderr}`);
    t.match(r.stdout, /bgp peer 198\.18\.0\.0: removed/);
    t.comment(`after the reload, every ~${SAMPLE_MS} ms (* = the spine's best path):\n${timeline(samples)}`);
    const gaps = samples.slice(1).map((s, i) => s.ms - samples[i]!.ms);
    const p90 = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length * 0.9)] ?? 0;
    t.ok(p90 <= 5 * SAMPLE_MS, `${samples.length} samples, 90% of them ${p90} ms or less apart`);

    t.equal(samples.filter((s) => s.paths.length === 0).length, 0, 'the prefix is never absent at the spine');
    const preferred = samples.findIndex((s) => has(s, 1)?.gshut && bestLeaf(s) === 2);
    t.ok(
      preferred >= 0,
      'a time when the spine still has the leaf-1 path, marked 65535:0, and prefers leaf 2',
    );
    const gone = samples.findIndex((s) => !has(s, 1));
    t.ok(gone > preferred, 'then the leaf-1 path disappears');
    t.ok(
      samples.slice(gone).every((s) => !has(s, 1) && bestLeaf(s) === 2),
      'and stays gone, the best path through leaf 2',
    );
    t.ok(
      samples.slice(gone).some((s) => s.leaf1Best === 'spine' && s.leaf1FromNode === 'marked'),
      "leaf 1 itself routes through the spine while it still has the node's marked path",
    );
    const withdrawn = samples.findIndex((s) => s.leaf1FromNode === 'none');
    const lead = (samples[withdrawn]?.ms ?? Number.NaN) - (samples[preferred]?.ms ?? Number.NaN);
    t.ok(
      withdrawn > gone && lead >= (WAIT_S - 1) * 1000,
      `the spine preferred leaf 2 ${lead} ms before the node's withdrawal reached leaf 1 (wait ${WAIT_S} s)`,
    );
    t.equal(await leafs[1]!.bgpState(NODE_ADDRS[1]!), 'Established', 'the leaf-2 session is untouched');
    t.equal((await node.sigterm(15_000)).code, 0, 'podroute exits 0');
  },
);
