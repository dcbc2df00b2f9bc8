/**
 * `ipam.mode: kubernetes` end to end: podroute (bin/podroute, node.source kubernetes) reads its
 * Node from a local Kubernetes API stand-in (test/k8s/api-server.ts: follows the API conventions,
 * not a real API server) running inside the node's namespace, and announces the Node's
 * spec.podCIDRs to a real FRR leaf; a changed pod CIDR replaces the old one at the leaf. The
 * router id comes from the Node's InternalIP.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  CLEAN_NODE,
  frrBgpConfig,
  interopGate,
  Lab,
  REPO_ROOT,
  startFrr,
  startPodroute,
} from '../../lab/fixture/index.js';
import { kubeconfigYaml, makeNode } from '../k8s/api-server.js';
import { addUplink, waitEstablished, waitNoRoute, waitRoute } from './bgp-helpers.js';

const gate = interopGate(['frr', 'podroute']);
const LEAF = frrBgpConfig({
  asn: 65000,
  routerId: '198.18.0.0',
  neighbors: [{ address: '198.18.0.1', asn: 65001 }],
});

t.test(
  'ipam.mode kubernetes: spec.podCIDRs announced to FRR, and followed',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const leafNs = await lab.addNamespace('leaf');
    const nodeNs = await lab.addNamespace('node');
    await addUplink(lab, leafNs, nodeNs, 0);
    await nodeNs.exec('ip', ['link', 'set', 'lo', 'up']);
    const leaf = await startFrr(leafNs, { config: LEAF });
    void leaf;

    const dir = lab.makeDir('k8s');
    const nodesFile = join(dir, 'nodes.json');
    const node = (podCIDRs: string[]) =>
      makeNode('node1', { addresses: ['198.18.0.1'], podCIDRs, labels: { rack: '1' } });
    writeFileSync(nodesFile, JSON.stringify([node(['198.19.4.0/24'])]));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml('http://127.0.0.1:16443', 'node-token'));
    nodeNs.spawn('kube-api', CLEAN_NODE[0], [
      ...CLEAN_NODE.slice(1),
      process.execPath,
      '--import',
      'tsx',
      join(REPO_ROOT, 'test/k8s/api-server-main.ts'),
      '16443',
      nodesFile,
      'node-token',
    ]);

    const pr = await startPodroute(nodeNs, {
      config: {
        node: { source: 'kubernetes' },
        bgp: { asn: 65001, peers: [{ address: '198.18.0.0', asn: 65000, holdTime: 9 }] },
        ipam: { mode: 'kubernetes' },
        routes: { manage: false },
      },
      env: { NODE_NAME: 'node1', KUBECONFIG: kubeconfig },
    });
    const s = await waitEstablished(pr, ['198.18.0.0']);
    t.equal(s.routerId, '198.18.0.1', 'router id from the Node InternalIP');
    const r = await waitRoute(leafNs, '198.19.4.0/24');
    t.equal(r.gateway, '198.18.0.1', 'the pod CIDR via the node');
    t.equal(r.protocol, 'bgp');

    writeFileSync(nodesFile, JSON.stringify([node(['198.19.5.0/24'])]));
    const r2 = await waitRoute(leafNs, '198.19.5.0/24', 10_000);
    t.equal(r2.gateway, '198.18.0.1', 'the new pod CIDR announced');
    await waitNoRoute(leafNs, '198.19.4.0/24');
    t.pass('the old pod CIDR withdrawn');
    t.same((await pr.status()).announced, ['198.19.5.0/24']);
  },
);
