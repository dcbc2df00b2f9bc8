/**
 * Learned routes in the node's kernel, against real FRR (Debian's FRR 8.4) in namespaces: a node
 * dual-homed to two leafs (different ASNs), an IPv4 and an IPv6 session to each, both leafs sending
 * a default route (`default-originate`, IPv4 and IPv6). Verdict: the node's kernel (`ip -j route`):
 *   - one ECMP default per family via both leafs, tagged with podroute's protocol (176); the IPv6
 *     one via the leafs' link-local addresses on each uplink;
 *   - one leaf's bgpd stopped: both defaults shrink to the other leaf; the leaf back: two again;
 *   - the node's own prefix, sent back by a leaf that originates it too, is never installed (the
 *     blackhole stays, status says why);
 *   - `install: false`: the routes are received (status) and nothing reaches the kernel;
 *   - SIGTERM (no graceful restart): the learned routes leave with the sessions, the blackhole stays.
 */
import t, { type Test } from 'tap';
import {
  type FrrRouter,
  frrBgpConfig,
  type IpRoute,
  interopGate,
  Lab,
  type Namespace,
  type PodrouteNode,
  startFrr,
  startPodroute,
  waitFor,
} from '../../lab/fixture/index.js';
import { addUplink, waitEstablished } from './bgp-helpers.js';

const gate = interopGate(['frr', 'podroute']);
const PROTO = '176';
const OWN = '198.19.1.0/24';

/** Leaf k (0, 1): AS 65101+k, eBGP to the node over IPv4 and IPv6, a default route to it in each. */
function leafConfig(k: number): string {
  const v4 = `198.18.0.${2 * k + 1}`;
  const v6 = `2001:db8::${(2 * k + 1).toString(16)}`;
  // Leaf 1 also originates the node's own prefix (as a misconfigured fabric might).
  const own = k === 0 ? { global: [`ip route ${OWN} blackhole`], networks: [OWN] } : {};
  return frrBgpConfig({
    hostname: `leaf${k + 1}`,
    asn: 65101 + k,
    routerId: `10.0.0.${k + 1}`,
    ...own,
    neighbors: [v4, v6].map((address) => ({ address, asn: 65001, afExtra: ['default-originate'] })),
  });
}

const LEAF_PEERS = ['198.18.0.0', '2001:db8::', '198.18.0.2', '2001:db8::2'];

function nodeConfig(install: boolean) {
  return {
    node: { name: 'node1', routerId: '198.18.0.1' },
    announce: [OWN],
    bgp: {
      asn: 65001,
      peers: LEAF_PEERS.map((address, i) => ({
        address,
        asn: 65101 + (i >> 1),
        holdTime: 9,
        accept: 'all',
        install,
      })),
    },
  };
}

async function dualHomed(t: Test, install: boolean) {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const leafNs = [await lab.addNamespace('leaf1'), await lab.addNamespace('leaf2')];
  const nodeNs = await lab.addNamespace('node');
  await addUplink(lab, leafNs[0]!, nodeNs, 0, 'eth1');
  await addUplink(lab, leafNs[1]!, nodeNs, 1, 'eth2');
  const leafs = [
    await startFrr(leafNs[0]!, { config: leafConfig(0) }),
    await startFrr(leafNs[1]!, { config: leafConfig(1) }),
  ];
  const node = await startPodroute(nodeNs, { config: nodeConfig(install) });
  await waitEstablished(node, LEAF_PEERS, 30_000);
  return { nodeNs, leafs, node };
}

/** The node's default route of one family, as `ip -j route` shows it; the hops as "gateway dev". */
async function defaultHops(
  ns: Namespace,
  family: 4 | 6,
): Promise<{ route: IpRoute; hops: string[] } | undefined> {
  const route = (await ns.routes(family)).find((r) => r.dst === 'default');
  if (!route) return undefined;
  const hops = route.nexthops
    ? route.nexthops.map((h) => `${h.gateway} ${h.dev}`)
    : [`${route.gateway} ${route.dev}`];
  return { route, hops: hops.sort() };
}

/** Waits for the default route of `family` to have exactly `n` next hops; returns it. */
function waitDefault(ns: Namespace, family: 4 | 6, n: number, timeoutMs = 20_000) {
  return waitFor(
    async () => {
      const d = await defaultHops(ns, family);
      return d && d.hops.length === n ? d : undefined;
    },
    { timeoutMs, intervalMs: 50, what: `IPv${family} default with ${n} next hop(s) in ${ns.name}` },
  );
}

const isLinkLocal = (hop: string) => hop.startsWith('fe80:');

function bgpd(leaf: FrrRouter) {
  const p = leaf.processes.find((x) => x.name.endsWith('-bgpd'));
  if (!p) throw new Error(`no bgpd in ${leaf.ns.name}`);
  return p;
}

async function learnedRow(node: PodrouteNode, prefix: string, peer: string) {
  const s = await node.status();
  return s.routes?.learned.routes.find((r) => r.prefix === prefix && r.peer === peer);
}

