/**
 * Deleted Nodes with two podroute daemons running (issue "Nodes that are gone"): two real
 * `podroute run` processes (the CLI from source through tsx, so no build is needed) share one
 * IPAM file store in a temporary directory (the file store serves every podroute of one machine)
 * and one local Kubernetes API stand-in (test/k8s/api-server.ts + api-leases.ts: it follows the
 * Kubernetes API conventions, it is NOT a real API server), run in this test's process on
 * loopback. No BGP, `routes.manage: false`: nothing touches the network.
 *
 * Shown: exactly one daemon holds the Lease; a deleted Node's blocks are released once, by that
 * leader only, after `ipam.releaseDeletedNodesAfter`; the leader is killed (SIGKILL: its Lease is
 * not given up) and the other daemon takes over once `ipam.leaderLease` has run out, then
 * releases the next deleted Node's blocks.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import t from 'tap';
import { tempDir } from '../../lab/fixture/temp-dir.js';
import { callApi } from '../../src/api/client.js';
import type { StatusJson } from '../../src/api/status.js';
import { FileBlockStore } from '../../src/ipam/store/file.js';
import { FakeKubeApi, makeNode } from './api-server.js';
import { waitFor, writeKubeconfig } from './helpers.js';

const REPO = resolve(import.meta.dirname, '../..');
const LEASE = 'podroute-ipam-release-deleted-nodes';

interface Line {
  msg?: string;
  node?: string;
  [k: string]: unknown;
}

interface Proc {
  name: string;
  child: ChildProcess;
  lines: Line[];
  exited: Promise<void>;
}

t.test('a deleted Node is released once, by the leader only; the other takes over', async (t) => {
  const dir = tempDir('podroute-node-gc-');
  const api = new FakeKubeApi();
  api.token = 'test-token';
  for (const n of ['node-a', 'node-b', 'node-c', 'node-d'])
    api.put(makeNode(n, { addresses: [`198.18.0.${n.charCodeAt(5) - 96}`] }));
  await api.listen();
  t.teardown(() => api.close());
  const kubeconfig = writeKubeconfig(api.url);

  // node-c and node-d once ran podroute: their claims are in the store, their processes are gone.
  const storePath = join(dir, 'ipam.json');
  const seed = new FileBlockStore(storePath);
  for (const [node, block] of [
    ['node-c', '198.19.0.8/30'],
    ['node-d', '198.19.0.12/30'],
  ] as const) {
    await seed.register(node, { addresses: ['198.18.0.9'] });
    const r = await seed.claim({ block, node, group: 'default', network: 'pods', claimId: `seed-${node}` });
    t.ok(r.ok, `${node} holds ${block}`);
  }
  await seed.close();

  const procs: Proc[] = [];
  t.teardown(async () => {
    for (const p of procs)
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
  });
  const start = (name: string): Proc => {
    const cfg = join(dir, `${name}.yaml`);
    writeFileSync(
      cfg,
      [
        `node: { source: kubernetes, name: ${name} }`,
        `api: { socket: ${join(dir, `${name}.sock`)} }`,
        'routes: { manage: false }',
        'ipam:',
        `  store: file://${storePath}`,
        `  stateDir: ${join(dir, name)}`,
        '  releaseDeletedNodesAfter: 1',
        '  leaderLease: 3',
        '  networks: [{ name: pods, cidr: 198.19.0.0/16, blockSize: 30 }]',
        '',
      ].join('\n'),
    );
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'run', '-c', cfg],
      {
        cwd: REPO,
        env: {
          ...process.env,
          KUBECONFIG: kubeconfig,
          KUBERNETES_SERVICE_HOST: '',
          POD_NAMESPACE: 'podroute',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const lines: Line[] = [];
    let buf = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const text = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          lines.push(JSON.parse(text) as Line);
        } catch {
          lines.push({ msg: text });
        }
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    void exited.then(() => {
      if (err) t.comment(`${name} stderr: ${err.slice(0, 2000)}`);
    });
    const p = { name, child, lines, exited };
    procs.push(p);
    return p;
  };
  const poll = async <T>(fn: () => Promise<T | undefined>, what: string): Promise<T> => {
    for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      const v = await fn();
      if (v) return v;
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const runCli = (args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), ...args], {
        cwd: REPO,
      });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d));
      c.on('error', reject);
      c.on('close', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`podroute ${args[0]}: exit ${code}`)),
      );
    });
  const said = (p: Proc, msg: string) => p.lines.some((l) => l.msg === msg);
  const holder = () => api.leases.get('podroute', LEASE)?.spec?.holderIdentity ?? '';

  const a = start('node-a');
  const b = start('node-b');
  await waitFor(
    () => said(a, 'podroute started') && said(b, 'podroute started'),
    'both daemons started',
    60_000,
  );
  const leaderName = await waitFor(() => holder(), 'a Lease holder', 10_000);
  const [leader, follower] = leaderName === 'node-a' ? [a, b] : [b, a];
  await waitFor(() => said(leader, 'became the leader'), `${leader.name} saying it leads`, 5000);
  t.pass(`${leader.name} says it leads`);
  t.notOk(said(follower, 'became the leader'), `${follower.name} does not`);

  // `podroute status` on both: the same holder, only the leader leading, the holder's renewTime.
  const status = async (p: Proc) =>
    (await callApi(join(dir, `${p.name}.sock`), 'GET', '/status', undefined, 5000)).body as StatusJson;
  const mine = await poll(async () => {
    const gc = (await status(leader)).nodeGc;
    return gc?.lease.leading && gc.lease.renewTime ? gc : undefined;
  }, `${leader.name}'s status showing it leads`);
  t.match(mine.lease, {
    namespace: 'podroute',
    name: LEASE,
    holder: leader.name,
    leading: true,
    leaseDurationSeconds: 3,
    error: null,
  });
  t.equal(mine.lease.renewTime, api.leases.get('podroute', LEASE)?.spec?.renewTime, 'renewTime as stored');
  const theirs = await poll(async () => {
    const gc = (await status(follower)).nodeGc;
    return gc?.lease.holder ? gc : undefined;
  }, `${follower.name}'s status naming the holder`);
  t.match(
    theirs.lease,
    { holder: leader.name, leading: false },
    'the follower names the leader, not leading',
  );
  const text = await runCli(['status', '--socket', join(dir, `${follower.name}.sock`)]);
  t.match(
    text,
    new RegExp(`Deleted-node release  Lease podroute/${LEASE} \\(3 s\\)`),
    'status text: the Lease',
  );
  t.match(text, new RegExp(`Holder +${leader.name} \\(another node; this one is not leading\\)`));
  t.match(text, /Renewed +\d{4}-\d\d-\d\dT/);
  const json = JSON.parse(await runCli(['status', '--json', '--socket', join(dir, `${leader.name}.sock`)]));
  t.match(json.nodeGc.lease, { holder: leader.name, leading: true }, 'status --json: the Lease');

  const released = (p: Proc, node: string) =>
    p.lines.filter((l) => l.msg === `released 1 block(s) of deleted Node ${node}`);
  const storeNodes = async () => {
    const s = new FileBlockStore(storePath);
    try {
      return [...new Set((await s.list()).map((c) => c.node))].sort();
    } finally {
      await s.close();
    }
  };

  api.delete('node-c');
  await waitFor(() => released(leader, 'node-c').length > 0, 'node-c released by the leader', 15_000);
  t.notOk((await storeNodes()).includes('node-c'), 'node-c has no claim left in the store');
  t.ok((await storeNodes()).includes('node-d'), 'node-d (still a Node) keeps its block');
  // Time for a second release to happen, if anything were wrong.
  await new Promise((r) => setTimeout(r, 2500));
  t.equal(released(leader, 'node-c').length, 1, 'released once');
  t.equal(released(follower, 'node-c').length, 0, 'not by the follower');

  // The leader dies without giving the Lease up: the follower waits out leaderLease (3 s).
  const killedAt = Date.now();
  leader.child.kill('SIGKILL');
  await leader.exited;
  await waitFor(() => holder() === follower.name, `${follower.name} holding the Lease`, 15_000);
  const took = Date.now() - killedAt;
  t.ok(took >= 2500, `took over after ${took} ms, not before the lease ran out`);
  // The Lease is stored before the new leader has read the answer and logged it.
  await waitFor(() => said(follower, 'became the leader'), `${follower.name} saying it leads now`, 5000);
  t.pass(`${follower.name} says it leads now`);

  api.delete('node-d');
  await waitFor(() => released(follower, 'node-d').length > 0, 'node-d released by the new leader', 15_000);
  const left = await storeNodes();
  t.notOk(
    left.includes('node-c') || left.includes('node-d'),
    `no deleted node keeps a claim (${left.join(', ')})`,
  );
  t.equal(released(follower, 'node-c').length, 0, 'the new leader did not release node-c again');
});
