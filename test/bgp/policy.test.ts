/**
 * Per-peer policy as a table: prefix lists (order, ge/le edges, families, implicit deny) and the
 * peer policy built on them (export lists, import lists with accept, the RFC 8212 default for
 * eBGP peers without policy, and iBGP).
 */
import t from 'tap';
import { peerPolicy } from '../../src/bgp/policy/peer-policy.js';
import { compilePrefixList, evaluatePrefixList } from '../../src/bgp/policy/prefix-list.js';
import { bgpPeerSchema } from '../../src/config/bgp.js';
import { type PrefixListConfig, prefixListSchema } from '../../src/config/bgp-policy.js';
import { parsePrefix } from '../../src/net/prefix.js';

const list = (entries: unknown): PrefixListConfig => prefixListSchema.parse(entries);

// [list as configured, prefix, expected action, expected entry index (undefined = implicit deny)]
type Row = [string, unknown, string, 'permit' | 'deny', number | undefined];
const rows: Row[] = [
  ['exact match', [{ prefix: '198.19.0.0/16', action: 'permit' }], '198.19.0.0/16', 'permit', 0],
  [
    'longer prefix without ge/le',
    [{ prefix: '198.19.0.0/16', action: 'permit' }],
    '198.19.1.0/24',
    'deny',
    undefined,
  ],
  ['shorter prefix', [{ prefix: '198.19.0.0/16', action: 'permit' }], '198.18.0.0/15', 'deny', undefined],
  ['outside', [{ prefix: '198.19.0.0/16', action: 'permit' }], '198.18.0.0/16', 'deny', undefined],
  ['le: own length', [{ prefix: '198.19.0.0/16', le: 24, action: 'permit' }], '198.19.0.0/16', 'permit', 0],
  ['le: at le', [{ prefix: '198.19.0.0/16', le: 24, action: 'permit' }], '198.19.7.0/24', 'permit', 0],
  [
    'le: one past',
    [{ prefix: '198.19.0.0/16', le: 24, action: 'permit' }],
    '198.19.7.128/25',
    'deny',
    undefined,
  ],
  [
    'ge: one below',
    [{ prefix: '198.19.0.0/16', ge: 24, action: 'permit' }],
    '198.19.6.0/23',
    'deny',
    undefined,
  ],
  ['ge: at ge', [{ prefix: '198.19.0.0/16', ge: 24, action: 'permit' }], '198.19.6.0/24', 'permit', 0],
  ['ge: up to /32', [{ prefix: '198.19.0.0/16', ge: 24, action: 'permit' }], '198.19.6.1/32', 'permit', 0],
  [
    'ge: not the prefix itself',
    [{ prefix: '198.19.0.0/16', ge: 17, action: 'permit' }],
    '198.19.0.0/16',
    'deny',
    undefined,
  ],
  [
    'ge+le: low edge',
    [{ prefix: '198.19.0.0/16', ge: 20, le: 24, action: 'permit' }],
    '198.19.16.0/20',
    'permit',
    0,
  ],
  [
    'ge+le: high edge',
    [{ prefix: '198.19.0.0/16', ge: 20, le: 24, action: 'permit' }],
    '198.19.16.0/24',
    'permit',
    0,
  ],
  [
    'ge+le: below',
    [{ prefix: '198.19.0.0/16', ge: 20, le: 24, action: 'permit' }],
    '198.19.0.0/19',
    'deny',
    undefined,
  ],
  [
    'ge+le: above',
    [{ prefix: '198.19.0.0/16', ge: 20, le: 24, action: 'permit' }],
    '198.19.16.0/25',
    'deny',
    undefined,
  ],
  ['ge = le', [{ prefix: '198.19.0.0/16', ge: 26, le: 26, action: 'permit' }], '198.19.0.64/26', 'permit', 0],
  [
    'first match wins (deny before permit)',
    [
      { prefix: '198.19.1.0/24', action: 'deny' },
      { prefix: '198.19.0.0/16', le: 32, action: 'permit' },
    ],
    '198.19.1.0/24',
    'deny',
    0,
  ],
  [
    'later entry when the first does not match',
    [
      { prefix: '198.19.1.0/24', action: 'deny' },
      { prefix: '198.19.0.0/16', le: 32, action: 'permit' },
    ],
    '198.19.2.0/24',
    'permit',
    1,
  ],
  ['default route entry', [{ prefix: '0.0.0.0/0', action: 'permit' }], '0.0.0.0/0', 'permit', 0],
  [
    'default route entry is not "any"',
    [{ prefix: '0.0.0.0/0', action: 'permit' }],
    '198.19.0.0/16',
    'deny',
    undefined,
  ],
  ['"any" in IPv4', [{ prefix: '0.0.0.0/0', le: 32, action: 'permit' }], '198.19.0.0/16', 'permit', 0],
  [
    'IPv4 entry never matches IPv6',
    [{ prefix: '0.0.0.0/0', le: 32, action: 'permit' }],
    '2001:db8::/32',
    'deny',
    undefined,
  ],
  [
    'IPv6 entry never matches IPv4',
    [{ prefix: '::/0', le: 128, action: 'permit' }],
    '198.19.0.0/16',
    'deny',
    undefined,
  ],
  ['IPv6 le edge', [{ prefix: '2001:db8::/32', le: 48, action: 'permit' }], '2001:db8:1::/48', 'permit', 0],
  [
    'IPv6 past le',
    [{ prefix: '2001:db8::/32', le: 48, action: 'permit' }],
    '2001:db8:1::/49',
    'deny',
    undefined,
  ],
  [
    'IPv6 outside',
    [{ prefix: '2001:db8::/32', le: 64, action: 'permit' }],
    '2001:db9::/32',
    'deny',
    undefined,
  ],
  ['empty list denies', [], '198.19.0.0/16', 'deny', undefined],
];

