/**
 * The command-line contract (commands, options, exit codes), through bin/podroute as an operator runs it.
 * No protocol is configured here, so nothing binds beyond the unix socket in a temp dir.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

const BIN = new URL('../../bin/podroute', import.meta.url).pathname;
// The daemon runs as an operator runs it, without the test runner's loader hooks.
const { NODE_OPTIONS: _, ...env } = process.env;

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'podroute-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function waitForSocket(sock: string, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const poll = () => {
      const r = spawnSync(BIN, ['status', '--json', '--socket', sock], { encoding: 'utf8', env });
      if (r.status === 0) return resolve();
      if (Date.now() - start > timeoutMs) return reject(new Error(`daemon did not answer: ${r.stderr}`));
      setTimeout(poll, 50);
    };
    poll();
  });
}

t.test('a bad config exits 2 with one line naming key, value and rule', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'bgp:\n  asn: 65001\n  peers:\n    - {address: 198.18.0.1, asn: 4294967296}\n');
  const r = spawnSync(BIN, ['run', '--config', file], { encoding: 'utf8', env });
  t.equal(r.status, 2);
  t.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  t.equal(lines.length, 1, r.stderr);
  t.match(lines[0], /bgp\.peers\[0\]\.asn: 4294967296 is not a valid ASN \(0\.\.4294967295\)/);
});

t.test('--version prints the package version and exits 0', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  for (const flag of ['--version', '-V']) {
    const r = spawnSync(BIN, [flag], { encoding: 'utf8', env });
    t.equal(r.status, 0, flag);
    t.equal(r.stdout, `${pkg.version}\n`, flag);
  }
});

t.test('a missing config file exits 2', async (t) => {
  const r = spawnSync(BIN, ['run', '--config', '/nonexistent/podroute.yaml'], { encoding: 'utf8', env });
  t.equal(r.status, 2);
  t.match(r.stderr, /cannot read \(ENOENT\)/);
});

t.test('status exits 1 when the daemon is unreachable', async (t) => {
  const r = spawnSync(BIN, ['status', '--socket', '/nonexistent/podroute.sock'], { encoding: 'utf8', env });
  t.equal(r.status, 1);
  t.match(r.stderr, /cannot reach podroute/);
});

t.test('run serves status over a 0600 socket and exits 0 on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const sock = join(dir, 'api.sock');
  const file = join(dir, 'podroute.yaml');
  writeFileSync(
    file,
    // routes.manage false: this test runs in the root namespace, where no test route may go.
    `node: {name: node1, routerId: 198.18.0.2}\nannounce: [198.19.1.0/24, "2001:db8:1::/48"]\napi: {socket: ${sock}}\nroutes: {manage: false}\n`,
  );
  const child = spawn(BIN, ['run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  await waitForSocket(sock);
  t.equal(statSync(sock).mode & 0o777, 0o600);

  const json = spawnSync(BIN, ['status', '--json', '--socket', sock], { encoding: 'utf8', env });
  t.equal(json.status, 0);
  t.same(JSON.parse(json.stdout), {
    node: 'node1',
    routerId: '198.18.0.2',
    announced: ['198.19.1.0/24', '2001:db8:1::/48'],
  });
  const table = spawnSync(BIN, ['status', '--socket', sock], { encoding: 'utf8', env });
  t.match(table.stdout, /Node node1 +router-id 198\.18\.0\.2/);
  t.match(table.stdout, /Announced: 198\.19\.1\.0\/24, 2001:db8:1::\/48/);

  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const start = Date.now();
  child.kill('SIGTERM');
  t.equal(await exited, 0);
  t.ok(Date.now() - start < 5000, 'exits within 5 s');
  // Every log line is a JSON object.
  for (const line of stdout.trim().split('\n')) t.doesNotThrow(() => JSON.parse(line), line);
  t.match(stdout, /podroute started/);
});

t.test('SIGTERM ends the daemon when the reader of its stdout has gone away (EPIPE)', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'podroute.yaml');
  const sock = join(dir, 'api.sock');
  // No protocol: only the unix socket in the temp dir; logging is all this is about.
  writeFileSync(
    file,
    `node: { name: n1, routerId: 198.18.0.1 }\napi: { socket: ${sock} }\nroutes: { manage: false }\n`,
  );
  const child = spawn(BIN, ['run', '--config', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  // The reader goes: every later write to stdout fails with EPIPE.
  child.stdout.destroy();
  await waitForSocket(sock);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
  t.equal(code, 0, 'exits 0 after SIGTERM, within 10 s');
  t.notMatch(stderr, /uncaught|EPIPE/, 'no crash report on stderr');
});
