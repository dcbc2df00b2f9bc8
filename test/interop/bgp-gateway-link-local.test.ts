/**
 * `address: gateway` with an IPv6 link-local default gateway (RFC 4291 2.5.6), against real FRR:
 * the node's IPv6 default route goes via the leaf's fe80:: address on the uplink (as router
 * advertisements would set it), the uplink also has a global address from 2001:db8::/32. podroute
 * peers with `fe80::…%eth1` (the zone, RFC 4007 11, scopes the connection to the uplink) and
 * announces an IPv6 prefix with the uplink's global address as next hop and its own link-local
 * one as the second (RFC 2545 3): the leaf's kernel gets the prefix via the node. The node
 * connects: FRR 8.4 does not connect to a configured link-local neighbor before its next-hop
 * tracking has seen it ("Waiting for NHT"); the leaf's own attempts, once it makes them, must be
 * matched to the zoned peer rather than refused.
 */
import t from 'tap';
import {
  frrBgpConfig,
  interopGate,
  Lab,
  type Namespace,
  startFrr,
  startPodroute,
  waitFor,
} from '../../lab/fixture/index.js';
import { waitEstablished, waitRoute } from './bgp-helpers.js';

const gate = interopGate(['frr', 'podroute']);

/** The interface's link-local address once duplicate address detection is done. */
async function linkLocal(ns: Namespace, ifname: string): Promise<string> {
  return waitFor(
    async () => {
      const r = await ns.exec('ip', ['-j', '-6', 'addr', 'show', 'dev', ifname, 'scope', 'link']);
      const info = (
        JSON.parse(r.stdout || '[]') as { addr_info?: { local?: string; tentative?: boolean }[] }[]
      )[0]?.addr_info?.find((a) => a.local);
      return info && !info.tentative ? info.local : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 100, what: `${ns.name} ${ifname} link-local address` },
  );
}

t.test('a link-local IPv6 default gateway is peered with over the uplink', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const leaf = await lab.addNamespace('llleaf');
  const node = await lab.addNamespace('llnode');
  await lab.addLink(
    { ns: leaf, ifname: 'eth1', addresses: ['2001:db8:1::1/64'] },
    { ns: node, ifname: 'eth1', addresses: ['2001:db8:1::2/64'] },
  );
  await node.exec('ip', ['link', 'set', 'lo', 'up']);
  const leafLl = await linkLocal(leaf, 'eth1');
  const nodeLl = await linkLocal(node, 'eth1');
  // Only a link-local default: no IPv4 and no global IPv6 gateway to fall back on.
  await node.exec('ip', ['-6', 'route', 'add', 'default', 'via', leafLl, 'dev', 'eth1']);

  const frr = await startFrr(leaf, {
    config: frrBgpConfig({
      hostname: 'llleaf',
      asn: 65101,
      routerId: '198.18.101.1',
      neighbors: [{ address: nodeLl, asn: 65001, interface: 'eth1' }],
    }),
  });
  const daemon = await startPodroute(node, {
    config: {
      node: { name: 'llnode', routerId: '198.18.101.2' },
      bgp: {
        asn: 65001,
        peers: [{ address: 'gateway', asn: 65101, holdTime: 9, connectRetryTime: 1 }],
      },
      announce: ['2001:db8:ff::/48'],
      routes: { manage: false },
    },
  });

  const peer = `${leafLl}%eth1`;
  const s = await waitEstablished(daemon, [peer], 30_000).catch(async (e) => {
    t.comment(daemon.logs().slice(-3000));
    t.comment(await frr.vtysh('show bgp neighbors'));
    throw e;
  });
  t.match(
    s.bgp?.peerSelection?.[0],
    { applied: true, resolved: [peer] },
    'the gateway resolved with its zone',
  );
  t.match(s.bgp?.peers[0], { address: peer, asn: 65101, state: 'Established', prefixesSent: 1 });

  const r = await waitRoute(leaf, '2001:db8:ff::/48');
  t.ok(
    r.gateway === '2001:db8:1::2' || (r.gateway === nodeLl && r.dev === 'eth1'),
    `the leaf routes the prefix via the node (${r.gateway} dev ${r.dev})`,
  );
  const n = (await frr.bgpNeighbors())[nodeLl];
  t.equal(n?.bgpState, 'Established', 'FRR: Established with the node link-local address');
  const rib = await frr.vtysh('show bgp ipv6 unicast 2001:db8:ff::/48 json');
  const path = (JSON.parse(rib) as { paths?: { nexthops?: { ip: string; scope: string }[] }[] }).paths?.[0];
  t.same(
    path?.nexthops?.map((h) => [h.ip, h.scope]),
    [
      ['2001:db8:1::2', 'global'],
      [nodeLl, 'link-local'],
    ],
    'next hops: the uplink global address, then the session link-local address (RFC 2545 3)',
  );
  t.notMatch(
    daemon.logs(),
    /not a configured peer/,
    "the leaf's connections are matched to the zoned peer, not refused",
  );
});
