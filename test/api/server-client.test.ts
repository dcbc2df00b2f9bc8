/**
 * The local API's plumbing on both ends, over a unix socket in a temp dir: typed routes answer
 * 200 with their response, refusals keep their status and details, failures are 500, bad bodies
 * 400, unknown endpoints 404; the client tells "not reachable" from "refused".
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ApiClient, ApiRefused, ApiUnreachable, callApi } from '../../src/api/client.js';
import { splitEndpoint } from '../../src/api/endpoints.js';
import { ApiError, ApiServer } from '../../src/api/server.js';
import { silentLogger } from '../../src/lib/log.js';

function socketPath(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'podroute-api-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'run', 'api.sock');
}

async function startServer(t: { teardown(fn: () => Promise<void>): void }, path: string): Promise<ApiServer> {
  const server = new ApiServer(path, silentLogger);
  server.route('GET /status', async () => ({ node: 'node1', routerId: '198.18.0.2', announced: [] }));
  server.route('POST /ipam/release-node', async (body) => {
    const b = body as { name?: unknown; force?: unknown };
    if (typeof b?.name !== 'string') throw new ApiError(400, 'name is required', { field: 'name' });
    if (b.name === 'crash') throw new Error('store is gone');
    return { node: b.name, released: b.force === true ? 2 : 0 };
  });
  await server.listen();
  t.teardown(() => server.close());
  return server;
}

t.test('endpoints split into method and path', async (t) => {
  t.same(splitEndpoint('GET /ospf/database'), { method: 'GET', path: '/ospf/database' });
  t.same(splitEndpoint('POST /cni/add'), { method: 'POST', path: '/cni/add' });
});

t.test('a typed call gets the 200 answer of its route', async (t) => {
  const path = socketPath(t);
  await startServer(t, path);
  t.equal(statSync(path).mode & 0o777, 0o600, 'socket only for its owner');
  const client = new ApiClient(path);
  t.same(await client.call('GET /status'), { node: 'node1', routerId: '198.18.0.2', announced: [] });
  t.same(await client.call('POST /ipam/release-node', { name: 'node2', force: true }), {
    node: 'node2',
    released: 2,
  });
});

t.test('refusals, failures and bad requests keep their status', async (t) => {
  const path = socketPath(t);
  await startServer(t, path);
  const client = new ApiClient(path);
  const refused = await client.call('POST /ipam/release-node', {} as { name: string }).catch((e) => e);
  t.type(refused, ApiRefused);
  t.equal(refused.status, 400);
  t.same(refused.body, { error: 'name is required', field: 'name' }, 'details join the error body');
  t.equal(refused.message, 'name is required');

  const failed = await client.call('POST /ipam/release-node', { name: 'crash' }).catch((e) => e);
  t.type(failed, ApiRefused);
  t.equal(failed.status, 500);
  t.equal(failed.message, 'store is gone');

  t.same(await callApi(path, 'GET', '/nope'), {
    status: 404,
    body: { error: 'no such endpoint: GET /nope' },
  });
  t.same(await callApi(path, 'POST', '/status'), {
    status: 404,
    body: { error: 'no such endpoint: POST /status' },
  });
  const missing = await client.call('GET /ipam').catch((e) => e);
  t.type(missing, ApiRefused, 'an endpoint the daemon did not register (no ipam section)');
  t.equal(missing.status, 404);
});

t.test('a body that is not JSON is refused with 400', async (t) => {
  const path = socketPath(t);
  await startServer(t, path);
  const { request } = await import('node:http');
  const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request({ socketPath: path, method: 'POST', path: '/ipam/release-node' }, (r) => {
      let text = '';
      r.on('data', (c: Buffer) => {
        text += c.toString();
      });
      r.on('end', () => resolve({ status: r.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end('{nope');
  });
  t.equal(res.status, 400);
  t.same(JSON.parse(res.text), { error: 'request body is not JSON' });
});

t.test('no daemon: ApiUnreachable, not a refusal', async (t) => {
  const path = socketPath(t);
  const e = await new ApiClient(path).call('GET /status').catch((err) => err);
  t.type(e, ApiUnreachable);
  t.match(e.message, /cannot reach podroute at .*api\.sock: ENOENT/);
});

t.test('a second server on a live socket refuses to start; a stale one is replaced', async (t) => {
  const path = socketPath(t);
  const first = await startServer(t, path);
  await t.rejects(new ApiServer(path, silentLogger).listen(), /api\.socket .* is in use/);
  t.same(await new ApiClient(path).call('GET /status'), {
    node: 'node1',
    routerId: '198.18.0.2',
    announced: [],
  });
  await first.close();
  await startServer(t, path);
  t.ok(await new ApiClient(path).call('GET /status'), 'a new server after the first closed');
});
