/**
 * A clean first Established against real FRR bgpd (Debian's FRR 8.4) in network namespaces: a
 * dual-homed node (one IPv4 session to each leaf) with an extra IPv6 session to the first leaf.
 * Every session must come up on its first connection: no NOTIFICATION either way (a Finite State
 * Machine Error here means one side sent a message the other's FSM did not expect, RFC 4271 6.6),
 * no connection dropped, one OPEN each way, seen from FRR's counters and from podroute's.
 *
 * Both start orders: the leafs first (podroute connects to running routers), and podroute first
 * (its first connects are refused until bgpd listens, then it connects while the leafs are still
 * starting their own sessions).
 */
import t, { type Test } from 'tap';
import {
  type FrrRouter,
  frrBgpConfig,
  interopGate,
  Lab,
  type Namespace,
  type PodrouteNode,
  startFrr,
  startPodroute,
  waitFor,
} from '../../lab/fixture/index.js';
import { addUplink, waitEstablished, waitRoute } from './bgp-helpers.js';

const gate = interopGate(['frr', 'podroute']);

/** The fields of FRR's `show bgp neighbors json` this test reads. */
interface FrrNeighbor {
  bgpState: string;
  connectionsEstablished?: number;
  connectionsDropped?: number;
  lastNotificationReason?: string;
  lastErrorCodeSubcode?: string;
  messageStats?: {
    opensSent: number;
    opensRecv: number;
    notificationsSent: number;
    notificationsRecv: number;
    keepalivesRecv: number;
  };
}

/** A leaf with fast timers (keepalive 1 s, hold 3 s); IPv6 neighbors get the IPv6 family only. */
function leafConfig(routerId: string, neighbors: string[]): string {
  return frrBgpConfig({
    asn: 65000,
    routerId,
    neighbors: neighbors.map((address) => ({ address, asn: 65001 })),
  });
}

const NODE_CONFIG = {
  node: { name: 'node1', routerId: '198.18.0.1' },
  announce: ['198.19.1.0/24', '2001:db8:100::/48'],
  bgp: {
    asn: 65001,
    peers: [
      { address: '198.18.0.0', asn: 65000, holdTime: 9, description: 'leaf1' },
      { address: '198.18.0.2', asn: 65000, holdTime: 9, description: 'leaf2' },
      { address: '2001:db8::', asn: 65000, holdTime: 9, description: 'leaf1 IPv6' },
    ],
  },
};
const OUR_PEERS = ['198.18.0.0', '198.18.0.2', '2001:db8::'];

interface Fabric {
  lab: Lab;
  leaf1Ns: Namespace;
  leaf2Ns: Namespace;
  nodeNs: Namespace;
}

async function fabric(t: Test): Promise<Fabric> {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const leaf1Ns = await lab.addNamespace('leaf1');
  const leaf2Ns = await lab.addNamespace('leaf2');
  const nodeNs = await lab.addNamespace('node');
  // leaf1 eth1 198.18.0.0/31 + 2001:db8::/127 <-> node eth1; leaf2 eth2 198.18.0.2/31 <-> node eth2
  await addUplink(lab, leaf1Ns, nodeNs, 0, 'eth1');
  await addUplink(lab, leaf2Ns, nodeNs, 1, 'eth2');
  return { lab, leaf1Ns, leaf2Ns, nodeNs };
}

function startLeafs(f: Fabric): Promise<[FrrRouter, FrrRouter]> {
  return Promise.all([
    startFrr(f.leaf1Ns, { config: leafConfig('198.18.0.0', ['198.18.0.1', '2001:db8::1']) }),
    startFrr(f.leaf2Ns, { config: leafConfig('198.18.0.2', ['198.18.0.3']) }),
  ]);
}

