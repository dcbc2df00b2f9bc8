/**
 * The plugin executable (`bin/podroute-cni`, compiled from src/cni/shim/podroute-cni.c by `npm run
 * build`) as the runtime execs it: VERSION with no daemon, the errors it writes itself (stdin too
 * large or not JSON, daemon unreachable or answering nonsense), and the pass-through — every
 * CNI_* variable and stdin byte for byte to `POST /cni/exec`, the daemon's stdout and exit code
 * back — against a real ApiServer running the plugin logic (registerCniExec) on stand-in /cni/*
 * handlers, and against raw socket servers that answer in pieces. Needs `npm run build`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ApiError, ApiServer } from '../../src/api/server.js';
import { runPlugin } from '../../src/cni/plugin.js';
import { registerCniExec } from '../../src/daemon/cni-exec-api.js';
import { silentLogger } from '../../src/lib/log.js';

const PLUGIN = new URL('../../bin/podroute-cni', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'podroute-shim-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const sockPath = () => join(dir, `s${n++}.sock`);

interface Out {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(env: Record<string, string>, stdin: string | Buffer): Promise<Out> {
  return new Promise((resolve, reject) => {
    const child = spawn(PLUGIN, [], { env: { PATH: '/usr/bin:/bin', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.stdin.on('error', () => {}); // a plugin that exits before reading everything
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const conf = (socket: string, extra: object = {}) =>
  JSON.stringify({
    cniVersion: '1.0.0',
    name: 'pods',
    type: 'ptp',
    ipam: { type: 'podroute', socket },
    ...extra,
  });
const cni = (command: string) => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: 'c1',
  CNI_IFNAME: 'eth0',
  CNI_NETNS: '/var/run/netns/p1',
  CNI_PATH: '/opt/cni/bin',
});

/** What the JS plugin logic prints for the same call when the daemon cannot be reached. */
async function logicUnreachable(env: Record<string, string>, stdin: string, why: string) {
  const out = await runPlugin({
    env,
    stdin,
    call: async () => {
      throw new Error(why);
    },
  });
  return out;
}

/** A real ApiServer with the exec endpoint over stand-in IPAM handlers. */
async function daemon(t: Test) {
  const path = sockPath();
  const api = new ApiServer(path, silentLogger);
  const seen: { path: string; body: unknown }[] = [];
  // As the daemon does: /cni/exec (and the "IPAM is starting" answers) first, IPAM's handlers after.
  registerCniExec(api);
  api.route('GET /status', async () => {
    seen.push({ path: '/status', body: undefined });
    return {} as never;
  });
  api.route('POST /cni/add', async (body) => {
    seen.push({ path: '/cni/add', body });
    if ((body as { containerId: string }).containerId === 'full') throw new ApiError(507, 'group r1 is full');
    return {
      address: '198.18.0.5',
      prefixLength: 24,
      gateway: '198.18.0.1',
      block: '198.18.0.0/26',
      network: 'pods',
    };
  });
  api.route('POST /cni/del', async (body) => {
    seen.push({ path: '/cni/del', body });
    return { released: true };
  });
  api.route('POST /cni/check', async (body) => {
    seen.push({ path: '/cni/check', body });
    throw new ApiError(404, 'no address is allocated to this container interface');
  });
  await api.listen();
  t.teardown(() => api.close());
  return { path, seen };
}

t.test('VERSION is answered without a daemon, equal to the plugin logic', async (t) => {
  const logic = await runPlugin({
    env: { CNI_COMMAND: 'VERSION' },
    stdin: '',
    call: async () => ({ status: 500, body: {} }),
  });
  for (const stdin of ['', conf('/nonexistent/x.sock'), 'not json at all']) {
    const out = await exec({ CNI_COMMAND: 'VERSION' }, stdin);
    t.equal(out.code, 0);
    t.same(JSON.parse(out.stdout), JSON.parse(logic.stdout), 'same supported versions as src/cni/spec.ts');
  }
});

