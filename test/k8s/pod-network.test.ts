/**
 * The network a pod asks for through its annotation (`podroute.io/network`), read by the daemon
 * from the Kubernetes API when the CNI call names the pod (K8S_POD_NAMESPACE / K8S_POD_NAME in
 * CNI_ARGS, as kubelet passes them). The real client library against the local API stand-in
 * (test/k8s/api-server.ts; not a real API server). In-process, `routes.manage: false`.
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
import { recordingLogger, writeKubeconfig } from './helpers.js';

const IPAM = `
ipam:
  store: file://DIR/ipam.json
  stateDir: DIR
  quarantine: 0
  networks:
    - { name: vlan-a, cidr: 198.19.100.0/24, blockSize: 27, vlan: 100, gateway: 198.19.100.1 }
    - { name: vlan-b, cidr: 198.19.200.0/24, blockSize: 27, vlan: 200, gateway: 198.19.200.1 }
  groups:
    - { name: rack1, selector: { rack: '1' } }
`;

async function start(t: Test) {
  const dir = tempDir('podroute-k8s-pods-');
  const api = new FakeKubeApi();
  api.token = 'test-token';
  api.put(makeNode('node1', { labels: { rack: '1' }, addresses: ['198.18.0.2'] }));
  await api.listen();
  const saved = { KUBECONFIG: process.env.KUBECONFIG, KSH: process.env.KUBERNETES_SERVICE_HOST };
  process.env.KUBECONFIG = writeKubeconfig(api.url);
  delete process.env.KUBERNETES_SERVICE_HOST;
  const sock = join(dir, 'api.sock');
  const config = parseConfig(
    [
      'node: { source: kubernetes, name: node1 }',
      `api: { socket: ${sock} }`,
      'routes: { manage: false }',
      IPAM.replaceAll('DIR', dir),
    ].join('\n'),
  );
  const daemon = new Daemon({ config, logger: recordingLogger(), clock: systemClock });
  t.teardown(async () => {
    await daemon.stop();
    await api.close();
    process.env.KUBECONFIG = saved.KUBECONFIG;
    if (saved.KSH !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved.KSH;
  });
  await daemon.start();
  const add = (id: string, args: Record<string, string>, network?: string) =>
    callApi(sock, 'POST', '/cni/add', {
      containerId: id,
      ifname: 'eth0',
      args,
      ...(network ? { network } : {}),
    });
  return { api, add };
}

const pod = (name: string) => ({ K8S_POD_NAMESPACE: 'shop', K8S_POD_NAME: name });
const inRange = (cidr: string, address: string) =>
  prefixContains(parsePrefix(cidr), parsePrefix(`${address}/32`));

t.test('the pod annotation chooses the network; CNI args win; no annotation: IPAM picks', async (t) => {
  const { api, add } = await start(t);
  api.putPod('shop', 'web', { 'podroute.io/network': 'vlan-b' });
  api.putPod('shop', 'plain', {});
  const web = await add('c1', pod('web'));
  t.equal(web.status, 200);
  t.ok(inRange('198.19.200.0/24', (web.body as { address: string }).address), 'web is in vlan-b');
  const gets = api.requests.filter((r) => r.path === '/api/v1/namespaces/shop/pods/web');
  t.equal(gets.length, 1, 'one Pod read');
  const plain = await add('c2', pod('plain'));
  t.equal(plain.status, 200, 'no annotation: IPAM picks a network with room (the held vlan-b block)');
  t.ok(inRange('198.19.200.0/24', (plain.body as { address: string }).address));
  const before = api.requests.length;
  const direct = await add('c3', pod('web'), 'vlan-a');
  t.ok(inRange('198.19.100.0/24', (direct.body as { address: string }).address), 'CNI args win');
  t.equal(api.requests.length, before, 'no API call when the CNI args name the network');
  const noPod = await add('c4', {});
  t.equal(noPod.status, 200, 'a call that names no pod does not ask the API');
});

t.test('an unknown network in the annotation, a missing pod, a forbidden read', async (t) => {
  const { api, add } = await start(t);
  api.putPod('shop', 'odd', { 'podroute.io/network': 'vlan-z' });
  const odd = await add('c1', pod('odd'));
  t.equal(odd.status, 400);
  t.match(odd.body, { code: 102, error: /network vlan-z is not defined/ });
  const gone = await add('c2', pod('ghost'));
  t.equal(gone.status, 503, 'a pod the API does not show: try again, never a fallback');
  t.match(gone.body, { code: 11, error: /pod shop\/ghost does not exist/ });
  api.putPod('shop', 'web', { 'podroute.io/network': 'vlan-b' });
  api.forbid.add('get-pods');
  const denied = await add('c3', pod('web'));
  t.match(denied.body, { code: 11, error: /needs get on pods \(deploy\/rbac.yaml\)/ });
  api.putPod('shop', 'blank', { 'podroute.io/network': '' });
  api.forbid.delete('get-pods');
  const blank = await add('c4', pod('blank'));
  t.match(blank.body, { code: 7, error: /annotation podroute.io\/network is empty/ });
});
