/**
 * Validation of `bfd.authentication` (RFC 5880 6.7): the types, the Key ID, the key lengths of
 * RFC 5880 4.2.2-4.2.4, key vs keyFile, and that a key never appears in an error.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, parseConfig } from '../../src/config/index.js';

function yaml(auth: string): string {
  return `bgp:\n  asn: 65001\n  peers:\n    - { address: 198.18.0.1, asn: 65000, bfd: { minRx: 100, authentication: ${auth} } }\n`;
}

function problems(auth: string): readonly string[] {
  try {
    parseConfig(yaml(auth));
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

const authOf = (auth: string) => parseConfig(yaml(auth)).bgp?.peers[0]?.bfd?.authentication;

const dir = mkdtempSync(join(tmpdir(), 'podroute-bfd-auth-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('accepted values', async (t) => {
  t.same(authOf('{ type: keyed-sha1, keyId: 1, key: "s3cret" }'), {
    type: 'keyed-sha1',
    keyId: 1,
    key: 's3cret',
  });
  t.same(
    authOf(`{ type: simple, keyId: 0, key: "${'p'.repeat(16)}" }`)?.key,
    'p'.repeat(16),
    'simple: 16 bytes',
  );
  t.same(authOf(`{ type: meticulous-keyed-md5, keyId: 255, key: "${'m'.repeat(16)}" }`)?.keyId, 255);
  t.same(
    authOf(`{ type: meticulous-keyed-sha1, keyId: 9, key: "${'s'.repeat(20)}" }`)?.type,
    'meticulous-keyed-sha1',
  );
  t.same(authOf('{ type: keyed-md5, keyId: 2, key: x }')?.key, 'x');
  const bfd = parseConfig(yaml('{ type: simple, keyId: 1, key: pw }')).bgp?.peers[0]?.bfd;
  t.same(bfd, {
    minRx: 100,
    minTx: 300,
    multiplier: 3,
    authentication: { type: 'simple', keyId: 1, key: 'pw' },
  });
});

t.test('keyFile is read at load, its trailing newline dropped', async (t) => {
  const f = join(dir, 'bfd.key');
  writeFileSync(f, 'from-a-secret\n');
  t.same(authOf(`{ type: keyed-sha1, keyId: 3, keyFile: ${f} }`), {
    type: 'keyed-sha1',
    keyId: 3,
    key: 'from-a-secret',
  });
  const long = join(dir, 'long.key');
  writeFileSync(long, `${'k'.repeat(17)}\n`);
  const p = problems(`{ type: keyed-md5, keyId: 3, keyFile: ${long} }`);
  t.same(p, [
    `bgp.peers[0].bfd.authentication.keyFile: ${JSON.stringify(long)} holds a key of 17 bytes: an MD5 key has 1..16 bytes (RFC 5880 4.2.3)`,
  ]);
  t.notOk(p.join().includes('kkkk'), 'the key is not shown');
  const missing = join(dir, 'absent.key');
  t.same(problems(`{ type: simple, keyId: 1, keyFile: ${missing} }`), [
    `bgp.peers[0].bfd.authentication.keyFile: ${JSON.stringify(missing)} cannot be read (ENOENT)`,
  ]);
  t.match(
    problems(`{ type: simple, keyId: 1, key: a, keyFile: ${f} }`)[0],
    /keyFile: .* is given together with key/,
  );
});

const cases: [string, string, string][] = [
  [
    'unknown type',
    '{ type: hmac-sha256, keyId: 1, key: k }',
    'bgp.peers[0].bfd.authentication.type: "hmac-sha256" is not one of simple, keyed-md5, meticulous-keyed-md5, keyed-sha1, meticulous-keyed-sha1',
  ],
  [
    'keyId 256',
    '{ type: simple, keyId: 256, key: k }',
    'bgp.peers[0].bfd.authentication.keyId: 256 is not a key ID in 0..255',
  ],
  ['keyId missing', '{ type: simple, key: k }', 'bgp.peers[0].bfd.authentication.keyId: is required'],
  [
    'no key',
    '{ type: keyed-sha1, keyId: 1 }',
    'bgp.peers[0].bfd.authentication: {"type":"keyed-sha1","keyId":1} has neither key nor keyFile',
  ],
  [
    'empty simple password',
    '{ type: simple, keyId: 1, key: "" }',
    'bgp.peers[0].bfd.authentication.key: (hidden) is 0 bytes: a simple password has 1..16 bytes (RFC 5880 4.2.2)',
  ],
  [
    'simple password of 17',
    `{ type: simple, keyId: 1, key: "${'a'.repeat(17)}" }`,
    'bgp.peers[0].bfd.authentication.key: (hidden) is 17 bytes: a simple password has 1..16 bytes (RFC 5880 4.2.2)',
  ],
  [
    'MD5 key of 17',
    `{ type: meticulous-keyed-md5, keyId: 1, key: "${'a'.repeat(17)}" }`,
    'bgp.peers[0].bfd.authentication.key: (hidden) is 17 bytes: an MD5 key has 1..16 bytes (RFC 5880 4.2.3)',
  ],
  [
    'SHA1 key of 21',
    `{ type: keyed-sha1, keyId: 1, key: "${'a'.repeat(21)}" }`,
    'bgp.peers[0].bfd.authentication.key: (hidden) is 21 bytes: a SHA1 key has 1..20 bytes (RFC 5880 4.2.4)',
  ],
  [
    'a key that is not a string',
    '{ type: keyed-sha1, keyId: 1, key: [1] }',
    'bgp.peers[0].bfd.authentication.key: (hidden) is not a string',
  ],
  [
    'unknown key',
    '{ type: simple, keyId: 1, key: k, id: 2 }',
    'bgp.peers[0].bfd.authentication.id: is not a known key',
  ],
];

for (const [name, auth, expected] of cases) {
  t.test(name, async (t) => {
    const p = problems(auth);
    t.ok(
      p.some((x) => x === expected),
      `refused with "${expected}": ${JSON.stringify(p)}`,
    );
    t.notOk(p.join().includes('aaaaaaaaaaaaaaaaa'), 'no key echoed');
  });
}
