/** Secrets never appear in configuration error lines (they end up in logs and in `podroute reload`). */
import t from 'tap';
import { ConfigError, parseConfig } from '../../src/config/index.js';

function problems(yaml: string): readonly string[] {
  try {
    parseConfig(yaml);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

const ospf = (auth: string) => `ospf:\n  interfaces:\n    - name: eth0\n      auth: ${auth}\n`;

t.test('an OSPF auth key that breaks a rule is named, never shown', async (t) => {
  const simple = problems(ospf('{ type: simple, key: "toolong-secret" }'));
  t.same(simple, ['ospf.interfaces[0].auth.key: (hidden) is longer than 8 bytes']);
  const md5 = problems(ospf(`{ type: md5, keyId: 1, key: "${'k'.repeat(17)}" }`));
  t.same(md5, ['ospf.interfaces[0].auth.key: (hidden) is longer than 16 bytes']);
  const wrongType = problems(ospf('{ type: hmac-sha-256, keyId: 1, key: 12345678 }'));
  t.equal(wrongType.length, 1);
  t.match(wrongType[0], /^ospf\.interfaces\[0\]\.auth\.key: \(hidden\) /);
  t.notMatch(wrongType.join(' '), /12345678/);
});

t.test('a BGP password stays hidden as before', async (t) => {
  const lines = problems(
    `bgp:\n  asn: 65001\n  peers:\n    - { address: 198.18.0.1, asn: 65000, password: "${'p'.repeat(81)}" }\n`,
  );
  t.equal(lines.length, 1);
  t.match(lines[0], /^bgp\.peers\[0\]\.password: \(hidden\) /);
  t.notMatch(lines[0], /ppp/);
});

t.test('other keys named key are still shown', async (t) => {
  const lines = problems('node:\n  labels: { key: 5 }\n');
  t.equal(lines.length, 1);
  t.match(lines[0], /5/);
});
