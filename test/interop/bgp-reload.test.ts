/**
 * Live reload against real FRR bgpd in namespaces: one leaf with two sessions to the node (IPv4 and
 * IPv6 uplink addresses). Adding a peer, changing announcements, a broken file, removing a peer and
 * a SIGHUP are each applied by `podroute reload` (or the signal) while FRR's untouched session
 * keeps its uptime: connectionsEstablished never changes, the session's uptime (bgpTimerUpMsec,
 * whole seconds) never goes back, and bgpTimerUpEstablishedEpoch stays within the 1 s that FRR's rounding of it allows (it
 * is computed as wall time minus uptime, so two reads of an unchanged session can differ by 1).
 */
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { stringify } from 'yaml';
import { frrBgpConfig, interopGate, Lab, startFrr, startPodroute, waitFor } from '../../lab/fixture/index.js';
import {
  addUplink,
  reloadNode as reload,
  rewriteConfig as rewrite,
  waitEstablished,
  waitNoRoute,
  waitRoute,
} from './bgp-helpers.js';

const gate = interopGate(['frr', 'podroute']);

interface FrrNeighbor {
  bgpState: string;
  bgpTimerUpEstablishedEpoch?: number;
  bgpTimerUpMsec?: number;
  connectionsEstablished?: number;
  lastNotificationReason?: string;
  lastErrorCodeSubcode?: string;
}

const LEAF_CONFIG = frrBgpConfig({
  asn: 65000,
  routerId: '198.18.0.0',
  neighbors: [
    { address: '198.18.0.1', asn: 65001 },
    { address: '2001:db8::1', asn: 65001 },
  ],
});

const V4 = { address: '198.18.0.0', asn: 65000, holdTime: 9 };
const V6 = { address: '2001:db8::', asn: 65000, holdTime: 9 };

function config(peers: object[], announce: string[]) {
  return { node: { name: 'node1', routerId: '198.18.0.1' }, announce, bgp: { asn: 65001, peers } };
}

