/** The plugin's HTTP/1.1 exchange over a unix socket (RFC 9112), against a real node:http server. */

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseResponse, request } from '../../src/cni/transport.js';

t.test('parseResponse reads status and JSON body, cut to content-length', async (t) => {
  const raw = (s: string) => Buffer.from(s, 'utf8');
  t.same(parseResponse(raw('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{"a":"\u00e9"}junk')), {
    status: 200,
    body: { a: '\u00e9' },
  });
  t.same(parseResponse(raw('HTTP/1.1 507 Insufficient Storage\r\n\r\n')), { status: 507, body: undefined });
  t.throws(() => parseResponse(raw('HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n{}')), /truncated/);
  t.throws(() => parseResponse(raw('HTTP/1.1 200 OK\r\ncontent-length: 2')), /complete header/);
  t.throws(() => parseResponse(raw('SSH-2.0\r\n\r\n')), /status line/);
  t.throws(
    () => parseResponse(raw('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}')),
    /chunked/,
  );
  t.throws(() => parseResponse(raw('HTTP/1.1 200 OK\r\n\r\nnot json')), /non-JSON/);
});

t.test('request: POST with a JSON body, GET without, errors when nothing listens', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podroute-cni-transport-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, 'api.sock');
  const seen: { method?: string; url?: string; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, body });
      const text = JSON.stringify({ echo: body ? JSON.parse(body) : null, big: 'x'.repeat(100_000) });
      res.writeHead(req.url === '/cni/add' ? 200 : 404, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  t.teardown(() => server.close());
  const add = await request(socket, '/cni/add', { containerId: 'c1' }, 2000);
  t.equal(add.status, 200);
  t.match(add.body, { echo: { containerId: 'c1' } });
  t.equal((add.body as { big: string }).big.length, 100_000, 'a body in many chunks arrives whole');
  const get = await request(socket, '/status', undefined, 2000);
  t.equal(get.status, 404);
  t.same(
    seen.map((s) => [s.method, s.url, s.body]),
    [
      ['POST', '/cni/add', '{"containerId":"c1"}'],
      ['GET', '/status', ''],
    ],
  );
  await t.rejects(
    request(join(dir, 'none.sock'), '/status', undefined, 2000),
    /cannot reach podroute.*ENOENT/,
  );
});
