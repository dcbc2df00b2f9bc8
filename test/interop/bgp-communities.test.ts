/**
 * Communities (RFC 1997), large communities (RFC 8092) and GRACEFUL_SHUTDOWN (RFC 8326) as FRR sees
 * them: the node's routes carry the union of bgp.communities, the peer's and the announce entry's;
 * on SIGTERM (no graceful restart) with bgp.gracefulShutdown.wait, FRR first shows the routes with
 * 65535:0 (graceful-shutdown) for the wait, then they are gone and podroute exits 0.
 */
import t from 'tap';
import { frrBgpConfig, interopGate, Lab, startFrr, startPodroute, waitFor } from '../../lab/fixture/index.js';
import { addUplink, waitEstablished, waitNoRoute, waitRoute } from './bgp-helpers.js';

const gate = interopGate(['frr', 'podroute']);

const FRR = frrBgpConfig({
  asn: 65000,
  routerId: '198.18.0.0',
  neighbors: [{ address: '198.18.0.1', asn: 65001 }],
});

const WAIT_S = 3;

interface FrrPath {
  community?: { string?: string };
  largeCommunity?: { string?: string };
}

t.test(
  'FRR shows the merged communities, then GRACEFUL_SHUTDOWN during the wait before the withdrawal',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const leafNs = await lab.addNamespace('leaf');
    const nodeNs = await lab.addNamespace('node');
    await addUplink(lab, leafNs, nodeNs, 0);
    const frr = await startFrr(leafNs, { config: FRR });
    const node = await startPodroute(nodeNs, {
      config: {
        node: { name: 'node1', routerId: '198.18.0.1' },
        announce: [
          '198.19.1.0/24',
          { prefix: '198.19.2.0/24', communities: ['65001:300'], largeCommunities: ['65001:3:3'] },
        ],
        bgp: {
          asn: 65001,
          communities: ['65001:100'],
          largeCommunities: ['65001:1:1'],
          gracefulShutdown: { wait: WAIT_S },
          peers: [
            {
              address: '198.18.0.0',
              asn: 65000,
              holdTime: 9,
              connectRetryTime: 2,
              communities: ['65001:200'],
              largeCommunities: ['65001:2:2'],
            },
          ],
        },
      },
    });
    await waitEstablished(node, ['198.18.0.0'], 30_000);
    await waitRoute(leafNs, '198.19.2.0/24');
    const path = async (p: string): Promise<FrrPath | undefined> =>
      (await frr.vtyshJson<{ paths?: FrrPath[] }>(`show bgp ipv4 unicast ${p} json`)).paths?.[0];
    const one = await path('198.19.1.0/24');
    t.equal(one?.community?.string, '65001:100 65001:200', 'global + peer communities');
    t.equal(one?.largeCommunity?.string, '65001:1:1 65001:2:2', 'global + peer large communities');
    const two = await path('198.19.2.0/24');
    t.equal(two?.community?.string, '65001:100 65001:200 65001:300', '+ the announce entry');
    t.equal(two?.largeCommunity?.string, '65001:1:1 65001:2:2 65001:3:3');

    const start = performance.now();
    const exited = node.sigterm(15_000);
    await waitFor(
      async () => /graceful-shutdown|65535:0/.test((await path('198.19.2.0/24'))?.community?.string ?? ''),
      {
        timeoutMs: 2000,
        intervalMs: 50,
        what: 'FRR shows GRACEFUL_SHUTDOWN on the route',
      },
    );
    const shown = performance.now() - start;
    t.pass(`GRACEFUL_SHUTDOWN on the leaf ${shown.toFixed(0)} ms after SIGTERM`);
    t.match((await path('198.19.1.0/24'))?.community?.string, /graceful-shutdown|65535:0/, 'on every route');
    // Still there for most of the wait (the check itself takes some ms under load).
    await new Promise((r) => setTimeout(r, (WAIT_S - 1) * 1000 - shown));
    t.ok(await path('198.19.1.0/24'), `still announced ${WAIT_S - 1} s into the wait`);
    await waitNoRoute(leafNs, '198.19.1.0/24', 5000);
    const gone = performance.now() - start;
    t.ok(gone >= WAIT_S * 1000, `withdrawn after the wait (${gone.toFixed(0)} ms)`);
    t.equal((await exited).code, 0, 'podroute exits 0');
  },
);
