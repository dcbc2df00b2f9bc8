/**
 * The server reads a request's endpoint from its target without the URL parser when the target is
 * a plain path (every endpoint's is): the pathname must be the one `new URL` gives, for plain
 * targets and for every other (the parser still handles those); one the parser refuses is a 404.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { ApiServer, pathOf } from '../../src/api/server.js';
import { silentLogger } from '../../src/lib/log.js';

/** The parser's pathname; a target it refuses comes back unchanged (answered 404, not a crash). */
const viaUrl = (target: string): string => {
  try {
    return new URL(target, 'http://podroute').pathname;
  } catch {
    return target;
  }
};

t.test('plain and odd targets give the pathname the URL parser gives', async (t) => {
  const targets = [
    '/cni/add',
    '/cni/add?x=1',
    '/',
    '/status',
    '/ipam/release-node',
    '/a/',
    '/a?',
    '/a?b?c',
    '//x',
    '/a//b',
    '/a/../b',
    '/a/./b',
    '/%63ni/add',
    '/cni/add#f',
    '/a b',
    '/ä',
    '/x\\y',
    '/\\',
    '*',
    '',
    '?q',
  ];
  for (const target of targets) t.equal(pathOf(target), viaUrl(target), JSON.stringify(target));
  t.equal(pathOf(undefined), '/');
});

t.test('property: any target made of path characters gives the parser pathname', async (t) => {
  const char = fc.constantFrom('a', 'Z', '0', '-', '_', '/', '.', '%', '?', '#', ' ', '\\', 'é');
  fc.assert(
    fc.property(fc.array(char, { maxLength: 24 }), (cs) => {
      const target = `/${cs.join('')}`;
      return pathOf(target) === viaUrl(target);
    }),
    { numRuns: 5000 },
  );
  t.pass();
});

t.test('a long target that is not plain is answered at once (no backtracking blow-up)', async (t) => {
  const target = `/${'a/'.repeat(4000)}${'a'.repeat(4000)}!`;
  const t0 = performance.now();
  t.equal(pathOf(target), viaUrl(target));
  t.ok(performance.now() - t0 < 200, 'linear in the target length');
});

t.test('a request target the URL parser refuses is answered 404 over the socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'podroute-path-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const server = new ApiServer(join(dir, 'api.sock'), silentLogger);
  server.route('GET /status', async () => ({ node: 'n1', routerId: '198.18.0.2', announced: [] }));
  await server.listen();
  t.teardown(() => server.close());
  const answer = await new Promise<string>((resolve, reject) => {
    const s = connect(join(dir, 'api.sock'));
    let text = '';
    s.on('data', (c) => {
      text += c.toString('latin1');
    });
    s.on('end', () => resolve(text));
    s.on('error', reject);
    s.end('GET /\\\\ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  });
  t.match(answer, /^HTTP\/1\.1 404 /);
  t.match(answer, /no such endpoint: GET/);
});
