/**
 * podroute's BGP speaker against GoBGP (Debian's gobgpd 3.10) as the leaf. gobgpd programs no
 * kernel routes by itself, and its Zebra API client cannot talk to Debian's FRR 8.4 zebra (tried:
 * zapi version 6 with software-name frr8 / frr8.1 — gobgpd panics decoding zebra's interface
 * messages), so the verdict here is GoBGP's own RIB, read with `gobgp global rib`.
 */
import t from 'tap';
import { interopGate, Lab, startGobgp, startPodroute, waitFor } from '../../lab/fixture/index.js';
import { addUplink, waitEstablished } from './bgp-helpers.js';

const gate = interopGate(['gobgp', 'podroute']);

const GOBGP_LEAF = `[global.config]
  as = 65000
  router-id = "198.18.0.0"

[[neighbors]]
  [neighbors.config]
    neighbor-address = "198.18.0.1"
    peer-as = 65001
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 9
    keepalive-interval = 3
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"

[[neighbors]]
  [neighbors.config]
    neighbor-address = "2001:db8::1"
    peer-as = 65001
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 9
    keepalive-interval = 3
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
`;

t.test('GoBGP leaf: IPv4 and IPv6 sessions; SIGTERM withdraws', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const leafNs = await lab.addNamespace('leaf');
  const nodeNs = await lab.addNamespace('node');
  await addUplink(lab, leafNs, nodeNs, 0);
  const gobgp = await startGobgp(leafNs, { config: GOBGP_LEAF });
  const node = await startPodroute(nodeNs, {
    config: {
      node: { name: 'node1', routerId: '198.18.0.1' },
      announce: ['198.19.5.0/24', '2001:db8:500::/48'],
      bgp: {
        asn: 65001,
        peers: [
          { address: '198.18.0.0', asn: 65000, holdTime: 9 },
          { address: '2001:db8::', asn: 65000, holdTime: 9 },
        ],
      },
    },
  });
  const s = await waitEstablished(node, ['198.18.0.0', '2001:db8::']);
  t.equal(s.bgp!.peers.length, 2);
  t.equal(await gobgp.neighborState('198.18.0.1'), 'Established', 'GoBGP: IPv4 neighbor Established');
  t.equal(await gobgp.neighborState('2001:db8::1'), 'Established', 'GoBGP: IPv6 neighbor Established');
  const rib = async () =>
    (await gobgp.gobgp(['global', 'rib', '-a', 'ipv4'])) +
    (await gobgp.gobgp(['global', 'rib', '-a', 'ipv6']));
  const text = await waitFor(async () => ((await rib()).includes('2001:db8:500::/48') ? rib() : undefined), {
    timeoutMs: 10_000,
    what: 'both prefixes in the GoBGP RIB',
  });
  t.match(
    text,
    /198\.19\.5\.0\/24\s+198\.18\.0\.1\s+65001/,
    'IPv4 prefix in the GoBGP RIB, next hop and AS path',
  );
  t.match(text, /2001:db8:500::\/48\s+2001:db8::1\s+65001/, 'IPv6 prefix in the GoBGP RIB');

  const start = performance.now();
  const exited = node.sigterm();
  await waitFor(async () => !/198\.19\.5\.0|2001:db8:500::/.test(await rib()), {
    timeoutMs: 5000,
    intervalMs: 10,
    what: 'prefixes withdrawn from the GoBGP RIB',
  });
  const ms = performance.now() - start;
  t.ok(ms < 1000, `GoBGP dropped both prefixes ${ms.toFixed(0)} ms after SIGTERM (< 1000 ms)`);
  t.equal((await exited).code, 0, 'podroute exits 0');
});
