/**
 * GTSM (RFC 5082) between podroute and FRR. Directly connected with `ttl-security hops 1` on both
 * ends: Established over IPv4 and IPv6. Then FRR one hop further away, behind a third namespace
 * that routes between them, so FRR's segments (sent with TTL 255) arrive with 254: podroute
 * configured for 1 hop never reaches Established, its kernel counts the drops and its status says
 * why; the same topology with `ttlSecurity: 2` comes up, so the refusal was the hop check.
 */
import t from 'tap';
import {
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

function frrConfig(routerId: string, neighbors: { address: string; hops: number }[]): string {
  return frrBgpConfig({
    asn: 65000,
    routerId,
    neighbors: neighbors.map((n) => ({
      address: n.address,
      asn: 65001,
      extra: [`ttl-security hops ${n.hops}`],
    })),
  });
}

/** `passive`: peers podroute only accepts (its dual-stack listener carries the GTSM options). */
function nodeConfig(peers: string[], ttlSecurity: true | number | undefined, passive: string[] = []) {
  return {
    node: { name: 'node1', routerId: '198.18.0.1' },
    announce: ['198.19.1.0/24', '2001:db8:100::/48'],
    bgp: {
      asn: 65001,
      peers: peers.map((address) => ({
        address,
        asn: 65000,
        holdTime: 9,
        connectRetryTime: 2,
        passive: passive.includes(address),
        ...(ttlSecurity !== undefined ? { ttlSecurity } : {}),
      })),
    },
  };
}

async function minTtlDrops(ns: Namespace): Promise<number> {
  const r = await ns.exec('nstat', ['-az', 'TcpExtTCPMinTTLDrop']);
  const m = /TcpExtTCPMinTTLDrop\s+(\d+)/.exec(r.stdout);
  return m ? Number(m[1]) : 0;
}

t.test(
  'GTSM with FRR ttl-security hops 1, directly connected: Established',
  { skip: gate.skip },
  async (t) => {
    const lab = await Lab.create();
    t.teardown(() => lab.destroy());
    const leafNs = await lab.addNamespace('leaf');
    const nodeNs = await lab.addNamespace('node');
    await addUplink(lab, leafNs, nodeNs, 0);
    const frr = await startFrr(leafNs, {
      config: frrConfig('198.18.0.0', [
        { address: '198.18.0.1', hops: 1 },
        { address: '2001:db8::1', hops: 1 },
      ]),
    });
    const node = await startPodroute(nodeNs, {
      config: nodeConfig(['198.18.0.0', '2001:db8::'], true, ['198.18.0.0']),
    });
    await waitEstablished(node, ['198.18.0.0', '2001:db8::'], 30_000);
    await frr.waitBgpEstablished('198.18.0.1');
    await frr.waitBgpEstablished('2001:db8::1');
    // FRR's ttl-security hops 1 drops anything below TTL 255 (IP_MINTTL on its sockets): a session
    // only comes up if podroute sends with 255, which the default TTL (64) would not be.
    t.pass('IPv4 (podroute passive) and IPv6 (podroute active) Established with GTSM on both ends');
    t.equal((await waitRoute(leafNs, '198.19.1.0/24')).gateway, '198.18.0.1', 'the route arrives');
    // (No count of dropped segments here: kernel-made RSTs during connection collisions carry the
    // default TTL and are dropped too, by design of RFC 5082.)

    // Without ttlSecurity podroute sends with the default TTL, and FRR's check refuses it. (FRR
    // sets its minimum on a socket only after accept(), so our first segments may get through and
    // podroute may see an OPEN; FRR itself must never get to Established.)
    await node.stop();
    await startPodroute(nodeNs, { config: nodeConfig(['198.18.0.0'], undefined) });
    await waitFor(async () => (await frr.bgpState('198.18.0.1')) !== 'Established', {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'FRR notices the first podroute is gone',
    });
    const end = Date.now() + 6000;
    let up = false;
    while (Date.now() < end) {
      up ||= (await frr.bgpState('198.18.0.1')) === 'Established';
      await new Promise((r) => setTimeout(r, 250));
    }
    t.notOk(up, 'podroute without ttlSecurity (TTL 64) is refused by FRR ttl-security hops 1');
  },
);

/**
 * node eth1 198.18.0.1/31, 2001:db8::1/127 — mid — leaf eth1 198.18.0.3/31, 2001:db8::3/127;
 * mid forwards, and each end routes the far /31 and /127 through it.
 */
async function twoHops(lab: Lab): Promise<{ leafNs: Namespace; nodeNs: Namespace }> {
  const nodeNs = await lab.addNamespace('node');
  const midNs = await lab.addNamespace('mid');
  const leafNs = await lab.addNamespace('leaf');
  await lab.addLink(
    { ns: midNs, ifname: 'eth1', addresses: ['198.18.0.0/31', '2001:db8::/127'] },
    { ns: nodeNs, ifname: 'eth1', addresses: ['198.18.0.1/31', '2001:db8::1/127'] },
  );
  await lab.addLink(
    { ns: midNs, ifname: 'eth2', addresses: ['198.18.0.2/31', '2001:db8::2/127'] },
    { ns: leafNs, ifname: 'eth1', addresses: ['198.18.0.3/31', '2001:db8::3/127'] },
  );
  await midNs.sysctl({ 'net.ipv4.ip_forward': 1, 'net.ipv6.conf.all.forwarding': 1 });
  await nodeNs.ip(['route', 'add', '198.18.0.2/31', 'via', '198.18.0.0']);
  await nodeNs.ip(['-6', 'route', 'add', '2001:db8::2/127', 'via', '2001:db8::']);
  await leafNs.ip(['route', 'add', '198.18.0.0/31', 'via', '198.18.0.2']);
  await leafNs.ip(['-6', 'route', 'add', '2001:db8::/127', 'via', '2001:db8::2']);
  return { leafNs, nodeNs };
}

t.test('GTSM: a sender one hop further away is refused', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const { leafNs, nodeNs } = await twoHops(lab);
  t.ok(await nodeNs.ping('198.18.0.3'), 'the leaf is reachable through mid');
  // FRR accepts us from 2 hops (TTL 254) and sends with 255, which arrives here as 254. The IPv4
  // session is passive on podroute (FRR's SYNs meet the listener), the IPv6 one active.
  const frr = await startFrr(leafNs, {
    config: frrConfig('198.18.0.3', [
      { address: '198.18.0.1', hops: 2 },
      { address: '2001:db8::1', hops: 2 },
    ]),
  });
  const peers = ['198.18.0.3', '2001:db8::3'];
  let node: PodrouteNode = await startPodroute(nodeNs, {
    config: nodeConfig(peers, true, ['198.18.0.3']),
  });

  const seen = new Set<string>();
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    const s = await node.status();
    for (const p of s.bgp?.peers ?? []) if (p.state === 'Established') seen.add(p.address);
    for (const a of ['198.18.0.1', '2001:db8::1']) if ((await frr.bgpState(a)) === 'Established') seen.add(a);
    await new Promise((r) => setTimeout(r, 250));
  }
  t.same([...seen], [], 'never Established in 10 s, on either end, IPv4 or IPv6');
  t.ok(node.running, 'the daemon keeps running');
  t.ok((await minTtlDrops(nodeNs)) > 0, "podroute's kernel dropped FRR's segments for their TTL");
  const status = await node.status();
  for (const p of status.bgp?.peers ?? []) {
    t.match(
      p.lastError,
      /with ttlSecurity configured, the peer may be more than 1 hop away or not sending with TTL 255/,
      `${p.address}: ${p.lastError}`,
    );
  }

  // The same path with the right hop count comes up: the refusal above was the TTL check.
  await node.stop();
  node = await startPodroute(nodeNs, { config: nodeConfig(peers, 2, ['198.18.0.3']) });
  await waitEstablished(node, peers, 30_000);
  await waitFor(async () => (await frr.bgpState('198.18.0.1')) === 'Established', {
    timeoutMs: 15_000,
    intervalMs: 200,
    what: 'FRR → 198.18.0.1 Established',
  });
  t.pass('ttlSecurity: 2 over the same two hops: Established');
});