t.test('prefix lists', async (t) => {
  for (const [name, entries, prefix, action, entry] of rows) {
    const cfg = list(entries);
    const p = parsePrefix(prefix);
    const l = compilePrefixList((p.family === 4 ? cfg.ipv4 : cfg.ipv6) ?? []);
    const v = evaluatePrefixList(l, p);
    t.equal(v.action, action, `${name}: ${prefix} → ${action}`);
    t.equal(v.entry, entry, `${name}: entry`);
  }
});

function peer(yaml: Record<string, unknown>) {
  return bgpPeerSchema.parse({ address: '198.18.0.1', asn: 65000, ...yaml });
}

function policyOf(cfg: ReturnType<typeof peer>) {
  return peerPolicy(cfg);
}

// [name, peer config, direction, prefix, allowed]
type PolicyRow = [string, Record<string, unknown>, 'export' | 'import', string, boolean];
const exportV4Only = { export: [{ prefix: '198.19.1.0/24', action: 'permit' }] };
const exportPerFamily = { export: { ipv4: [{ prefix: '198.19.1.0/24', action: 'permit' }] } };
const importList = { import: [{ prefix: '198.18.0.0/15', le: 24, action: 'permit' }] };
const policyRows: PolicyRow[] = [
  // RFC 8212: an eBGP peer (asn 65000, us 65001) without export/import: the default policy.
  ['eBGP, no policy: own prefix out', {}, 'export', '198.19.1.0/24', true],
  ['eBGP, no policy: own IPv6 prefix out', {}, 'export', '2001:db8:1::/48', true],
  ['eBGP, no policy: nothing in (accept none)', {}, 'import', '0.0.0.0/0', false],
  ['eBGP, no policy: nothing in, any prefix', {}, 'import', '198.18.0.0/24', false],
  ['eBGP, accept default: default in', { accept: 'default' }, 'import', '0.0.0.0/0', true],
  ['eBGP, accept default: IPv6 default in', { accept: 'default' }, 'import', '::/0', true],
  ['eBGP, accept default: others not', { accept: 'default' }, 'import', '198.18.0.0/24', false],
  ['eBGP, accept all', { accept: 'all' }, 'import', '198.18.0.0/24', true],
  // iBGP: same default (podroute never passes a received route on).
  ['iBGP, no policy: own prefix out', { asn: 65001 }, 'export', '198.19.1.0/24', true],
  ['iBGP, no policy: nothing in', { asn: 65001 }, 'import', '0.0.0.0/0', false],
  ['iBGP, export list applies', { asn: 65001, ...exportV4Only }, 'export', '198.19.2.0/24', false],
  // export lists
  ['export list: listed', exportV4Only, 'export', '198.19.1.0/24', true],
  ['export list: not listed', exportV4Only, 'export', '198.19.2.0/24', false],
  ['one-list form: IPv6 denied (implicit deny)', exportV4Only, 'export', '2001:db8:1::/48', false],
  ['per-family form: IPv4 listed', exportPerFamily, 'export', '198.19.1.0/24', true],
  ['per-family form: IPv4 not listed', exportPerFamily, 'export', '198.19.2.0/24', false],
  [
    'per-family form: IPv6 without a list follows the default',
    exportPerFamily,
    'export',
    '2001:db8:1::/48',
    true,
  ],
  ['export list does not touch import', exportV4Only, 'import', '198.19.1.0/24', false],
  // import lists
  ['import list alone implies accept all: listed', importList, 'import', '198.18.4.0/24', true],
  ['import list: too long', importList, 'import', '198.18.4.0/25', false],
  ['import list: outside', importList, 'import', '203.0.113.0/24', false],
  ['import list: IPv6 denied by the one-list form', importList, 'import', '2001:db8::/32', false],
  [
    'import list AND accept default: default not listed',
    { accept: 'default', ...importList },
    'import',
    '0.0.0.0/0',
    false,
  ],
  [
    'import list AND accept default: listed but not default',
    { accept: 'default', ...importList },
    'import',
    '198.18.4.0/24',
    false,
  ],
  [
    'import list AND accept default: both',
    { accept: 'default', import: [{ prefix: '0.0.0.0/0', action: 'permit' }] },
    'import',
    '0.0.0.0/0',
    true,
  ],
  [
    'accept none overrides an import list',
    { accept: 'none', ...importList },
    'import',
    '198.18.4.0/24',
    false,
  ],
  ['import list does not touch export', importList, 'export', '198.19.1.0/24', true],
  [
    'import deny entry',
    {
      import: [
        { prefix: '198.18.4.0/24', action: 'deny' },
        { prefix: '0.0.0.0/0', le: 32, action: 'permit' },
      ],
    },
    'import',
    '198.18.4.0/24',
    false,
  ],
];

