/**
 * containerlab/dual-homed.clab.yml end to end with the real daemon: two podroute nodes, each dual-homed
 * to two FRR leafs under two FRR spines. Each node's prefix reaches the spines over both leafs (ECMP);
 * a node uplink going down leaves the other path; a node's SIGTERM withdraws its prefix fabric-wide.
 */
import { join } from 'node:path';
import t from 'tap';
import { type IpRoute, interopGate, Lab, REPO_ROOT, waitFor } from '../../lab/fixture/index.js';
import { buildTopology, loadTopology } from '../../lab/topology.js';

const gate = interopGate(['frr', 'podroute']);

const gateways = (r: IpRoute | undefined): string[] =>
  r ? (r.nexthops?.map((n) => n.gateway ?? '') ?? [r.gateway ?? '']).sort() : [];

t.test('dual-homed: ECMP at the spines, failover, withdraw', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const running = await buildTopology(
    lab,
    loadTopology(join(REPO_ROOT, 'containerlab', 'dual-homed.clab.yml')),
  );
  const spine1 = running.namespaces.get('spine1')!;
  const node1 = running.podroute.get('node1')!;

  for (const name of ['node1', 'node2']) {
    await waitFor(
      async () => {
        const peers = (await running.podroute.get(name)!.status()).bgp?.peers ?? [];
        return peers.length === 2 && peers.every((p) => p.state === 'Established');
      },
      { timeoutMs: 30_000, what: `${name} Established with both leafs` },
    );
  }
  t.pass('both nodes Established with both leafs');

  // Leaf addresses on the spine1 links: leaf1 198.18.0.1, leaf2 198.18.0.3.
  for (const prefix of ['198.19.1.0/24', '198.19.2.0/24']) {
    const r = await waitFor(
      async () => {
        const route = await spine1.route(prefix);
        return gateways(route).length === 2 ? route : undefined;
      },
      { timeoutMs: 20_000, what: `ECMP ${prefix} on spine1` },
    );
    t.same(gateways(r), ['198.18.0.1', '198.18.0.3'], `${prefix} on spine1 via both leafs`);
  }

  // node1's uplink to leaf1 fails: leaf1 drops the session at once (interface down) and spine1 keeps
  // only the path through leaf2.
  await running.namespaces.get('node1')!.setLink('eth1', 'down');
  await waitFor(async () => gateways(await spine1.route('198.19.1.0/24')).join() === '198.18.0.3', {
    timeoutMs: 20_000,
    what: 'spine1 down to the leaf2 path for node1',
  });
  t.pass('failover to the remaining uplink');
  t.same(gateways(await spine1.route('198.19.2.0/24')), ['198.18.0.1', '198.18.0.3'], 'node2 unaffected');

  const exit = await node1.sigterm();
  t.same(exit, { code: 0, signal: null }, 'node1 exits 0 on SIGTERM');
  await waitFor(async () => !(await spine1.route('198.19.1.0/24')), {
    timeoutMs: 10_000,
    what: 'node1 prefix withdrawn',
  });
  t.pass('node1 prefix gone from the spine');
  t.ok(await spine1.route('198.19.2.0/24'), 'node2 prefix still there');
});