t.test('errors written without a daemon match the plugin logic', async (t) => {
  const missing = join(dir, 'missing.sock');
  for (const [command, code] of [
    ['ADD', 11],
    ['DEL', 11],
    ['CHECK', 11],
    ['GC', 11],
    ['STATUS', 50],
  ] as const) {
    const stdin = conf(missing, command === 'GC' ? { 'cni.dev/valid-attachments': [] } : {});
    const out = await exec(cni(command), stdin);
    t.equal(out.code, 1, `${command}: exit 1`);
    const logic = await logicUnreachable(cni(command), stdin, `cannot reach podroute at ${missing}: ENOENT`);
    t.same(JSON.parse(out.stdout), JSON.parse(logic.stdout), `${command}: socket missing → code ${code}`);
    t.match(JSON.parse(out.stdout), { code });
  }

  // Daemon down: its socket is still there (a crash leaves it), nothing accepts.
  const stale = sockPath();
  // A process that listened and died without unlinking: SIGKILL leaves the socket file.
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    child.on('error', reject);
    child.on('close', () => resolve());
  });
  const down = await exec(cni('ADD'), conf(stale));
  t.same(
    JSON.parse(down.stdout),
    JSON.parse(
      (await logicUnreachable(cni('ADD'), conf(stale), `cannot reach podroute at ${stale}: ECONNREFUSED`))
        .stdout,
    ),
    'daemon down: code 11, ECONNREFUSED in details',
  );

  const notJson = await exec(cni('ADD'), '{"cniVersion": "1.0.0", ');
  t.equal(notJson.code, 1);
  t.same(
    JSON.parse(notJson.stdout),
    JSON.parse((await logicUnreachable(cni('ADD'), '{"cniVersion": "1.0.0", ', 'x')).stdout),
    'malformed stdin: code 6, as the plugin logic says',
  );
  for (const bad of [
    '',
    '{"a":1,}',
    '{"a":01}',
    '{"a":"\\x"}',
    '{"a":"\u0001"}',
    '[1,]',
    '{"a":1} x',
    '\uFEFF{}',
  ]) {
    const out = await exec(cni('ADD'), bad);
    t.match(JSON.parse(out.stdout), { code: 6 }, `not JSON: ${JSON.stringify(bad)}`);
    t.throws(() => JSON.parse(bad), 'and JSON.parse agrees');
  }
  const deep = `${'['.repeat(600)}${']'.repeat(600)}`;
  t.match(
    JSON.parse((await exec(cni('ADD'), deep)).stdout),
    { code: 6 },
    'nesting beyond the limit is refused, not a crash',
  );

  const huge = Buffer.alloc((1 << 20) + 1, 0x20);
  const big = await exec(cni('ADD'), huge);
  t.equal(big.code, 1);
  t.same(
    JSON.parse(big.stdout),
    { cniVersion: '1.0.0', code: 5, msg: 'the network configuration on stdin is over 1 MiB' },
    'stdin over 1 MiB: code 5',
  );
  const nearly = `${conf(missing)}${' '.repeat((1 << 20) - conf(missing).length)}`;
  const big2 = await exec(cni('ADD'), nearly);
  t.match(
    JSON.parse(big2.stdout),
    { code: 5, msg: /request to the daemon .* over 1 MiB/ },
    '1 MiB stdin: the request would pass the daemon limit',
  );
  const mega = await exec({ CNI_COMMAND: 'VERSION' }, Buffer.alloc(3 << 20, 0x20));
  t.equal(mega.code, 0, 'VERSION reads a huge stdin to its end and answers anyway');

  const long = await exec(cni('ADD'), conf(`/${'a'.repeat(200)}`));
  t.match(
    JSON.parse(long.stdout),
    { code: 11, details: /ENAMETOOLONG/ },
    'a socket path over sun_path: unreachable',
  );
  const noVersion = await exec(cni('ADD'), JSON.stringify({ ipam: { socket: missing } }));
  t.match(
    JSON.parse(noVersion.stdout),
    { cniVersion: '0.3.1', code: 11 },
    'no cniVersion: 0.3.1, as the logic assumes',
  );
});

