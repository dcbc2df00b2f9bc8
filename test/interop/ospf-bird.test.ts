/**
 * The OSPF issue through the real daemon (`bin/podroute run --config`) against BIRD 2.0.12,
 * point-to-point, normal area, without authentication and with HMAC-SHA-256 (RFC 5709, which FRR
 * 8.4 lacks): Full on both sides, the prefix in BIRD's kernel table, the status JSON, SIGTERM
 * withdrawal within 1 s, restarts with another prefix after a drain and after a crash.
 */
import t, { type Test } from 'tap';
import { interopGate, Lab, startBird, startPodroute, waitFor } from '../../lab/fixture/index.js';
import {
  type OspfIfaceConfig,
  ospfNodeConfig,
  shutdownAndRestarts,
  waitNeighborsFull,
  waitRoute,
} from '../ospf/daemon-lab.js';
import { BENIGN_DROPS } from '../ospf/interop-helpers.js';

const gate = interopGate(['ip', 'bird', 'podroute']);

const LEAF = '198.18.0.1';
const NODE = '198.18.0.2';

const birdConfig = (auth: string) => `log stderr all;
router id ${LEAF};
protocol device {}
protocol kernel { ipv4 { export all; }; }
protocol ospf v2 o {
  ipv4 { import all; export none; };
  area 0 {
    interface "eth1" {
      type ptp; hello 2; dead 8;
${auth}
    };
  };
}
`;

async function scenario(t: Test, opts: { birdAuth: string; auth?: Record<string, unknown> }): Promise<void> {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const leafNs = await lab.addNamespace('leaf');
  const nodeNs = await lab.addNamespace('node');
  await lab.addLink(
    { ns: leafNs, ifname: 'eth1', addresses: [`${LEAF}/30`] },
    { ns: nodeNs, ifname: 'eth1', addresses: [`${NODE}/30`] },
  );
  const bird = await startBird(leafNs, { config: birdConfig(opts.birdAuth) });
  const iface: OspfIfaceConfig = {
    name: 'eth1',
    network: 'point-to-point',
    ...(opts.auth ? { auth: opts.auth } : {}),
  };
  const configFor = (p: string) => ospfNodeConfig(NODE, [iface], [p]);
  const node = await startPodroute(nodeNs, { config: configFor('198.19.1.0/24') });
  try {
    const o = await waitNeighborsFull(node, [LEAF]);
    await waitFor(
      async () => /198\.18\.0\.2\s+\d+\s+Full\/PtP/.test(await bird.birdc('show ospf neighbors')),
      { timeoutMs: 20_000, intervalMs: 200, what: 'BIRD sees podroute Full/PtP' },
    );
    t.match(o.interfaces, [
      { name: 'eth1', state: 'PointToPoint', neighbors: [{ routerId: LEAF, address: LEAF, state: 'Full' }] },
    ]);
    const r = await waitRoute(leafNs, '198.19.1.0/24', 'bird');
    t.equal(r.gateway, NODE, 'BIRD routes the prefix via the node');
    const unexpected = Object.keys(o.dropped).filter((k) => !BENIGN_DROPS.includes(k));
    t.same(unexpected, [], `no unexpected drops: ${JSON.stringify(o.dropped)}`);
    await shutdownAndRestarts(t, node, [{ ns: leafNs, protocol: 'bird' }], configFor, [LEAF]);
  } catch (e) {
    t.comment(node.logs().split('\n').slice(-40).join('\n'));
    t.comment(bird.process?.tail(30) ?? '');
    throw e;
  }
}

t.test('podroute daemon vs BIRD, point-to-point, no authentication', { skip: gate.skip }, async (t) => {
  await scenario(t, { birdAuth: '' });
});

t.test('podroute daemon vs BIRD, point-to-point, HMAC-SHA-256', { skip: gate.skip }, async (t) => {
  await scenario(t, {
    birdAuth: `      authentication cryptographic;
      password "s3cret-key" { id 7; algorithm hmac sha256; };`,
    auth: { type: 'hmac-sha-256', keyId: 7, key: 's3cret-key' },
  });
});
