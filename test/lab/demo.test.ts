/**
 * The demo topology end to end with the real daemon: the lab runner builds containerlab/demo.clab.yml
 * (FRR leaf AS 65000, podroute node AS 65001), the leaf installs the node's 198.19.1.0/24 in its kernel,
 * `status()` reports the session, and SIGTERM makes the daemon withdraw and exit 0 (docs/cli.md),
 * after which the leaf no longer has the route.
 */
import { join } from 'node:path';
import t from 'tap';
import { interopGate, Lab, REPO_ROOT, waitFor } from '../../lab/fixture/index.js';
import { buildTopology, loadTopology } from '../../lab/topology.js';

const gate = interopGate(['frr', 'podroute']);

t.test('demo: podroute announces to the FRR leaf, withdraws on SIGTERM', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const topo = loadTopology(join(REPO_ROOT, 'containerlab', 'demo.clab.yml'));
  const running = await buildTopology(lab, topo);
  const leaf = running.frr.get('leaf1')!;
  const node = running.podroute.get('node1')!;
  const leafNs = running.namespaces.get('leaf1')!;

  await leaf.waitBgpEstablished('198.18.0.1', 30_000);
  const status = await waitFor(
    async () => {
      const s = await node.status();
      return s.bgp?.peers[0]?.state === 'Established' ? s : undefined;
    },
    { timeoutMs: 15_000, what: 'podroute reports Established' },
  );
  t.equal(status.node, 'node1');
  t.same(status.announced, ['198.19.1.0/24']);
  t.match(status.bgp, { asn: 65001, peers: [{ address: '198.18.0.0', asn: 65000 }] });

  const route = await waitFor(() => leafNs.route('198.19.1.0/24'), {
    timeoutMs: 15_000,
    what: 'route on the leaf',
  });
  t.equal(route.gateway, '198.18.0.1', 'leaf kernel route via the node');
  t.equal(route.protocol, 'bgp');

  const exit = await node.sigterm(10_000);
  t.same(exit, { code: 0, signal: null }, 'exit 0 after SIGTERM');
  // The withdraw (or the Cease) removes the route well before the 9 s hold time could.
  await waitFor(async () => !(await leafNs.route('198.19.1.0/24')), {
    timeoutMs: 5000,
    what: 'route withdrawn',
  });
  t.pass('route gone from the leaf');
  t.not(await leaf.bgpState('198.18.0.1'), 'Established', 'leaf saw the session close');
});