/** Both ends Established on every session, the routes at the leafs, then a few keepalives more. */
async function checkClean(t: Test, f: Fabric, node: PodrouteNode, leaf1: FrrRouter, leaf2: FrrRouter) {
  await waitEstablished(node, OUR_PEERS, 30_000);
  t.equal((await waitRoute(f.leaf1Ns, '198.19.1.0/24')).gateway, '198.18.0.1', 'leaf1 has the IPv4 route');
  t.equal((await waitRoute(f.leaf2Ns, '198.19.1.0/24')).gateway, '198.18.0.3', 'leaf2 has the IPv4 route');
  t.equal(
    (await waitRoute(f.leaf1Ns, '2001:db8:100::/48')).gateway,
    '2001:db8::1',
    'leaf1 has the IPv6 route',
  );

  const leafs: [FrrRouter, string[]][] = [
    [leaf1, ['198.18.0.1', '2001:db8::1']],
    [leaf2, ['198.18.0.3']],
  ];
  // Three keepalive intervals of the leafs after Established: a late error would show by then.
  for (const [leaf, addrs] of leafs) {
    await waitFor(
      async () => {
        const n = await leaf.vtyshJson<Record<string, FrrNeighbor>>('show bgp neighbors json');
        return addrs.every((a) => (n[a]?.messageStats?.keepalivesRecv ?? 0) >= 4);
      },
      { timeoutMs: 15_000, intervalMs: 200, what: `keepalives from podroute at ${addrs.join(', ')}` },
    );
  }
  for (const [leaf, addrs] of leafs) {
    const n = await leaf.vtyshJson<Record<string, FrrNeighbor>>('show bgp neighbors json');
    for (const a of addrs) {
      const nb = n[a]!;
      t.equal(nb.bgpState, 'Established', `FRR: ${a} Established`);
      t.match(
        nb.messageStats,
        { notificationsSent: 0, notificationsRecv: 0, opensSent: 1, opensRecv: 1 },
        `FRR: ${a} no NOTIFICATION either way, one OPEN each way`,
      );
      t.equal(nb.connectionsEstablished, 1, `FRR: ${a} established once`);
      t.equal(nb.connectionsDropped ?? 0, 0, `FRR: ${a} no connection dropped`);
      t.notOk(nb.lastNotificationReason ?? nb.lastErrorCodeSubcode, `FRR: ${a} no last notification`);
    }
  }
  const status = await node.status();
  for (const addr of OUR_PEERS) {
    const p = status.bgp!.peers.find((x) => x.address === addr)!;
    t.equal(p.state, 'Established', `podroute: ${addr} Established`);
    t.match(
      p.counters,
      { notificationsIn: 0, notificationsOut: 0, malformed: 0, flaps: 0, messagesIn: { open: 1 } },
      `podroute: ${addr} no NOTIFICATION, no flap, one OPEN received`,
    );
    t.notMatch(p.lastError ?? '', /NOTIFICATION/, `podroute: ${addr} last error is no NOTIFICATION`);
  }
}

t.test('leafs first: every session Established on its first connection', { skip: gate.skip }, async (t) => {
  const f = await fabric(t);
  const [leaf1, leaf2] = await startLeafs(f);
  const node = await startPodroute(f.nodeNs, { config: NODE_CONFIG });
  await checkClean(t, f, node, leaf1, leaf2);
  const s = await node.status();
  for (const p of s.bgp!.peers) t.equal(p.lastError, null, `podroute: ${p.address} no error at all`);
});

t.test('podroute first: refused connects, then a clean first Established', { skip: gate.skip }, async (t) => {
  const f = await fabric(t);
  const node = await startPodroute(f.nodeNs, { config: NODE_CONFIG });
  await waitFor(
    async () => (await node.status()).bgp?.peers.every((p) => p.lastError === 'connect: ECONNREFUSED'),
    { timeoutMs: 10_000, intervalMs: 50, what: 'podroute dialling leafs that do not listen yet' },
  );
  const [leaf1, leaf2] = await startLeafs(f);
  await checkClean(t, f, node, leaf1, leaf2);
});
