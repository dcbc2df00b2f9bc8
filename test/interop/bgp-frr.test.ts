/**
 * podroute's BGP speaker against real FRR bgpd (Debian's FRR 8.4) in network namespaces:
 * eBGP and iBGP, IPv4 and IPv6 prefixes, 2- and 4-byte ASNs, two leafs at once, a leaf restart.
 * The verdict is always the leaf's kernel table, as an operator would check it.
 */
import t from 'tap';
import { frrBgpConfig, interopGate, Lab, startFrr, startPodroute, waitFor } from '../../lab/fixture/index.js';
import { addUplink, sigtermWithdraws, waitEstablished, waitNoRoute, waitRoute } from './bgp-helpers.js';

const gate = interopGate(['frr', 'podroute']);

/** A leaf with fast timers; `neighbors` are "address remote-as" pairs; IPv6 ones get activated. */
function leafConfig(asn: number, routerId: string, neighbors: [string, number | 'internal'][]): string {
  return frrBgpConfig({
    asn,
    routerId,
    neighbors: neighbors.map(([address, remote]) => ({ address, asn: remote })),
  });
}

function nodeConfig(asn: number, peers: { address: string; asn: number }[], announce: string[]) {
  return {
    node: { name: 'node1', routerId: '198.18.0.1' },
    announce,
    bgp: { asn, peers: peers.map((p) => ({ ...p, holdTime: 9 })) },
  };
}

t.test('eBGP, 2-byte ASNs, IPv4 and IPv6 sessions; SIGTERM withdraws', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const leafNs = await lab.addNamespace('leaf');
  const nodeNs = await lab.addNamespace('node');
  await addUplink(lab, leafNs, nodeNs, 0);
  const leaf = await startFrr(leafNs, {
    config: leafConfig(65000, '198.18.0.0', [
      ['198.18.0.1', 65001],
      ['2001:db8::1', 65001],
    ]),
  });
  const node = await startPodroute(nodeNs, {
    config: nodeConfig(
      65001,
      [
        { address: '198.18.0.0', asn: 65000 },
        { address: '2001:db8::', asn: 65000 },
      ],
      ['198.19.1.0/24', '2001:db8:100::/48'],
    ),
  });

  const v4 = await waitRoute(leafNs, '198.19.1.0/24');
  t.equal(v4.gateway, '198.18.0.1', 'IPv4 prefix via the node');
  t.equal(v4.protocol, 'bgp');
  const v6 = await waitRoute(leafNs, '2001:db8:100::/48');
  t.equal(v6.gateway, '2001:db8::1', 'IPv6 prefix via the node');
  t.equal(v6.protocol, 'bgp');

  const s = await waitEstablished(node, ['198.18.0.0', '2001:db8::']);
  for (const p of s.bgp!.peers) {
    t.equal(p.state, 'Established', `${p.address} Established`);
    t.equal(p.asn, 65000);
    t.equal(p.prefixesSent, 1, `${p.address}: one prefix sent`);
    t.equal(p.lastError, null);
  }
  t.same(s.announced, ['198.19.1.0/24', '2001:db8:100::/48']);
  const frr = await leaf.vtyshJson<Record<string, { bgpState: string; remoteAs: number }>>(
    'show bgp neighbors 198.18.0.1 json',
  );
  t.equal(frr['198.18.0.1']?.remoteAs, 65001, 'FRR sees AS 65001');
  const black = await nodeNs.route('198.19.1.0/24');
  t.equal(black?.type, 'blackhole', 'the node blackholes its own aggregate');

  await sigtermWithdraws(t, node, leafNs, ['198.19.1.0/24', '2001:db8:100::/48']);
  const after = await leaf.vtyshJson<Record<string, Record<string, unknown>>>(
    'show bgp neighbors 198.18.0.1 json',
  );
  t.match(JSON.stringify(after), /Administrative Shutdown/i, 'FRR got Cease / Administrative Shutdown');
});