t.test(
  'dual-homed: ECMP default via both leafs, shrinks with a leaf down, grows back',
  { skip: gate.skip },
  async (t) => {
    const { nodeNs, leafs, node } = await dualHomed(t, true);

    const v4 = await waitDefault(nodeNs, 4, 2);
    t.same(v4.hops, ['198.18.0.0 eth1', '198.18.0.2 eth2'], 'IPv4 default via both leafs');
    t.equal(v4.route.protocol, PROTO, 'tagged with podroute protocol 176');
    const v6 = await waitDefault(nodeNs, 6, 2);
    t.ok(
      v6.hops.every(isLinkLocal),
      `IPv6 default via the leafs' link-local addresses: ${v6.hops.join(', ')}`,
    );
    t.same(v6.hops.map((h) => h.split(' ')[1]).sort(), ['eth1', 'eth2'], 'one IPv6 next hop per uplink');
    t.equal(v6.route.protocol, PROTO);

    // The node's own prefix, originated by leaf1 as well: received, never installed.
    const own = await waitFor(() => learnedRow(node, OWN, '198.18.0.0'), {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: `${OWN} received from leaf1`,
    });
    t.match(own, {
      installed: false,
      selected: null,
      reason: 'the node announces this prefix',
      asPath: '65101',
    });
    const black = await nodeNs.route(OWN);
    t.equal(black?.type, 'blackhole', 'the blackhole for the own prefix stays');
    t.equal(black?.protocol, PROTO);
    const st = await node.status();
    t.match(
      st.routes?.learned,
      { prefixes: 3, installed: 2, omitted: 0 },
      'status counts: 2 defaults + own prefix',
    );
    const d4 = st.routes!.learned.routes.filter((r) => r.prefix === '0.0.0.0/0');
    t.same(
      d4.map((r) => [r.peer, r.selected, r.installed]),
      [
        ['198.18.0.0', 'best', true],
        ['198.18.0.2', 'multipath', true],
      ],
      'the lower BGP identifier is best, the other an ECMP member',
    );

    // leaf2's bgpd stops (it sends a Cease): both defaults lose that leaf at once.
    const stopped = performance.now();
    await bgpd(leafs[1]!).stop();
    const one4 = await waitDefault(nodeNs, 4, 1, 10_000);
    const ms = performance.now() - stopped;
    t.same(
      one4.hops,
      ['198.18.0.0 eth1'],
      `IPv4 default via leaf1 only, ${ms.toFixed(0)} ms after bgpd stopped`,
    );
    const one6 = await waitDefault(nodeNs, 6, 1, 10_000);
    t.match(one6.hops[0], /^fe80:\S+ eth1$/, 'IPv6 default via leaf1 only');
    t.equal(one4.route.protocol, PROTO);

    // leaf2 back: two next hops again.
    await leafs[1]!.stop();
    await leafs[1]!.start();
    await waitEstablished(node, LEAF_PEERS, 30_000);
    t.same(
      (await waitDefault(nodeNs, 4, 2)).hops,
      ['198.18.0.0 eth1', '198.18.0.2 eth2'],
      'IPv4 ECMP restored',
    );
    t.same(
      (await waitDefault(nodeNs, 6, 2)).hops.map((h) => h.split(' ')[1]).sort(),
      ['eth1', 'eth2'],
      'IPv6 ECMP restored',
    );
    const exit = await node.sigterm();
    t.equal(exit.code, 0, 'podroute exits 0');
    // Without graceful restart a stop ends the sessions; their routes leave the kernel with them.
    t.notOk(await defaultHops(nodeNs, 4), 'IPv4 default gone after the stop');
    t.notOk(await defaultHops(nodeNs, 6), 'IPv6 default gone after the stop');
    t.equal((await nodeNs.route(OWN))?.type, 'blackhole', 'the blackhole stays');
  },
);

t.test('install: false: routes received and shown, none in the kernel', { skip: gate.skip }, async (t) => {
  const { nodeNs, node } = await dualHomed(t, false);
  const s = await waitFor(
    async () => {
      const st = await node.status();
      return (st.routes?.learned.paths ?? 0) >= 5 ? st : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100, what: 'both leafs defaults (and the own prefix) received' },
  );
  t.equal(s.routes?.learned.installed, 0, 'nothing installed');
  for (const r of s.routes!.learned.routes.filter((r) => r.prefix !== OWN)) {
    t.match(r, { installed: false, selected: null, reason: 'install: false' }, `${r.prefix} from ${r.peer}`);
  }
  for (const p of s.bgp!.peers) t.ok(p.prefixesAccepted >= 1, `${p.address} kept its routes in the RIB`);
  t.notOk(await defaultHops(nodeNs, 4), 'no IPv4 default in the kernel');
  t.notOk(await defaultHops(nodeNs, 6), 'no IPv6 default in the kernel');
  const exit = await node.sigterm();
  t.equal(exit.code, 0);
});
