// POST /cni/exec before IPAM is open, and on a node without podroute's IPAM: the plugin's call
// always gets the daemon's own answer (code 11 while starting, a named refusal without IPAM),
// never "no such endpoint"; STATUS works either way. In-process, through ApiServer.invoke.
import t from 'tap';
import { ApiServer } from '../../src/api/server.js';
import { execCni, refuseCniWithoutIpam, registerCniExec } from '../../src/daemon/cni-exec-api.js';
import { silentLogger } from '../../src/lib/log.js';

const stdin = JSON.stringify({
  cniVersion: '1.0.0',
  name: 'pods',
  type: 'ptp',
  ipam: { type: 'podroute-cni', socket: '/tmp/unused.sock' },
});
const env = (command: string) => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: 'c1',
  CNI_IFNAME: 'eth0',
  CNI_NETNS: '/var/run/netns/p1',
});

function api(): ApiServer {
  const a = new ApiServer('/tmp/unused.sock', silentLogger);
  a.route('GET /status', async () => ({}) as never);
  registerCniExec(a);
  return a;
}

t.test('while IPAM is starting, ADD, DEL and GC answer try again later (11)', async (t) => {
  const a = api();
  for (const command of ['ADD', 'DEL', 'GC']) {
    const conf =
      command === 'GC' ? JSON.stringify({ ...JSON.parse(stdin), 'cni.dev/valid-attachments': [] }) : stdin;
    const out = await execCni(a, { env: env(command), stdin: conf });
    t.equal(out.exitCode, 1, `${command} fails`);
    const err = JSON.parse(out.stdout) as { code: number; msg: string };
    t.equal(err.code, 11, `${command}: code 11`);
    t.match(err.msg, /IPAM is starting/);
  }
  const status = await execCni(a, { env: env('STATUS'), stdin });
  t.equal(status.exitCode, 0, 'STATUS answers: the daemon is there');
});

t.test('without podroute IPAM, ADD names why; the refusal replaces the starting answer', async (t) => {
  const a = api();
  refuseCniWithoutIpam(a, 'no ipam section');
  const out = await execCni(a, { env: env('ADD'), stdin });
  const err = JSON.parse(out.stdout) as { code: number; msg: string };
  t.equal(err.code, 101);
  t.match(err.msg, /IPAM is not enabled on this node: no ipam section/);
  t.equal((await execCni(a, { env: env('STATUS'), stdin })).exitCode, 0, 'STATUS still answers');
});

t.test('a malformed exec body is refused, not thrown', async (t) => {
  const a = api();
  const res = await a.invoke('POST', '/cni/exec', { env: { CNI_COMMAND: 1 }, stdin: '' });
  t.equal(res.status, 400);
  t.match((res.body as { error: string }).error, /env.CNI_COMMAND is not a string/);
});