t.test('iBGP with 4-byte ASNs', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const leafNs = await lab.addNamespace('leaf');
  const nodeNs = await lab.addNamespace('node');
  await addUplink(lab, leafNs, nodeNs, 0);
  const leaf = await startFrr(leafNs, {
    config: leafConfig(4200000001, '198.18.0.0', [
      ['198.18.0.1', 'internal'],
      ['2001:db8::1', 'internal'],
    ]),
  });
  const node = await startPodroute(nodeNs, {
    config: nodeConfig(
      4200000001,
      [
        { address: '198.18.0.0', asn: 4200000001 },
        { address: '2001:db8::', asn: 4200000001 },
      ],
      ['198.19.2.0/24', '2001:db8:200::/48'],
    ),
  });
  t.equal((await waitRoute(leafNs, '198.19.2.0/24')).gateway, '198.18.0.1');
  t.equal((await waitRoute(leafNs, '2001:db8:200::/48')).gateway, '2001:db8::1');
  await waitEstablished(node, ['198.18.0.0', '2001:db8::']);
  const rib = await leaf.vtyshJson<{ paths?: { locPrf?: number; aspath?: { string: string } }[] }>(
    'show bgp ipv4 unicast 198.19.2.0/24 json',
  );
  t.equal(rib.paths?.[0]?.locPrf, 100, 'iBGP route carries LOCAL_PREF 100');
  t.equal(rib.paths?.[0]?.aspath?.string, 'Local', 'iBGP route has an empty AS_PATH');
  await sigtermWithdraws(t, node, leafNs, ['198.19.2.0/24', '2001:db8:200::/48']);
});

t.test(
  '4-byte node ASN to a 2-byte leaf, two leafs at once, leaf restart',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const leaf1Ns = await lab.addNamespace('leaf1');
    const leaf2Ns = await lab.addNamespace('leaf2');
    const nodeNs = await lab.addNamespace('node');
    await addUplink(lab, leaf1Ns, nodeNs, 0, 'eth1');
    await addUplink(lab, leaf2Ns, nodeNs, 1, 'eth2');
    const leaf1 = await startFrr(leaf1Ns, {
      config: leafConfig(65000, '198.18.0.0', [['198.18.0.1', 4200000001]]),
    });
    await startFrr(leaf2Ns, { config: leafConfig(65000, '198.18.0.2', [['198.18.0.3', 4200000001]]) });
    const node = await startPodroute(nodeNs, {
      config: nodeConfig(
        4200000001,
        [
          { address: '198.18.0.0', asn: 65000 },
          { address: '198.18.0.2', asn: 65000 },
        ],
        ['198.19.3.0/24'],
      ),
    });
    t.equal((await waitRoute(leaf1Ns, '198.19.3.0/24')).gateway, '198.18.0.1', 'leaf1 has the route');
    t.equal((await waitRoute(leaf2Ns, '198.19.3.0/24')).gateway, '198.18.0.3', 'leaf2 has the route');
    const rib = await leaf1.vtyshJson<{ paths?: { aspath?: { string: string } }[] }>(
      'show bgp ipv4 unicast 198.19.3.0/24 json',
    );
    t.equal(rib.paths?.[0]?.aspath?.string, '4200000001', 'AS_PATH carries the 4-byte ASN');
    await waitEstablished(node, ['198.18.0.0', '198.18.0.2']);

    // The leaf's routing daemons die (SIGKILL: zebra leaves its kernel routes behind, so the verdict
    // here is the leaf's BGP table): the session drops; they come back: podroute re-establishes on
    // its own (back-off) and replays its routes.
    await leaf1.kill();
    await waitFor(
      async () =>
        (await node.status()).bgp?.peers.find((p) => p.address === '198.18.0.0')?.state !== 'Established',
      { timeoutMs: 15_000, intervalMs: 100, what: 'podroute notices leaf1 is gone (hold timer)' },
    );
    t.ok(await leaf2Ns.route('198.19.3.0/24'), 'leaf2 keeps the route meanwhile');
    await leaf1.start();
    await leaf1.waitBgpEstablished('198.18.0.1', 30_000);
    const again = await waitFor(
      async () => {
        const r = await leaf1.vtyshJson<{ paths?: { nexthops?: { ip: string }[] }[] }>(
          'show bgp ipv4 unicast 198.19.3.0/24 json',
        );
        return r.paths?.length ? r : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: 'route back in the restarted leaf BGP table' },
    );
    t.equal(again.paths?.[0]?.nexthops?.[0]?.ip, '198.18.0.1', 'route back at leaf1 after its restart');
    t.equal((await waitRoute(leaf1Ns, '198.19.3.0/24')).gateway, '198.18.0.1', 'and in its kernel table');
    const s = await waitEstablished(node, ['198.18.0.0', '198.18.0.2']);
    const p1 = s.bgp!.peers.find((p) => p.address === '198.18.0.0')!;
    t.match(p1.lastError, /./, `last error recorded: ${p1.lastError}`);
    await sigtermWithdraws(t, node, leaf1Ns, ['198.19.3.0/24']);
    await waitNoRoute(leaf2Ns, '198.19.3.0/24', 2000);
  },
);
