/**
 * The daemon's VLAN wiring (src/daemon/vlan-wiring.ts) with a ManualClock and a stand-in ping: the
 * VLANs present come from IPAM (a block here), the gateway is pinged on the timer, the status
 * says whether it answered and how many pods each VLAN has, and the text view shows it.
 */
import t from 'tap';
import type { StatusJson } from '../../src/api/status.js';
import { formatStatus } from '../../src/cli/format-status.js';
import { ipamSchema } from '../../src/config/ipam.js';
import { GATEWAY_PROBE_INTERVAL_S, startVlans } from '../../src/daemon/vlan-wiring.js';
import { Ipam } from '../../src/ipam/ipam.js';
import { MemoryNodeState } from '../../src/ipam/state.js';
import { MemoryBlockStore } from '../../src/ipam/store/memory.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';

const net = (name: string, vlan: number, third: number) => ({
  name,
  cidr: `198.19.${third}.0/24`,
  blockSize: 27,
  vlan,
  gateway: `198.19.${third}.1`,
  interface: `eth1.${vlan}`,
});

async function setup(networks: object[]) {
  const clock = new ManualClock(1000);
  const ipam = await Ipam.open({
    config: ipamSchema.parse({ networks }),
    node: { name: 'n1', labels: {} },
    store: new MemoryBlockStore(),
    clock,
    logger: silentLogger,
    state: new MemoryNodeState(),
  });
  return { clock, ipam };
}

const flush = () => new Promise((r) => setImmediate(r));

t.test('VLANs from IPAM, gateway pings on the timer, status and text', async (t) => {
  const { clock, ipam } = await setup([
    net('vlan-a', 100, 100),
    net('vlan-b', 200, 200),
    { name: 'plain', cidr: '198.19.0.0/24' },
  ]);
  const answers = new Map([['198.19.100.1', true]]);
  const pinged: string[] = [];
  const wiring = await startVlans(ipam, clock, silentLogger, async (ifname, gw) => {
    pinged.push(`${ifname} ${gw}`);
    return answers.get(gw) ?? false;
  });
  t.ok(wiring, 'VLAN networks configured: wiring runs');
  t.teardown(async () => {
    await wiring?.stop();
    await ipam.close();
  });
  t.same(wiring!.list(), [], 'no block yet: no VLAN present');
  await ipam.allocate({ containerId: 'a1', ifname: 'eth0' }, { network: 'vlan-a' });
  await ipam.allocate({ containerId: 'a2', ifname: 'eth0' }, { network: 'vlan-a' });
  await ipam.allocate({ containerId: 'b1', ifname: 'eth0' }, { network: 'vlan-b' });
  await ipam.allocate({ containerId: 'p1', ifname: 'eth0' }, { network: 'plain' });
  t.same(
    wiring!.list().map((v) => `${v.network} ${v.vlan} ${v.interface} ${v.gateway} ${v.blocks.length}`),
    ['vlan-a 100 eth1.100 198.19.100.1 1', 'vlan-b 200 eth1.200 198.19.200.1 1'],
  );
  const doc: StatusJson = { node: 'n1', routerId: '198.18.0.1', announced: [] };
  t.match(wiring!.addStatus(doc).vlans, [
    { network: 'vlan-a', gatewayAlive: null, pods: 2, table: 10100 },
    { network: 'vlan-b', gatewayAlive: null, pods: 1, table: 10200 },
  ]);
  clock.advance(GATEWAY_PROBE_INTERVAL_S * 1000);
  await flush();
  await wiring!.probeAll();
  t.same(pinged.slice(-2).sort(), ['eth1.100 198.19.100.1', 'eth1.200 198.19.200.1']);
  const s = wiring!.addStatus(doc);
  t.match(s.vlans, [
    { network: 'vlan-a', gatewayAlive: true },
    { network: 'vlan-b', gatewayAlive: false },
  ]);
  const text = formatStatus(s);
  t.match(text, /VLAN\s+Network\s+Interface\s+Gateway\s+Answers\s+Table\s+Pods/);
  t.match(text, /100\s+vlan-a\s+eth1\.100\s+198\.19\.100\.1\s+yes\s+10100\s+2/);
  t.match(text, /200\s+vlan-b\s+eth1\.200\s+198\.19\.200\.1\s+NO\s+10200\s+1/);
  const before = pinged.length;
  answers.set('198.19.200.1', true);
  clock.advance(GATEWAY_PROBE_INTERVAL_S * 1000);
  await flush();
  await wiring!.probeAll();
  t.ok(pinged.length > before, 'the timer pings again');
  t.match(wiring!.addStatus(doc).vlans, [{ gatewayAlive: true }, { gatewayAlive: true }]);
});

t.test('no VLAN network configured: nothing runs', async (t) => {
  const { clock, ipam } = await setup([{ name: 'plain', cidr: '198.19.0.0/24' }]);
  t.teardown(() => ipam.close());
  t.equal(await startVlans(ipam, clock, silentLogger, async () => true), undefined);
});