t.test('peer policy', async (t) => {
  for (const [name, cfg, dir, prefix, allowed] of policyRows) {
    const pol = policyOf(peer(cfg));
    const p = parsePrefix(prefix);
    t.equal(dir === 'export' ? pol.exports(p) : pol.imports(p), allowed, `${name}: ${dir} ${prefix}`);
    // The fast yes/no forms and the explained verdicts never disagree.
    const verdict = dir === 'export' ? pol.explainExport(p) : pol.explainImport(p);
    t.equal(verdict.allowed, allowed, `${name}: ${dir} ${prefix} explained`);
  }
});

t.test('verdicts say why', async (t) => {
  const pol = policyOf(peer({ accept: 'all', ...exportV4Only, ...importList }));
  t.same(pol.explainExport(parsePrefix('198.19.1.0/24')), { allowed: true, reason: 'export ipv4 entry 0' });
  t.same(pol.explainExport(parsePrefix('198.19.2.0/24')), {
    allowed: false,
    reason: 'export ipv4 implicit deny',
  });
  t.same(pol.explainImport(parsePrefix('198.18.4.0/24')), { allowed: true, reason: 'import ipv4 entry 0' });
  const def = policyOf(peer({}));
  t.same(def.explainExport(parsePrefix('198.19.1.0/24')), {
    allowed: true,
    reason: 'default export (own prefixes)',
  });
  t.same(def.explainImport(parsePrefix('0.0.0.0/0')), { allowed: false, reason: 'accept policy' });
});
