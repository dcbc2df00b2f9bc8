/**
 * `podroute run` with an `aws:` section, through bin/podroute (dist/: `npm run build` first):
 * the daemon leads the cluster's VPC routes (file store, lock-file leadership) against the local
 * EC2-compatible server (fake-ec2.ts — not EC2), writes the routes of the store's nodes, and
 * shows the controller's view in `podroute status --json`. Kernel routes are off
 * (`routes.manage: false`): nothing is written to this machine's tables.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { FileBlockStore } from '../../../src/ipam/store/file.js';
import { FakeEc2 } from './fake-ec2.js';

const BIN = new URL('../../../bin/podroute', import.meta.url).pathname;
const { NODE_OPTIONS: _, ...baseEnv } = process.env;

t.test('the daemon runs the VPC route controller and reports it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podroute-aws-daemon-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ec2 = new FakeEc2();
  const endpoint = await ec2.listen();
  t.teardown(() => ec2.close());
  const table = ec2.addTable('vpc-0d43', '198.18.0.0/16', ['subnet-a']);
  const storePath = join(dir, 'ipam.json');
  const store = new FileBlockStore(storePath);
  t.teardown(() => store.close());
  for (const [i, name] of ['w1', 'w2'].entries()) {
    ec2.addInstance({
      instanceId: `i-0${i + 1}`,
      vpcId: 'vpc-0d43',
      zone: 'us-east-1a',
      subnet: 'subnet-a',
      eniId: `eni-0${i + 1}`,
      address: `198.18.1.${i + 11}`,
    });
    await store.register(name, { addresses: [`198.18.1.${i + 11}`] });
    await store.claim({
      block: `198.19.${i}.0/26`,
      node: name,
      group: 'default',
      network: 'pods',
      claimId: name,
    });
  }
  const sock = join(dir, 'podroute.sock');
  const config = join(dir, 'podroute.yaml');
  writeFileSync(
    config,
    JSON.stringify({
      node: { name: 'ctl', routerId: '198.18.0.2' },
      api: { socket: sock },
      ipam: {
        store: `file://${storePath}`,
        stateDir: join(dir, 'state'),
        networks: [{ name: 'pods', cidr: '198.19.0.0/16', blockSize: 26 }],
      },
      routes: { manage: false },
      aws: { region: 'us-east-1', endpoint, interval: 5 },
    }),
  );
  const env = { ...baseEnv, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test' };
  const child: ChildProcess = spawn(BIN, ['run', '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  t.teardown(() => {
    child.kill('SIGTERM');
  });
  type Aws = { leader: boolean; lastApply: { ok: boolean } | null; plan: { routesUsed: number } | null };
  let aws: Aws | undefined;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const r = spawnSync(BIN, ['status', '--json', '--socket', sock], { encoding: 'utf8', env });
    if (r.status === 0) {
      aws = (JSON.parse(r.stdout) as { aws?: Aws }).aws;
      if (aws?.lastApply?.ok) break;
    }
    await new Promise((res) => setTimeout(res, 200));
  }
  t.match(
    aws,
    { leader: true, lastApply: { ok: true }, plan: { routesUsed: 2 } },
    'status --json: the leader’s plan and a good pass',
    {
      stderr,
    },
  );
  t.same(
    Object.fromEntries([...table.routes].filter(([, r]) => r.eniId).map(([d, r]) => [d, r.eniId])),
    { '198.19.0.0/26': 'eni-01', '198.19.1.0/26': 'eni-02' },
    'the VPC table holds the store nodes’ routes',
  );
  const table2 = spawnSync(BIN, ['status', '--socket', sock], { encoding: 'utf8', env });
  t.match(table2.stdout, /AWS VPC routes {2}leader \(file\) {2}routes 2\/49\n/, 'status for people');
  t.match(table2.stdout, /Not an EC2 instance: ctl /, 'the daemon’s own node is no instance here');
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM: clean exit');
});