t.test('reload against FRR: the untouched session is never reset', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const leafNs = await lab.addNamespace('leaf');
  const nodeNs = await lab.addNamespace('node');
  await addUplink(lab, leafNs, nodeNs, 0);
  const leaf = await startFrr(leafNs, { config: LEAF_CONFIG });
  const node = await startPodroute(nodeNs, { config: config([V4], ['198.19.1.0/24']) });
  await waitRoute(leafNs, '198.19.1.0/24');
  await waitEstablished(node, [V4.address]);
  const neighbor = async (a: string) =>
    (await leaf.vtyshJson<Record<string, FrrNeighbor>>(`show bgp neighbors ${a} json`))[a];
  const first = await waitFor(
    async () => {
      const n = await neighbor('198.18.0.1');
      return n?.bgpState === 'Established' ? n : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 100, what: 'FRR Established with 198.18.0.1' },
  );
  t.equal(first.connectionsEstablished, 1);
  let lastUpMsec = first.bgpTimerUpMsec ?? 0;
  const untouched = async (step: string) => {
    const n = await neighbor('198.18.0.1');
    t.equal(n?.bgpState, 'Established', `${step}: the IPv4 session is still Established`);
    t.equal(n?.connectionsEstablished, 1, `${step}: FRR counts one connection only`);
    t.ok(
      // FRR reports the uptime in whole seconds: a reset would take it back towards 0.
      (n?.bgpTimerUpMsec ?? -1) >= lastUpMsec,
      `${step}: FRR's uptime of the IPv4 session keeps counting (${n?.bgpTimerUpMsec} ms >= ${lastUpMsec} ms)`,
    );
    lastUpMsec = n?.bgpTimerUpMsec ?? lastUpMsec;
    const epoch = n?.bgpTimerUpEstablishedEpoch ?? Number.NaN;
    t.ok(
      Math.abs(epoch - (first.bgpTimerUpEstablishedEpoch ?? Number.NaN)) <= 1,
      `${step}: the session's start time is unchanged (${epoch} vs ${first.bgpTimerUpEstablishedEpoch}, ±1 s rounding)`,
    );
  };

  await t.test('adding a peer: it comes up', async (t) => {
    rewrite(node, config([V4, V6], ['198.19.1.0/24']));
    const r = await reload(node);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /bgp peer 2001:db8::: added/);
    await waitEstablished(node, [V4.address, V6.address]);
    await leaf.waitBgpEstablished('2001:db8::1');
    await untouched('add');
  });

  await t.test('changing announcements: UPDATEs, no reset', async (t) => {
    rewrite(node, config([V4, V6], ['198.19.1.0/24', '198.19.2.0/24', '2001:db8:100::/48']));
    const r = await reload(node);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /announcements updated/);
    t.equal((await waitRoute(leafNs, '198.19.2.0/24')).gateway, '198.18.0.1');
    t.equal((await waitRoute(leafNs, '2001:db8:100::/48')).gateway, '2001:db8::1');
    await untouched('announce');
    t.equal((await neighbor('2001:db8::1'))?.connectionsEstablished, 1, 'the IPv6 session too');
  });

  await t.test('a broken file: refused, the old configuration keeps running', async (t) => {
    writeFileSync(
      node.configPath,
      stringify({ ...node.effectiveConfig(), bgp: { asn: 65001, peers: [V4], bogus: 1 } }),
    );
    const r = await reload(node);
    t.equal(r.code, 1, 'reload exits 1');
    t.equal(r.stderr.trim(), 'podroute: reload refused: bgp.bogus: is not a known key');
    t.ok(node.running, 'the daemon is still running');
    const s = await waitEstablished(node, [V4.address, V6.address]);
    t.same(s.announced, ['198.19.1.0/24', '198.19.2.0/24', '2001:db8:100::/48']);
    t.match(node.logs(), /reload refused: bgp\.bogus: is not a known key/);
    await untouched('broken file');
  });

  await t.test('removing a peer: FRR gets a Cease, the other session stays', async (t) => {
    rewrite(node, config([V4], ['198.19.1.0/24', '198.19.2.0/24']));
    const r = await reload(node);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /bgp peer 2001:db8::: removed/);
    const gone = await waitFor(
      async () => {
        const n = await neighbor('2001:db8::1');
        return n && n.bgpState !== 'Established' ? n : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'FRR IPv6 session down' },
    );
    t.match(
      `${gone.lastNotificationReason ?? ''} ${gone.lastErrorCodeSubcode ?? ''}`,
      /Cease|Administrative Shutdown|0602/i,
      'FRR got Cease / Administrative Shutdown',
    );
    await waitNoRoute(leafNs, '2001:db8:100::/48');
    const s = await node.status();
    t.same(
      s.bgp?.peers.map((p) => p.address),
      [V4.address],
    );
    await untouched('remove');
  });

  await t.test('SIGHUP: the same as podroute reload, and the daemon lives', async (t) => {
    rewrite(node, config([V4], ['198.19.1.0/24']));
    node.process!.signal('SIGHUP');
    await waitNoRoute(leafNs, '198.19.2.0/24');
    t.ok(node.running, 'SIGHUP did not end the daemon');
    t.match(node.logs(), /reload applied: announcements updated/);
    t.same((await node.status()).announced, ['198.19.1.0/24']);
    // A broken file on SIGHUP: logged, nothing changes.
    writeFileSync(node.configPath, 'bgp: [');
    node.process!.signal('SIGHUP');
    await waitFor(async () => /reload refused: .*YAML/.test(node.logs()), {
      timeoutMs: 5000,
      intervalMs: 50,
      what: 'the refusal in the log',
    });
    t.ok(node.running);
    await untouched('SIGHUP');
  });

  const exit = await node.sigterm();
  t.equal(exit.code, 0);
});
