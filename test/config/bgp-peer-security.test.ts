/** Validation of a BGP peer's password, passwordFile, ttlSecurity, export and import keys. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, parseConfig } from '../../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'podroute-cfg-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, 's3cret-from-file\n');
const emptyFile = join(dir, 'empty');
writeFileSync(emptyFile, '\n');

function peerYaml(extra: string): string {
  return `bgp:\n  asn: 65001\n  peers:\n    - { address: 198.18.0.1, asn: 65000, ${extra} }\n`;
}

function problems(extra: string): readonly string[] {
  try {
    parseConfig(peerYaml(extra));
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

function peer(extra: string) {
  const p = parseConfig(peerYaml(extra)).bgp?.peers[0];
  if (!p) throw new Error('no peer');
  return p;
}

t.test('accepted values and what they become', async (t) => {
  t.equal(peer('password: abc').password, 'abc');
  t.equal(peer(`passwordFile: ${secretFile}`).password, 's3cret-from-file', 'trailing newline trimmed');
  t.equal(peer(`password: "${'x'.repeat(80)}"`).password?.length, 80);
  t.equal(peer('ttlSecurity: true').ttlSecurity, 1);
  t.equal(peer('ttlSecurity: 254').ttlSecurity, 254);
  t.equal(peer('ttlSecurity: false').ttlSecurity, undefined);
  t.equal(peer('').ttlSecurity, undefined);
  t.equal(peer('').password, undefined);
  t.equal(peer('').accept, 'none', 'accept default unchanged');
  t.equal(peer('import: []').accept, 'all', 'an import list decides when accept is not given');
  t.equal(peer('accept: default, import: []').accept, 'default');
  t.same(
    peer('export: [{prefix: 198.19.0.0/16, le: 24, action: permit}, {prefix: "2001:db8::/32", action: deny}]')
      .export,
    {
      ipv4: [{ prefix: '198.19.0.0/16', le: 24, action: 'permit' }],
      ipv6: [{ prefix: '2001:db8::/32', action: 'deny' }],
    },
  );
  t.strictSame(
    peer('import: {ipv6: [{prefix: "::/0", action: permit}]}').import,
    {
      ipv6: [{ prefix: '::/0', action: 'permit' }],
    },
    'an absent family has no list',
  );
  t.strictSame(
    peer('export: [{prefix: 198.19.0.0/16, action: permit}]').export,
    {
      ipv4: [{ prefix: '198.19.0.0/16', action: 'permit' }],
      ipv6: [],
    },
    'the one-list form gives both families a list',
  );
});

const cases: [string, string, string][] = [
  [
    'empty password',
    'password: ""',
    'bgp.peers[0].password: (hidden) is not a valid TCP MD5 password (1..80 bytes)',
  ],
  [
    'long password',
    `password: "${'x'.repeat(81)}"`,
    'bgp.peers[0].password: (hidden) is not a valid TCP MD5 password (1..80 bytes)',
  ],
  [
    'number password',
    'password: 12',
    'bgp.peers[0].password: (hidden) is not a valid TCP MD5 password (1..80 bytes)',
  ],
  [
    'both password keys',
    `password: abc, passwordFile: ${secretFile}`,
    `bgp.peers[0].passwordFile: "${secretFile}" is given together with password: set only one of them`,
  ],
  [
    'missing file',
    `passwordFile: ${join(dir, 'nope')}`,
    `bgp.peers[0].passwordFile: "${join(dir, 'nope')}" cannot be read (ENOENT)`,
  ],
  [
    'directory as file',
    `passwordFile: ${dir}`,
    `bgp.peers[0].passwordFile: "${dir}" cannot be read (EISDIR)`,
  ],
  [
    'empty file',
    `passwordFile: ${emptyFile}`,
    `bgp.peers[0].passwordFile: "${emptyFile}" holds a password that is not a valid TCP MD5 password (1..80 bytes)`,
  ],
  ['ttl 0', 'ttlSecurity: 0', 'bgp.peers[0].ttlSecurity: 0 is not true, false or a hop count in 1..254'],
  [
    'ttl 255',
    'ttlSecurity: 255',
    'bgp.peers[0].ttlSecurity: 255 is not true, false or a hop count in 1..254',
  ],
  [
    'ttl 1.5',
    'ttlSecurity: 1.5',
    'bgp.peers[0].ttlSecurity: 1.5 is not true, false or a hop count in 1..254',
  ],
  [
    'ttl text',
    'ttlSecurity: yes',
    'bgp.peers[0].ttlSecurity: "yes" is not true, false or a hop count in 1..254',
  ],
  [
    'export scalar',
    'export: 5',
    'bgp.peers[0].export: 5 is not a list of { prefix, ge, le, action } entries, nor { ipv4: [...], ipv6: [...] }',
  ],
  [
    'bad action',
    'export: [{prefix: 198.19.0.0/16, action: allow}]',
    'bgp.peers[0].export[0].action: "allow" is not one of permit, deny',
  ],
  ['missing action', 'export: [{prefix: 198.19.0.0/16}]', 'bgp.peers[0].export[0].action: is required'],
  [
    'host bits',
    'import: [{prefix: 198.19.0.1/16, action: permit}]',
    'bgp.peers[0].import[0].prefix: "198.19.0.1/16" is not a valid prefix: 198.19.0.1/16 has host bits set (did you mean 198.19.0.0/16?)',
  ],
  [
    'ge below own length',
    'export: [{prefix: 198.19.0.0/16, ge: 8, action: permit}]',
    "bgp.peers[0].export[0].ge: 8 is not a prefix length in 16..32 (ge is at least the prefix's own length)",
  ],
  [
    'le above family',
    'export: [{prefix: 198.19.0.0/16, le: 33, action: permit}]',
    "bgp.peers[0].export[0].le: 33 is not a prefix length in 16..32 (le is at least ge and the prefix's own length)",
  ],
  [
    'le below ge',
    'export: {ipv4: [{prefix: 198.19.0.0/16, ge: 24, le: 20, action: permit}]}',
    "bgp.peers[0].export.ipv4[0].le: 20 is not a prefix length in 24..32 (le is at least ge and the prefix's own length)",
  ],
  [
    'v6 le',
    'import: [{prefix: "2001:db8::/32", le: 129, action: permit}]',
    "bgp.peers[0].import[0].le: 129 is not a prefix length in 32..128 (le is at least ge and the prefix's own length)",
  ],
  [
    'wrong family list',
    'export: {ipv4: [{prefix: "2001:db8::/32", action: permit}]}',
    'bgp.peers[0].export.ipv4[0].prefix: "2001:db8::/32" is not an IPv4 prefix (this list is ipv4)',
  ],
  [
    'fractional ge',
    'export: [{prefix: 198.19.0.0/16, ge: 17.5, action: permit}]',
    'bgp.peers[0].export[0].ge: 17.5 is not a prefix length',
  ],
  ['unknown family key', 'export: {ipv5: []}', 'bgp.peers[0].export.ipv5: is not a known key'],
  [
    'unknown entry key',
    'export: [{prefix: 198.19.0.0/16, action: permit, lt: 3}]',
    'bgp.peers[0].export[0].lt: is not a known key',
  ],
];

for (const [name, extra, expected] of cases) {
  t.test(name, async (t) => {
    t.same(problems(extra), [expected]);
  });
}

t.test('a password never appears in an error line', async (t) => {
  const secret = 'do-not-print-me-'.repeat(6);
  const p = problems(`password: "${secret}"`);
  t.equal(p.length, 1);
  t.notOk(p.join('\n').includes('do-not-print-me'));
});