t.test('pass-through to the daemon: environment, stdin, stdout and exit code', async (t) => {
  const d = await daemon(t);
  const add = await exec(
    { ...cni('ADD'), CNI_ARGS: 'K8S_POD_NAME=web;K8S_POD_NAMESPACE=default' },
    conf(d.path),
  );
  t.equal(add.code, 0, add.stdout);
  t.same(JSON.parse(add.stdout), {
    cniVersion: '1.0.0',
    ips: [{ address: '198.18.0.5/24', gateway: '198.18.0.1' }],
    routes: [{ dst: '0.0.0.0/0' }],
    dns: {},
  });
  t.ok(add.stdout.endsWith('}\n'), 'one line, newline-terminated');
  t.same(d.seen.at(-1), {
    path: '/cni/add',
    body: {
      containerId: 'c1',
      ifname: 'eth0',
      netns: '/var/run/netns/p1',
      args: { K8S_POD_NAME: 'web', K8S_POD_NAMESPACE: 'default' },
    },
  });

  const del = await exec(cni('DEL'), conf(d.path));
  t.same(del, { code: 0, stdout: '', stderr: '' }, 'DEL prints nothing');
  const check = await exec(cni('CHECK'), conf(d.path));
  t.equal(check.code, 1);
  t.match(
    JSON.parse(check.stdout),
    { code: 3 },
    'CHECK without allocation: unknown container (the logic, in the daemon)',
  );
  const full = await exec({ ...cni('ADD'), CNI_CONTAINERID: 'full' }, conf(d.path));
  t.match(JSON.parse(full.stdout), { code: 100, msg: 'group r1 is full' });
  const status = await exec(cni('STATUS'), conf(d.path));
  t.same(status, { code: 0, stdout: '', stderr: '' }, 'STATUS through the daemon');

  // Missing environment: the daemon's logic refuses, with its codes.
  const { CNI_CONTAINERID: _c, ...noId } = cni('ADD');
  t.same(JSON.parse((await exec(noId, conf(d.path))).stdout), {
    cniVersion: '1.0.0',
    code: 4,
    msg: 'CNI_CONTAINERID is not set',
  });
  const { CNI_COMMAND: _m, ...noCommand } = cni('ADD');
  t.match(JSON.parse((await exec(noCommand, conf(d.path))).stdout), {
    code: 4,
    msg: /CNI_COMMAND "" is not/,
  });
  t.match(JSON.parse((await exec(cni('ADD'), conf(d.path, { cniVersion: '9.9.9' }))).stdout), { code: 1 });
  t.match(JSON.parse((await exec(cni('GC'), conf(d.path))).stdout), { code: 7 }, 'GC without the list');
  t.match(
    JSON.parse((await exec(cni('ADD'), '[]')).stdout),
    { code: 11 },
    'not an object: default socket (absent here)',
  );

  // The socket named with escapes and duplicates, as JSON.parse reads it: the last one wins.
  const escaped = JSON.stringify(d.path).replaceAll('/', '\\u002f');
  const dup = `{"cniVersion":"1.1.0","ipam":{"socket":"/nope"},"ipam":{"type":"x","socket":${escaped}}}`;
  t.equal((await exec(cni('DEL'), dup)).code, 0, 'escaped, duplicated ipam.socket found');
});

t.test('every CNI_* variable and stdin byte reach the daemon unchanged', async (t) => {
  const path = sockPath();
  const api = new ApiServer(path, silentLogger);
  let got: unknown;
  api.route('POST /cni/exec', async (body) => {
    got = body;
    return { stdout: 'ünïcode "quoted"\n\ttab', exitCode: 7 };
  });
  await api.listen();
  t.teardown(() => api.close());
  const stdin = `${JSON.stringify({ cniVersion: '1.1.0', ipam: { socket: path }, note: 'é \u0001 \\ "' })}\n`;
  const out = await exec({ ...cni('ADD'), CNI_ARGS: 'A=1;B="x"', NOT_CNI: 'secret' }, stdin);
  t.same(got, {
    env: { ...cni('ADD'), CNI_ARGS: 'A=1;B="x"' },
    stdin,
  });
  t.same(
    out,
    { code: 7, stdout: 'ünïcode "quoted"\n\ttab\n', stderr: '' },
    'stdout decoded, exit code passed on',
  );
});

