/**
 * containerlab/multi-vlan.clab.yml end to end through `bin/podroute lab`: host1's pods ask for VLAN A
 * and VLAN B (`podroute.lab/pod-networks`, passed as `podroute.io/network` in CNI_ARGS), host2's pod
 * lands in VLAN A; `lab check` reaches every pair, and the pairs across VLANs go through the gateway
 * node (its counters on both VLAN legs rise), then `lab down` leaves nothing. The packet-level proof
 * (flat counters inside a VLAN, tcpdump, gateway down) is test/vlan/multi-vlan.test.ts.
 */
import t from 'tap';
import { interopGate, run } from '../../lab/fixture/index.js';
import { parsePrefix, prefixContains } from '../../src/net/prefix.js';
import { upLab } from './topology-lab.js';

const gate = interopGate(['ping', 'podroute']);

async function forwarded(ns: string, dev: string): Promise<number> {
  const r = await run('ip', ['netns', 'exec', ns, 'ip', '-s', '-j', 'link', 'show', dev]);
  const [link] = JSON.parse(r.stdout) as { stats64: { rx: { packets: number } } }[];
  return link?.stats64.rx.packets ?? 0;
}

t.test('multi-vlan: pods in their VLANs, check through the gateway, down', { skip: gate.skip }, async (t) => {
  const lab = await upLab(t, 'multi-vlan.clab.yml', 'hv');
  const inNet = (pod: string, cidr: string) => {
    const p = lab.pods.find((x) => x.name === pod);
    const a = p?.addresses[0]?.split('/')[0];
    return a !== undefined && prefixContains(parsePrefix(cidr), parsePrefix(`${a}/32`));
  };
  t.equal(lab.pods.length, 3, 'two pods on host1, one on host2');
  t.ok(inNet('host1-pod1', '198.19.100.0/24'), 'host1-pod1 in VLAN A');
  t.ok(inNet('host1-pod2', '198.19.200.0/24'), 'host1-pod2 in VLAN B (asked in CNI_ARGS)');
  t.ok(inNet('host2-pod1', '198.19.100.0/24'), 'host2-pod1 in VLAN A');
  const gw = `${lab.name}-gw`;
  const before = { a: await forwarded(gw, 'gwa'), b: await forwarded(gw, 'gwb') };
  const c = await lab.check(30);
  t.equal(c.code, 0, `lab check passes (${c.seconds.toFixed(1)} s)`);
  t.equal(c.report?.lost, 0, 'no pair lost');
  const after = { a: await forwarded(gw, 'gwa'), b: await forwarded(gw, 'gwb') };
  t.ok(after.b > before.b, `VLAN B pod's traffic reached the gateway (gwb rx ${before.b} → ${after.b})`);
  t.ok(after.a > before.a, `VLAN A side crossed the gateway too (gwa rx ${before.a} → ${after.a})`);
  await lab.down(t);
});
