/**
 * Choosing the network: `podroute.io/network` in CNI_ARGS or `args.cni` reaches the daemon as the
 * request's network; IPAM allocates from exactly that network or refuses, naming the network or
 * the group; the CNI endpoint turns the refusal into CNI error 102.
 */
import t from 'tap';
import type { ApiResponse } from '../../src/api/client.js';
import type { CniRequest } from '../../src/api/cni.js';
import { type PluginIo, parseArgs, requestedNetwork, runPlugin } from '../../src/cni/plugin.js';
import { ipamSchema } from '../../src/config/ipam.js';
import { Ipam, IpamNetworkError } from '../../src/ipam/ipam.js';
import { MemoryNodeState } from '../../src/ipam/state.js';
import { MemoryBlockStore } from '../../src/ipam/store/memory.js';
import { ManualClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/log.js';

t.test('requestedNetwork reads CNI_ARGS and args.cni, refuses conflicts', async (t) => {
  const args = parseArgs('IgnoreUnknown=1;K8S_POD_NAME=a;podroute.io/network=vlan-a');
  t.equal(args['podroute.io/network'], 'vlan-a');
  t.equal(requestedNetwork({}, args), 'vlan-a');
  t.equal(requestedNetwork({ args: { cni: { 'podroute.io/network': 'vlan-b' } } }, {}), 'vlan-b');
  t.equal(
    requestedNetwork({ args: { cni: { 'podroute.io/network': 'vlan-a' } } }, args),
    'vlan-a',
    'same twice',
  );
  t.equal(requestedNetwork({}, {}), undefined, 'nothing asked: IPAM picks');
  t.throws(() => requestedNetwork({ args: { cni: { 'podroute.io/network': 'vlan-b' } } }, args), {
    code: 7,
    message: /vlan-b \(args.cni\) and vlan-a \(CNI_ARGS\) disagree/,
  });
  t.throws(() => requestedNetwork({ args: { cni: { 'podroute.io/network': 3 } } }, {}), {
    code: 7,
    message: /is not a network name/,
  });
  t.throws(() => requestedNetwork({}, { 'podroute.io/network': '' }), { code: 4 });
});

t.test('the plugin sends the network on ADD and maps the refusal', async (t) => {
  const sent: (CniRequest | undefined)[] = [];
  const io = (env: Record<string, string>, answer: ApiResponse): PluginIo => ({
    env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0', ...env },
    stdin: JSON.stringify({ cniVersion: '1.0.0', name: 'pods', ipam: { type: 'podroute' } }),
    call: async (_s, _p, body) => {
      sent.push(body as CniRequest);
      return answer;
    },
  });
  const ok = await runPlugin(
    io(
      { CNI_ARGS: 'podroute.io/network=vlan-a' },
      { status: 200, body: { address: '198.19.100.2', prefixLength: 24 } },
    ),
  );
  t.equal(ok.exitCode, 0);
  t.equal(sent[0]?.network, 'vlan-a');
  const refused = await runPlugin(
    io(
      { CNI_ARGS: 'podroute.io/network=vlan-z' },
      { status: 400, body: { error: 'network vlan-z is not defined (ipam.networks)', code: 102 } },
    ),
  );
  t.equal(refused.exitCode, 1);
  t.match(JSON.parse(refused.stdout), { code: 102, msg: 'network vlan-z is not defined (ipam.networks)' });
  await runPlugin(io({}, { status: 200, body: { address: '198.19.100.3', prefixLength: 24 } }));
  t.equal(sent[2]?.network, undefined, 'no network asked: none sent');
});

t.test('IPAM allocates from the asked network or refuses naming network or group', async (t) => {
  const config = ipamSchema.parse({
    networks: [
      {
        name: 'vlan-a',
        cidr: '198.19.100.0/24',
        blockSize: 27,
        vlan: 100,
        gateway: '198.19.100.1',
        interface: 'eth1.100',
      },
      {
        name: 'vlan-b',
        cidr: '198.19.200.0/24',
        blockSize: 27,
        vlan: 200,
        gateway: '198.19.200.1',
        interface: 'eth1.200',
      },
    ],
    groups: [
      { name: 'rack1', selector: { rack: '1' } },
      { name: 'rack2', selector: { rack: '2' }, networks: ['vlan-a'] },
    ],
  });
  const store = new MemoryBlockStore();
  const open = (name: string, rack: string) =>
    Ipam.open({
      config,
      node: { name, labels: { rack } },
      store,
      clock: new ManualClock(1000),
      logger: silentLogger,
      state: new MemoryNodeState(),
    });
  const n1 = await open('n1', '1');
  const n2 = await open('n2', '2');
  t.teardown(async () => {
    await n1.close();
    await n2.close();
  });
  const b = await n1.allocate({ containerId: 'b', ifname: 'eth0' }, { network: 'vlan-b' });
  t.match(b, { network: 'vlan-b', vlan: 200, gateway: '198.19.200.1', prefixLength: 24 });
  t.match(n1.localBlocks(), [{ network: 'vlan-b', used: 1 }]);
  await t.rejects(n1.allocate({ containerId: 'z', ifname: 'eth0' }, { network: 'vlan-z' }), {
    constructor: IpamNetworkError,
    message: 'network vlan-z is not defined (ipam.networks)',
    network: 'vlan-z',
  });
  await t.rejects(n2.allocate({ containerId: 'x', ifname: 'eth0' }, { network: 'vlan-b' }), {
    constructor: IpamNetworkError,
    message: "network vlan-b is not one of group rack2's networks",
    group: 'rack2',
  });
  t.same(n2.localBlocks(), [], 'no fallback: nothing allocated on n2');
});

t.test('interface needs vlan and gateway', async (t) => {
  const r = ipamSchema.safeParse({ networks: [{ name: 'p', cidr: '198.19.0.0/24', interface: 'eth1.100' }] });
  t.notOk(r.success);
  t.match(r.error?.issues[0], { path: ['networks', 0, 'interface'], message: /needs vlan and gateway/ });
});
