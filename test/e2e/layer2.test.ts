/**
 * Layer 2 mode end to end: three nodes on one bridge, no router. Each node's podroute (routes.mode
 * layer2; one shared etcd, then one shared file store) routes the other nodes' blocks via their
 * addresses; pods attached by the reference ptp plugin (IPAM: podroute) reach each other across
 * nodes through those routes only.
 * node3 has two addresses on the link, so the others reach its block by ECMP. A node released with
 * `podroute ipam release-node` disappears from the others' kernel tables.
 */
import t from 'tap';
import {
  interopGate,
  Lab,
  type Namespace,
  type PodrouteNode,
  startPodroute,
  waitFor,
} from '../../lab/fixture/index.js';
import { blocksOf, cni, cniPath, ipamCli, ipamShow, routeTo, startLinkEtcd } from './helpers.js';

const gate = interopGate(['etcd', 'ping', 'podroute']);

for (const kind of ['etcd', 'file'] as const) {
  t.test(
    `layer 2 (${kind} store): three nodes on one bridge, pods reach each other, a released node disappears`,
    { skip: gate.skip },
    async (t) => {
      const lab = await Lab.create();
      t.teardown(() => lab.destroy());
      const nodes: Namespace[] = [];
      for (const n of [1, 2, 3]) nodes.push(await lab.addNamespace(`node${n}`));
      const sw = await lab.addBridge(
        'sw',
        nodes.map((ns, i) => ({ ns, ifname: 'eth1', addresses: [`198.18.1.${i + 1}/24`] })),
      );
      await sw.ns.addAddress('br0', '198.18.1.254/24');
      // node3 has a second address on the link: the others get an ECMP route to its blocks.
      await nodes[2]!.addAddress('eth1', '198.18.1.13/24');
      // etcd: one member on the bridge. file: one JSON file shared by the three daemons of this
      // machine, its changes seen through the directory watch.
      if (kind === 'etcd') await startLinkEtcd(lab, sw.ns, ['198.18.1.254']);
      const store =
        kind === 'etcd'
          ? { store: 'etcd://198.18.1.254:2379', etcd: { leaseTtl: 5 } }
          : { store: `file://${lab.tmpDir}/ipam.json` };
      const path = cniPath(lab);

      const daemons: PodrouteNode[] = [];
      for (const [i, ns] of nodes.entries()) {
        const name = `node${i + 1}`;
        daemons.push(
          await startPodroute(ns, {
            config: {
              node: { name, routerId: `198.18.1.${i + 1}` },
              routes: { mode: 'layer2', resyncInterval: 5 },
              ipam: {
                ...store,
                stateDir: lab.makeDir(`state-${name}`),
                networks: [{ name: 'pods', cidr: '198.19.0.0/20', blockSize: 26 }],
              },
            },
          }),
        );
      }

      // One pod per node, attached by ptp with podroute as its IPAM.
      const pods: { ns: Namespace; address: string }[] = [];
      for (const [i, node] of daemons.entries()) {
        const pod = await lab.addNamespace(`pod${i + 1}`);
        const r = await cni(path, { command: 'ADD', node, pod, containerId: `c${i + 1}` });
        t.equal(r.code, 0, `CNI ADD on node${i + 1}: ${r.stdout}${r.stderr}`);
        const ip = (JSON.parse(r.stdout) as { ips: { address: string }[] }).ips[0]!.address.split('/')[0]!;
        pods.push({ ns: pod, address: ip });
      }

      const show = await waitFor(
        async () => {
          const s = await ipamShow(daemons[0]!);
          return [1, 2, 3].every((n) => blocksOf(s, `node${n}`).length > 0) ? s : undefined;
        },
        { timeoutMs: 10_000, what: 'every node holds a block' },
      );
      const block = (n: number): string => blocksOf(show, `node${n}`)[0]!;
      for (const [i, p] of pods.entries())
        t.ok(show.nodes.length === 3 && p.address, `pod${i + 1} ${p.address}`);

      // Kernel routes: each node reaches the others' blocks via their link addresses, tagged ours.
      for (const [i, ns] of nodes.entries()) {
        for (const other of [1, 2, 3].filter((n) => n !== i + 1)) {
          const r = await waitFor(() => routeTo(ns, block(other)), {
            timeoutMs: 15_000,
            what: `node${i + 1}: route to node${other}'s block ${block(other)}`,
          });
          if (other === 3) {
            t.same(
              (r.nexthops ?? []).map((h) => h.gateway).sort(),
              ['198.18.1.13', '198.18.1.3'],
              `node${i + 1} reaches node3's block by ECMP over both its addresses`,
            );
          } else {
            t.equal(
              r.gateway,
              `198.18.1.${other}`,
              `node${i + 1} reaches node${other}'s block via its address`,
            );
          }
          t.equal(r.protocol, '176', 'tagged with podroute’s route protocol');
        }
      }
      const noProxyArp = await nodes[0]!.exec('cat', ['/proc/sys/net/ipv4/conf/eth1/proxy_arp']);
      t.equal(noProxyArp.stdout.trim(), '0', 'no proxy ARP on the link');

      for (const [a, b] of [
        [0, 1],
        [1, 2],
        [2, 0],
      ] as const) {
        t.ok(
          await waitFor(() => pods[a]!.ns.ping(pods[b]!.address, { count: 1, timeoutS: 2 }), {
            timeoutMs: 15_000,
            what: `pod${a + 1} pings pod${b + 1}`,
          }),
          `pod${a + 1} (${pods[a]!.address}) pings pod${b + 1} (${pods[b]!.address}) across the bridge`,
        );
      }

      // node3 leaves: its daemon stops (its routes elsewhere stay: its pods may still run) ...
      const exit = await daemons[2]!.sigterm();
      t.equal(exit.code, 0, 'node3 stopped');
      t.ok(await routeTo(nodes[0]!, block(3)), 'a stopped node keeps its routes until it is released');
      // A cleanly stopped daemon revoked its lease, so --force is not needed; an operator removing a
      // crashed node (lease still running for up to leaseTtl) would need it.
      const released = await ipamCli(daemons[0]!, ['release-node', 'node3', '--force']);
      t.equal(released.code, 0, `release-node node3 --force: ${released.stderr}`);
      t.equal(released.stdout.trim(), 'released 1 block(s) of node node3');
      // ... and once released it is gone from node1's and node2's kernel tables.
      for (const [i, ns] of nodes.slice(0, 2).entries()) {
        await waitFor(async () => !(await routeTo(ns, block(3))), {
          timeoutMs: 15_000,
          what: `node${i + 1}: node3's block ${block(3)} removed`,
        });
        t.pass(`node${i + 1}: node3's block route removed`);
        t.ok(await routeTo(ns, block(i === 0 ? 2 : 1)), `node${i + 1} still routes to the remaining node`);
      }
      const after = await ipamShow(daemons[1]!);
      t.same(blocksOf(after, 'node3'), [], 'ipam show on node2 lists no block of node3');
      t.ok(await pods[0]!.ns.ping(pods[1]!.address), 'pod1 still pings pod2');
    },
  );
}
