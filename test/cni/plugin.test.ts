import t from 'tap';
import { type PluginIo, runPlugin } from '../../src/cni/plugin.js';

const conf = (v = '1.0.0') =>
  JSON.stringify({
    cniVersion: v,
    name: 'pods',
    type: 'ptp',
    ipam: { type: 'podroute', socket: '/tmp/x.sock' },
  });
const env = (command: string) => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: 'c1',
  CNI_IFNAME: 'eth0',
  CNI_NETNS: '/var/run/netns/p1',
  CNI_ARGS: 'K8S_POD_NAME=web;K8S_POD_NAMESPACE=default',
});

function io(command: string, answer: { status: number; body: unknown } | Error, version?: string) {
  const calls: { socket: string; path: string; body: unknown }[] = [];
  const p: PluginIo = {
    env: env(command),
    stdin: conf(version),
    async call(socket, path, body) {
      calls.push({ socket, path, body });
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { p, calls };
}

t.test('VERSION lists supported versions without reading stdin', async (t) => {
  const out = await runPlugin({
    env: { CNI_COMMAND: 'VERSION' },
    stdin: '',
    call: async () => ({ status: 200, body: {} }),
  });
  t.equal(out.exitCode, 0);
  t.ok(JSON.parse(out.stdout).supportedVersions.includes('1.0.0'));
});

t.test('ADD asks the daemon and returns a CNI 1.0 result', async (t) => {
  const { p, calls } = io('ADD', {
    status: 200,
    body: { address: '198.19.1.5', prefixLength: 26, gateway: '198.19.1.1' },
  });
  const out = await runPlugin(p);
  t.equal(out.exitCode, 0);
  t.same(JSON.parse(out.stdout), {
    cniVersion: '1.0.0',
    ips: [{ address: '198.19.1.5/26', gateway: '198.19.1.1' }],
    routes: [{ dst: '0.0.0.0/0' }],
    dns: {},
  });
  t.same(calls, [
    {
      socket: '/tmp/x.sock',
      path: '/cni/add',
      body: {
        containerId: 'c1',
        ifname: 'eth0',
        args: { K8S_POD_NAME: 'web', K8S_POD_NAMESPACE: 'default' },
        netns: '/var/run/netns/p1',
      },
    },
  ]);
});

t.test('ADD for a 0.4.0 runtime carries the IP version', async (t) => {
  const { p } = io('ADD', { status: 200, body: { address: '2001:db8::5', prefixLength: 64 } }, '0.4.0');
  const r = JSON.parse((await runPlugin(p)).stdout);
  t.same(r.ips, [{ address: '2001:db8::5/64', version: '6' }]);
  t.same(r.routes, [{ dst: '::/0' }]);
});

t.test('errors use the CNI error format and codes', async (t) => {
  let out = await runPlugin(io('ADD', new Error('ECONNREFUSED')).p);
  t.equal(out.exitCode, 1);
  t.match(JSON.parse(out.stdout), {
    cniVersion: '1.0.0',
    code: 11,
    msg: /unreachable/,
    details: 'ECONNREFUSED',
  });
  out = await runPlugin(io('ADD', { status: 507, body: { error: 'no free block in group rack1' } }).p);
  t.match(JSON.parse(out.stdout), { code: 100, msg: 'no free block in group rack1' });
  out = await runPlugin(io('CHECK', { status: 404, body: { error: 'no allocation' } }).p);
  t.match(JSON.parse(out.stdout), { code: 3 });
  out = await runPlugin(io('ADD', { status: 200, body: {} }, '9.9.9').p);
  t.match(JSON.parse(out.stdout), { code: 1, msg: /9\.9\.9/ });
  out = await runPlugin({
    env: { CNI_COMMAND: 'ADD' },
    stdin: conf(),
    call: async () => ({ status: 200, body: {} }),
  });
  t.match(JSON.parse(out.stdout), { code: 4, msg: 'CNI_CONTAINERID is not set' });
  out = await runPlugin({ env: env('ADD'), stdin: '{nope', call: async () => ({ status: 200, body: {} }) });
  t.match(JSON.parse(out.stdout), { code: 6 });
  out = await runPlugin({ env: env('FROB'), stdin: conf(), call: async () => ({ status: 200, body: {} }) });
  t.match(JSON.parse(out.stdout), { code: 4 });
});

t.test('DEL and CHECK print nothing on success', async (t) => {
  for (const c of ['DEL', 'CHECK']) {
    const { p, calls } = io(c, { status: 200, body: { released: false } });
    const out = await runPlugin(p);
    t.same(out, { stdout: '', exitCode: 0 });
    t.equal(calls[0]?.path, `/cni/${c.toLowerCase()}`);
  }
});

t.test('STATUS reports whether the daemon answers', async (t) => {
  t.equal((await runPlugin(io('STATUS', { status: 200, body: {} }).p)).exitCode, 0);
  const out = await runPlugin(io('STATUS', new Error('ENOENT')).p);
  t.match(JSON.parse(out.stdout), { code: 50 });
});

t.test('GC sends the valid attachments and prints nothing; a bad list is refused', async (t) => {
  const gcConf = (list: unknown) =>
    JSON.stringify({
      cniVersion: '1.1.0',
      name: 'pods',
      type: 'ptp',
      ipam: { type: 'podroute', socket: '/tmp/x.sock' },
      ...(list === undefined ? {} : { 'cni.dev/valid-attachments': list }),
    });
  const calls: { path: string; body: unknown }[] = [];
  const call: PluginIo['call'] = async (_socket, path, body) => {
    calls.push({ path, body });
    return { status: 200, body: { released: [] } };
  };
  // GC carries no CNI_CONTAINERID or CNI_IFNAME (SPEC.md "GC").
  const out = await runPlugin({
    env: { CNI_COMMAND: 'GC' },
    stdin: gcConf([
      { containerID: 'c1', ifname: 'eth0' },
      { containerID: 'c2', ifname: 'net1' },
    ]),
    call,
  });
  t.same(out, { stdout: '', exitCode: 0 });
  t.same(calls, [
    {
      path: '/cni/gc',
      body: {
        validAttachments: [
          { containerId: 'c1', ifname: 'eth0' },
          { containerId: 'c2', ifname: 'net1' },
        ],
      },
    },
  ]);
  const empty = await runPlugin({ env: { CNI_COMMAND: 'GC' }, stdin: gcConf([]), call });
  t.equal(empty.exitCode, 0, 'an empty list is a list: every allocation is stale');
  t.same(calls[1]?.body, { validAttachments: [] });

  calls.length = 0;
  for (const bad of [
    undefined,
    'c1',
    [{ containerID: 'c1' }],
    [null],
    [{ containerID: '', ifname: 'eth0' }],
  ]) {
    const r = await runPlugin({ env: { CNI_COMMAND: 'GC' }, stdin: gcConf(bad), call });
    t.equal(r.exitCode, 1, `refused: ${JSON.stringify(bad)}`);
    t.match(JSON.parse(r.stdout), { cniVersion: '1.1.0', code: 7, msg: /cni\.dev\/valid-attachments/ });
  }
  t.same(calls, [], 'a bad list never reaches the daemon (read as empty it would release everything)');
  const down = await runPlugin({
    env: { CNI_COMMAND: 'GC' },
    stdin: gcConf([]),
    call: async () => {
      throw new Error('ECONNREFUSED');
    },
  });
  t.match(JSON.parse(down.stdout), { code: 11 });
});

t.test('VERSION lists 1.1.0 (GC and STATUS)', async (t) => {
  const out = await runPlugin({
    env: { CNI_COMMAND: 'VERSION' },
    stdin: '',
    call: async () => ({ status: 200, body: {} }),
  });
  t.ok(JSON.parse(out.stdout).supportedVersions.includes('1.1.0'));
});
