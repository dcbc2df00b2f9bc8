/**
 * Two nodes with FRR as their leaf, one shared etcd: CNI ADD (reference ptp plugin, IPAM podroute)
 * in pod namespaces gives each pod an address from its node's block, the leaf learns each node's
 * aggregate over BGP, and a pod on node 1 pings a pod on node 2 across the leaf. CHECK passes, DEL
 * frees the address; `podroute ipam show` reports the blocks as JSON and as a table.
 */
import t from 'tap';
import {
  frrBgpConfig,
  interopGate,
  Lab,
  type Namespace,
  type PodrouteNode,
  startFrr,
  startPodroute,
  waitFor,
} from '../../lab/fixture/index.js';
import { addUplink, waitRoute } from '../interop/bgp-helpers.js';
import { blocksOf, cni, cniPath, ipamCli, ipamShow, startLinkEtcd } from './helpers.js';

const gate = interopGate(['frr', 'etcd', 'ping', 'podroute']);

const LEAF = frrBgpConfig({
  asn: 65000,
  routerId: '198.18.0.0',
  neighbors: [
    { address: '198.18.0.1', asn: 65001 },
    { address: '198.18.0.3', asn: 65002 },
  ],
});

interface CniResult {
  ips: { address: string; gateway?: string }[];
}

