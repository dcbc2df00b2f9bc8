/**
 * The daemon with `node.source: kubernetes`, driving the real client library against a local
 * stand-in that follows the Kubernetes API conventions (test/k8s/api-server.ts; not a real API
 * server): the Node's labels place it in its IPAM group, its InternalIP is the router id, a label
 * change is seen within a second and moves only the blocks claimed after it (nothing is
 * renumbered), and `ipam.mode: kubernetes` announces spec.podCIDRs and follows their changes.
 * In-process, no BGP, `routes.manage: false`: nothing touches the network.
 */
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { tempDir } from '../../lab/fixture/temp-dir.js';
import { callApi } from '../../src/api/client.js';
import { parseConfig } from '../../src/config/index.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { systemClock } from '../../src/lib/clock.js';
import { parsePrefix, prefixContains } from '../../src/net/prefix.js';
import { FakeKubeApi, makeNode } from './api-server.js';
import { recordingLogger, waitFor, writeKubeconfig } from './helpers.js';

const ZONE = 'topology.kubernetes.io/zone';

async function start(
  t: Test,
  ipamYaml: string,
  node = makeNode('node1', { labels: { [ZONE]: 'a' }, addresses: ['198.18.0.2', '2001:db8::2'] }),
) {
  const dir = tempDir('podroute-k8s-daemon-');
  const api = new FakeKubeApi();
  api.token = 'test-token';
  api.put(node);
  await api.listen();
  const saved = { KUBECONFIG: process.env.KUBECONFIG, KSH: process.env.KUBERNETES_SERVICE_HOST };
  process.env.KUBECONFIG = writeKubeconfig(api.url);
  delete process.env.KUBERNETES_SERVICE_HOST;
  const config = parseConfig(
    [
      'node: { source: kubernetes, name: node1 }',
      `api: { socket: ${join(dir, 'api.sock')} }`,
      'routes: { manage: false }',
      ipamYaml.replaceAll('DIR', dir),
    ].join('\n'),
  );
  const logger = recordingLogger();
  const daemon = new Daemon({ config, logger, clock: systemClock });
  t.teardown(async () => {
    await daemon.stop();
    await api.close();
    process.env.KUBECONFIG = saved.KUBECONFIG;
    if (saved.KSH !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved.KSH;
  });
  await daemon.start();
  const sock = join(dir, 'api.sock');
  const add = async (id: string) => {
    const r = await callApi(sock, 'POST', '/cni/add', { containerId: id, ifname: 'eth0', args: {} });
    t.equal(r.status, 200, `add ${id}`);
    return r.body as { address: string; block: string };
  };
  return { api, daemon, logger, sock, add };
}

const podrouteIpam = `
ipam:
  store: file://DIR/ipam.json
  stateDir: DIR
  quarantine: 0
  networks: [{ name: pods, cidr: 198.19.0.0/16, blockSize: 30 }]
  groups:
    - { name: zone-a, selector: { ${ZONE}: a }, cidrs: [198.19.0.0/20] }
    - { name: zone-b, selector: { ${ZONE}: b }, cidrs: [198.19.16.0/20] }
`;

t.test('Node labels place the node; a label change moves only later blocks', async (t) => {
  const { api, daemon, logger, sock, add } = await start(t, podrouteIpam);
  t.equal(daemon.routerId, '198.18.0.2', 'router id: the first IPv4 InternalIP');
  const show = (await callApi(sock, 'GET', '/ipam')).body as { nodes?: unknown };
  t.match(JSON.stringify(show), /zone-a/, 'placed in zone-a by its zone label');
  const first = await add('c1');
  t.ok(
    prefixContains(parsePrefix('198.19.0.0/20'), parsePrefix(`${first.address}/32`)),
    `${first.address} in zone-a`,
  );

  const at = Date.now();
  api.label('node1', { [ZONE]: 'b' });
  const moved = await waitFor(
    () => logger.records.find((r) => r.msg.startsWith('node labels moved it to another group')),
    'the move',
    1000,
  );
  t.ok(Date.now() - at < 1000, `label change acted on after ${Date.now() - at} ms`);
  t.same({ from: moved.obj.from, to: moved.obj.to }, { from: 'zone-a', to: 'zone-b' });
  t.ok(
    logger.records.some((r) => r.msg === 'Node labels changed'),
    'the label change is logged',
  );

  // Fill past the first block: the next block comes from zone-b; c1 keeps its address and block.
  const later = [];
  for (let i = 2; i <= 6; i++) later.push(await add(`c${i}`));
  const fresh = later.filter((l) => l.block !== first.block);
  t.ok(fresh.length > 0, 'a new block was claimed');
  for (const l of fresh)
    t.ok(prefixContains(parsePrefix('198.19.16.0/20'), parsePrefix(l.block)), `${l.block} in zone-b`);
  const again = await callApi(sock, 'POST', '/cni/check', { containerId: 'c1', ifname: 'eth0', args: {} });
  t.equal((again.body as { address: string }).address, first.address, 'c1 not renumbered');
  const announced = daemon.status().announced;
  t.ok(
    announced.some((p) => prefixContains(parsePrefix('198.19.0.0/20'), parsePrefix(p))),
    'old block still announced',
  );
  t.ok(
    announced.some((p) => prefixContains(parsePrefix('198.19.16.0/20'), parsePrefix(p))),
    'new block announced',
  );
});

t.test('ipam.mode kubernetes announces spec.podCIDRs and follows them', async (t) => {
  const node = makeNode('node1', {
    addresses: ['198.18.0.3'],
    podCIDRs: ['198.19.4.0/24', '2001:db8:4::/64'],
  });
  const { api, daemon } = await start(t, 'ipam: { mode: kubernetes }', node);
  t.same(daemon.status().announced, ['198.19.4.0/24', '2001:db8:4::/64']);
  const n = structuredClone(node);
  n.spec = { podCIDR: '198.19.5.0/24', podCIDRs: ['198.19.5.0/24'] };
  api.put(n);
  await waitFor(() => daemon.status().announced[0] === '198.19.5.0/24', 'the new pod CIDR announced', 1000);
  t.same(daemon.status().announced, ['198.19.5.0/24']);
});

t.test('ipam.mode kubernetes without the Node object is refused', async (t) => {
  const config = parseConfig('node: { source: config, routerId: 198.18.0.9 }\nipam: { mode: kubernetes }');
  t.throws(
    () => new Daemon({ config, logger: recordingLogger(), clock: systemClock }),
    /ipam.mode: "kubernetes" needs the Node object/,
  );
});
