/**
 * One configuration for the whole cluster (config/peer-selection.ts) against real FRR leafs: four
 * podroute nodes (bin/podroute, node.source kubernetes) read their labels from a local Kubernetes
 * API stand-in (test/k8s/api-server.ts), as a DaemonSet sharing one ConfigMap would. Two racks,
 * each with its own leaf and ASN: every node peers with its own rack's leaf only, through
 * `address: gateway` (its IPv4 and IPv6 default routes), with the local ASN its rack's
 * `asnOverrides` entry gives; a node whose labels match no entry says so in status and logs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  CLEAN_NODE,
  frrBgpConfig,
  interopGate,
  Lab,
  type Namespace,
  type PodrouteNode,
  REPO_ROOT,
  startFrr,
  startPodroute,
  waitFor,
} from '../../lab/fixture/index.js';
import { kubeconfigYaml, makeNode } from '../k8s/api-server.js';
import { addUplink, waitEstablished } from './bgp-helpers.js';

const gate = interopGate(['frr', 'podroute']);
/** The leaf's end of link k, as the kernel and status print it. */
const leaf6 = (k: number) => (k === 0 ? '2001:db8::' : `2001:db8::${2 * k}`);

/** A leaf that takes any node on its links (dynamic neighbors, passive on its side). */
const leafConfig = (hostname: string, asn: number) =>
  frrBgpConfig({
    hostname,
    asn,
    routerId: `198.18.${asn % 256}.254`,
    neighbors: [{ address: 'NODES', asn: 'external', listen: ['198.18.0.0/24', '2001:db8::/64'] }],
  });

const CLUSTER = {
  node: { source: 'kubernetes' },
  bgp: {
    asn: 65010,
    asnOverrides: [
      { nodeSelector: { rack: 'r1' }, asn: 65011 },
      { nodeSelector: { rack: 'r2' }, asn: 65012 },
    ],
    peers: [
      { address: 'gateway', asn: 65101, holdTime: 9, connectRetryTime: 1, nodeSelector: { rack: 'r1' } },
      { address: 'gateway', asn: 65102, holdTime: 9, connectRetryTime: 1, nodeSelector: { rack: 'r2' } },
    ],
  },
  routes: { manage: false },
};

t.test('four nodes, two racks, one configuration', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const leafs = [await lab.addNamespace('leafa'), await lab.addNamespace('leafb')];
  // node name, rack label, leaf index, link index on that leaf
  const plan = [
    ['n1', 'r1', 0, 0],
    ['n2', 'r1', 0, 1],
    ['n3', 'r2', 1, 0],
    ['n4', 'r9', 1, 1],
  ] as const;
  const nodes: Namespace[] = [];
  for (const [name, , leaf, k] of plan) {
    const ns = await lab.addNamespace(name);
    await addUplink(lab, leafs[leaf]!, ns, k);
    await ns.exec('ip', ['link', 'set', 'lo', 'up']);
    await ns.exec('ip', ['route', 'add', 'default', 'via', `198.18.0.${2 * k}`]);
    await ns.exec('ip', ['-6', 'route', 'add', 'default', 'via', `2001:db8::${2 * k}`]);
    nodes.push(ns);
  }
  const frr = [
    await startFrr(leafs[0]!, { config: leafConfig('leafa', 65101) }),
    await startFrr(leafs[1]!, { config: leafConfig('leafb', 65102) }),
  ];

  const dir = lab.makeDir('k8s');
  const nodesFile = join(dir, 'nodes.json');
  writeFileSync(
    nodesFile,
    JSON.stringify(
      plan.map(([name, rack, , k]) =>
        makeNode(name, { addresses: [`198.18.0.${2 * k + 1}`], labels: { rack } }),
      ),
    ),
  );
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml('http://127.0.0.1:16443', 'node-token'));
  const daemons: PodrouteNode[] = [];
  for (const [i, [name]] of plan.entries()) {
    const ns = nodes[i]!;
    ns.spawn('kube-api', CLEAN_NODE[0], [
      ...CLEAN_NODE.slice(1),
      process.execPath,
      '--import',
      'tsx',
      join(REPO_ROOT, 'test/k8s/api-server-main.ts'),
      '16443',
      nodesFile,
      'node-token',
    ]);
    daemons.push(
      await startPodroute(ns, { config: CLUSTER, env: { NODE_NAME: name, KUBECONFIG: kubeconfig } }),
    );
  }

  for (const [i, [name, rack, , k]] of plan.entries()) {
    if (rack === 'r9') continue;
    const s = await waitEstablished(daemons[i]!, [`198.18.0.${2 * k}`, leaf6(k)]);
    t.equal(s.bgp?.asn, rack === 'r1' ? 65011 : 65012, `${name}: local AS from its rack's override`);
    t.same(
      s.bgp?.peers.map((p) => p.asn),
      [rack === 'r1' ? 65101 : 65102, rack === 'r1' ? 65101 : 65102],
    );
    const sel = s.bgp?.peerSelection ?? [];
    const own = rack === 'r1' ? 0 : 1;
    t.equal(sel[own]?.applied, true, `${name}: its rack's entry applied`);
    t.same(sel[own]?.resolved, [`198.18.0.${2 * k}`, leaf6(k)], `${name}: gateways resolved`);
    t.equal(sel[1 - own]?.applied, false, `${name}: the other rack's entry did not`);
    t.match(sel[1 - own]?.reason, new RegExp(`node has rack=${rack}`));
  }

  // Each leaf sees sessions from its own rack's nodes only: leaf A from n1 and n2, leaf B from n3.
  const established = async (leaf: number) =>
    Object.entries(await frr[leaf]!.bgpNeighbors())
      .filter(([, n]) => n.bgpState === 'Established')
      .map(([addr]) => addr)
      .sort();
  t.same(await established(0), ['198.18.0.1', '198.18.0.3', '2001:db8::1', '2001:db8::3'], 'leaf A: n1, n2');
  t.same(await established(1), ['198.18.0.1', '2001:db8::1'], 'leaf B: n3 only');

  // n4 (rack r9) matches no entry: no sessions, status and logs say so, the daemon runs on.
  const s4 = await daemons[3]!.status();
  t.same(s4.bgp?.peers, [], 'n4 has no peers');
  t.same(
    s4.bgp?.peerSelection?.map((e) => [e.applied, e.reason]),
    [
      [false, 'nodeSelector rack=r1: node has rack=r9'],
      [false, 'nodeSelector rack=r2: node has rack=r9'],
    ],
  );
  await waitFor(() => /no BGP peer applies to node n4/.test(daemons[3]!.logs()), {
    timeoutMs: 5000,
    what: 'the warning in n4 logs',
  });
  t.ok(daemons[3]!.running, 'n4 still runs');
});