t.test(
  'two nodes, FRR leaf: CNI ADD in pods, leaf learns both aggregates, pods ping across the leaf',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const leafNs = await lab.addNamespace('leaf');
    const nodeNs = [await lab.addNamespace('node1'), await lab.addNamespace('node2')];
    await addUplink(lab, leafNs, nodeNs[0]!, 0); // leaf 198.18.0.0 - node1 198.18.0.1
    await addUplink(lab, leafNs, nodeNs[1]!, 1); // leaf 198.18.0.2 - node2 198.18.0.3
    // The nodes send everything else to the leaf (podroute accepts no routes from it here).
    await nodeNs[0]!.ip(['route', 'add', 'default', 'via', '198.18.0.0']);
    await nodeNs[1]!.ip(['route', 'add', 'default', 'via', '198.18.0.2']);
    await startLinkEtcd(lab, leafNs, ['198.18.0.0', '198.18.0.2']);
    const leaf = await startFrr(leafNs, { config: LEAF });
    const path = cniPath(lab);

    const daemons: PodrouteNode[] = [];
    for (const i of [0, 1]) {
      daemons.push(
        await startPodroute(nodeNs[i]!, {
          config: {
            node: { name: `node${i + 1}`, routerId: `198.18.0.${2 * i + 1}` },
            bgp: { asn: 65001 + i, peers: [{ address: `198.18.0.${2 * i}`, asn: 65000, holdTime: 9 }] },
            ipam: {
              store: `etcd://198.18.0.${2 * i}:2379`,
              stateDir: lab.makeDir(`state-node${i + 1}`),
              quarantine: 0,
              networks: [{ name: 'pods', cidr: '198.19.0.0/20', blockSize: 26 }],
            },
          },
        }),
      );
    }

    const pods: { ns: Namespace; result: CniResult; address: string }[] = [];
    for (const i of [0, 1]) {
      const pod = await lab.addNamespace(`pod${i + 1}`);
      const r = await cni(path, { command: 'ADD', node: daemons[i]!, pod, containerId: `ctr-${i + 1}` });
      t.equal(r.code, 0, `CNI ADD for pod${i + 1} on node${i + 1} ${r.stderr}`);
      const result = JSON.parse(r.stdout) as CniResult;
      pods.push({ ns: pod, result, address: result.ips[0]!.address.split('/')[0]! });
    }

    // ipam show --json: each node's block, seen the same from both nodes through etcd.
    const show = await waitFor(
      async () => {
        const s = await ipamShow(daemons[1]!);
        return blocksOf(s, 'node1').length && blocksOf(s, 'node2').length ? s : undefined;
      },
      { timeoutMs: 10_000, what: 'node2 sees both nodes’ blocks' },
    );
    const block = [blocksOf(show, 'node1')[0]!, blocksOf(show, 'node2')[0]!];
    t.not(block[0], block[1], 'the nodes hold different blocks');
    const mine = await ipamShow(daemons[0]!);
    t.same(
      mine.nodes.map((n) => [n.node, n.blocks]),
      show.nodes.map((n) => [n.node, n.blocks]),
      'node1 and node2 report the same blocks',
    );
    t.equal(mine.local.used, 1, 'node1 has one address in use');
    t.equal(mine.store, 'etcd');
    for (const i of [0, 1]) {
      const b = block[i]!;
      const [net, len] = b.split('/');
      const inBlock = (a: string): boolean => {
        const n = (s: string) => s.split('.').reduce((x, o) => x * 256 + Number(o), 0);
        return (n(a) - n(net!)) >>> 0 < 2 ** (32 - Number(len));
      };
      t.ok(inBlock(pods[i]!.address), `pod${i + 1} ${pods[i]!.address} lies in node${i + 1}'s block ${b}`);
      t.same(
        pods[i]!.result.ips[0],
        { interface: 1, address: `${pods[i]!.address}/20`, gateway: '198.19.0.0' },
        'ptp result: range length, the range’s first address as gateway',
      );
    }
    const table = await ipamCli(daemons[0]!, ['show']);
    t.equal(table.code, 0, 'ipam show (table) exits 0');
    t.match(table.stdout, block[0]!, 'the table lists node1’s block');
    t.match(table.stdout, block[1]!, 'the table lists node2’s block');
    t.match(table.stdout, /node2/);

    // The leaf learns each node's aggregate over BGP, via that node.
    for (const i of [0, 1]) {
      const r = await waitRoute(leafNs, block[i]!);
      t.equal(r.gateway, `198.18.0.${2 * i + 1}`, `leaf: ${block[i]} via node${i + 1}`);
      t.equal(r.protocol, 'bgp');
    }
    const frr = await leaf.vtyshJson<{ routes: Record<string, unknown> }>('show ip bgp json');
    t.ok(frr.routes[block[0]!] && frr.routes[block[1]!], 'both aggregates in the leaf’s BGP table');

    // The pod on node1 pings the pod on node2: pod -> node1 -> leaf -> node2 -> pod.
    t.ok(
      await waitFor(() => pods[0]!.ns.ping(pods[1]!.address), { timeoutMs: 10_000, what: 'pod1 pings pod2' }),
      `pod1 ${pods[0]!.address} pings pod2 ${pods[1]!.address} across the leaf`,
    );
    const trace = await pods[0]!.ns.exec('ip', ['route', 'get', pods[1]!.address]);
    t.match(trace.stdout, /via 198\.19\.0\.0 dev eth0/, 'pod1 sends through its gateway on the node');

    // CHECK (ptp with the ADD result as prevResult) passes; the IPAM plugin alone answers too.
    const check = await cni(path, {
      command: 'CHECK',
      node: daemons[0]!,
      pod: pods[0]!.ns,
      containerId: 'ctr-1',
      prevResult: pods[0]!.result,
    });
    t.equal(check.code, 0, `CNI CHECK via ptp ${check.stdout}${check.stderr}`);
    const unknown = await cni(path, {
      command: 'CHECK',
      node: daemons[0]!,
      pod: pods[0]!.ns,
      containerId: 'no-such-container',
      plugin: `${path}/podroute`,
    });
    t.equal(unknown.code, 1, 'CHECK of an unknown container fails');
    t.equal((JSON.parse(unknown.stdout) as { code: number }).code, 3, 'with CNI error 3 (unknown container)');

    // DEL frees the address (and is idempotent).
    const del = await cni(path, {
      command: 'DEL',
      node: daemons[0]!,
      pod: pods[0]!.ns,
      containerId: 'ctr-1',
    });
    t.equal(del.code, 0, `CNI DEL ${del.stdout}${del.stderr}`);
    t.equal((await ipamShow(daemons[0]!)).local.used, 0, 'node1 has no address in use after DEL');
    const after = await cni(path, {
      command: 'CHECK',
      node: daemons[0]!,
      pod: pods[0]!.ns,
      containerId: 'ctr-1',
      plugin: `${path}/podroute`,
    });
    t.equal(after.code, 1, 'CHECK after DEL fails: the address is gone');
    const again = await cni(path, {
      command: 'DEL',
      node: daemons[0]!,
      pod: pods[0]!.ns,
      containerId: 'ctr-1',
    });
    t.equal(again.code, 0, 'a second DEL succeeds (CNI SPEC: DEL is idempotent)');
    t.notOk(await pods[0]!.ns.ping(pods[1]!.address), 'pod1 has no connectivity after DEL');
  },
);
