/**
 * CNI 1.1 GC end to end (SPEC.md "GC"): the built plugin (`bin/podroute-cni`, as the runtime
 * execs it) against a real daemon in a lab namespace. ADD three attachments, GC with two of them
 * valid: the third's address is released (CHECK says unknown container, the daemon
 * holds two addresses), the two keep theirs. Needs `npm run build`.
 */
import { spawn } from 'node:child_process';
import t from 'tap';
import { daemonEnv, interopGate, Lab, REPO_ROOT, startPodroute } from '../../lab/fixture/index.js';
import { callApi } from '../../src/api/client.js';

const gate = interopGate(['podroute']);

function plugin(env: Record<string, string>, stdin: string) {
  return new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
    const child = spawn(`${REPO_ROOT}/bin/podroute-cni`, [], {
      env: daemonEnv({ CNI_PATH: `${REPO_ROOT}/bin`, ...env }),
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
    child.stdin.end(stdin);
  });
}

t.test('GC through the plugin releases what the runtime no longer lists', { skip: gate.skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const ns = await lab.addNamespace('gc');
  const dir = lab.makeDir('state');
  const node = await startPodroute(ns, {
    config: {
      node: { name: 'gc1', routerId: '198.18.0.1' },
      routes: { manage: false },
      ipam: {
        store: `file://${dir}/ipam.json`,
        stateDir: dir,
        quarantine: 0,
        networks: [{ name: 'pods', cidr: '198.18.0.0/24', blockSize: 28 }],
      },
    },
  });
  const conf = (extra: object = {}) =>
    JSON.stringify({
      cniVersion: '1.1.0',
      name: 'pods',
      type: 'ptp',
      ipam: { type: 'podroute', socket: node.socketPath },
      ...extra,
    });
  const attach = (command: string, id: string, ifname = 'eth0') =>
    plugin(
      { CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_IFNAME: ifname, CNI_NETNS: `/var/run/netns/${id}` },
      conf(),
    );

  const version = await plugin({ CNI_COMMAND: 'VERSION' }, '');
  t.ok(JSON.parse(version.stdout).supportedVersions.includes('1.1.0'), 'VERSION lists 1.1.0');
  const addr = new Map<string, string>();
  for (const id of ['pod-a', 'pod-b', 'pod-c']) {
    const r = await attach('ADD', id);
    t.equal(r.code, 0, `ADD ${id} ${r.stdout}`);
    addr.set(id, JSON.parse(r.stdout).ips[0].address);
  }

  const valid = [
    { containerID: 'pod-a', ifname: 'eth0' },
    { containerID: 'pod-b', ifname: 'eth0' },
  ];
  const gc = await plugin({ CNI_COMMAND: 'GC' }, conf({ 'cni.dev/valid-attachments': valid }));
  t.same(gc, { code: 0, stdout: '' }, 'GC succeeds and prints nothing');

  for (const id of ['pod-a', 'pod-b'])
    t.equal((await attach('CHECK', id)).code, 0, `${id} keeps its address`);
  const gone = await attach('CHECK', 'pod-c');
  t.equal(gone.code, 1);
  t.match(JSON.parse(gone.stdout), { code: 3 }, 'pod-c: unknown container after GC');
  const ipam = await callApi(node.socketPath, 'GET', '/ipam', undefined, 5000);
  t.match(ipam.body, { local: { used: 2 } }, 'the daemon holds two addresses');
  const again = await attach('ADD', 'pod-c');
  t.equal(again.code, 0, 'pod-c can be added again: it starts afresh');
  t.equal(
    JSON.parse((await attach('ADD', 'pod-a')).stdout).ips[0].address,
    addr.get('pod-a'),
    'pod-a kept its address',
  );
  t.equal((await attach('DEL', 'pod-c')).code, 0, 'DEL works after GC');
  t.equal((await attach('DEL', 'pod-c')).code, 0, 'and a second DEL (nothing left) succeeds');

  const bad = await plugin({ CNI_COMMAND: 'GC' }, conf());
  t.match(JSON.parse(bad.stdout), { code: 7 }, 'GC without the list is refused');
  t.equal((await attach('CHECK', 'pod-a')).code, 0, 'and releases nothing');
});