/** A raw socket server answering every connection with `answer` in pieces. */
async function raw(t: Test, answer: (s: Socket) => void): Promise<string> {
  const path = sockPath();
  const srv: Server = createServer((s) => {
    let buf = '';
    s.on('error', () => {}); // the plugin hangs up on an answer over its limit
    s.on('data', (c) => {
      buf += c;
      const h = buf.indexOf('\r\n\r\n');
      const m = /content-length: (\d+)/.exec(buf);
      if (h >= 0 && m && buf.length >= h + 4 + Number(m[1])) answer(s);
    });
  });
  await new Promise<void>((r) => srv.listen(path, r));
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  return path;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('an answer split across reads, or malformed', async (t) => {
  const body = JSON.stringify({ stdout: '{"cniVersion":"1.0.0","ips":[]}', exitCode: 0 });
  const whole = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const split = await raw(t, async (s) => {
    for (let i = 0; i < whole.length; i += 7) {
      s.write(whole.slice(i, i + 7));
      await sleep(2);
    }
    // no close: content-length says when the answer is complete
  });
  const out = await exec(cni('ADD'), conf(split));
  t.same(out, { code: 0, stdout: '{"cniVersion":"1.0.0","ips":[]}\n', stderr: '' }, '7-byte pieces');

  const noLength = await raw(t, (s) => s.end(`HTTP/1.0 200 OK\r\n\r\n${body}`));
  t.equal((await exec(cni('ADD'), conf(noLength))).code, 0, 'no content-length: read to the close');

  const cases: [string, string, RegExp][] = [
    ['truncated', `HTTP/1.1 200 OK\r\ncontent-length: 500\r\n\r\n${body}`, /daemon answer is truncated/],
    [
      'chunked',
      `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
      /transfer-encoding/,
    ],
    ['no header end', 'HTTP/1.1 200 OK\r\ncontent-length: 2', /no complete header/],
    ['no status line', 'SSH-2.0-OpenSSH\r\n\r\n', /no status line/],
    ['not JSON', 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello', /non-JSON: hello/],
    ['no stdout', 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}', /no stdout and exitCode/],
    ['closed at once', '', /no complete header/],
  ];
  for (const [name, answer, details] of cases) {
    const path = await raw(t, (s) => s.end(answer));
    const r = await exec(cni('ADD'), conf(path));
    t.equal(r.code, 1, name);
    t.match(JSON.parse(r.stdout), { code: 11, msg: `podroute daemon unreachable at ${path}`, details }, name);
  }
  const old = await raw(t, (s) => {
    const b = '{"error":"no such endpoint: POST /cni/exec"}\n';
    s.end(`HTTP/1.1 404 Not Found\r\ncontent-length: ${b.length}\r\n\r\n${b}`);
  });
  t.same(
    JSON.parse((await exec(cni('ADD'), conf(old))).stdout),
    { cniVersion: '1.0.0', code: 101, msg: 'no such endpoint: POST /cni/exec' },
    'a daemon without the endpoint: its message, code 101',
  );
  const big = await raw(t, (s) => {
    s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${2 << 20}\r\n\r\n`);
    s.end(Buffer.alloc(2 << 20, 0x20));
  });
  t.match(JSON.parse((await exec(cni('ADD'), conf(big))).stdout), {
    code: 11,
    details: /over 1 MiB|truncated/,
  });
  writeFileSync(join(dir, 'plain-file'), '');
  t.match(JSON.parse((await exec(cni('ADD'), conf(join(dir, 'plain-file')))).stdout), {
    code: 11,
    details: /ECONNREFUSED/,
  });
});
