import t from 'tap';
import { ConfigError, formatPath, parseConfig } from '../../src/config/index.js';

function problems(yaml: string): readonly string[] {
  try {
    parseConfig(yaml);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('config was accepted');
}

t.test('defaults fill a minimal config', async (t) => {
  const c = parseConfig('bgp:\n  asn: 65001\n  peers:\n    - address: 198.18.0.1\n      asn: 65000\n');
  t.equal(c.api.socket, '/run/podroute/podroute.sock');
  t.same(c.announce, []);
  t.equal(c.bgp?.peers[0]?.holdTime, 90);
  t.equal(c.bgp?.peers[0]?.passive, false);
  t.equal(c.bgp?.peers[0]?.accept, 'none');
  t.equal(c.bgp?.peers[0]?.maxPrefixes, undefined);
  t.equal(c.bgp?.listenPort, 179);
});

t.test('a 4-byte ASN and an IPv6 peer are accepted', async (t) => {
  const c = parseConfig('bgp:\n  asn: 4200000001\n  peers: [{address: "2001:db8::1", asn: 4200000000}]\n');
  t.equal(c.bgp?.asn, 4200000001);
  t.equal(c.bgp?.peers[0]?.address, '2001:db8::1');
});

t.test('every error names the key path, the value and the rule', async (t) => {
  const p = problems(
    [
      'bgp:',
      '  asn: 65001',
      '  peers:',
      '    - {address: 198.18.0.1, asn: 65000}',
      '    - {address: 198.18.0.3, asn: 4294967296}',
    ].join('\n'),
  );
  t.same(p, ['bgp.peers[1].asn: 4294967296 is not a valid ASN (0..4294967295)']);
});

t.test('bad values are each reported', async (t) => {
  const p = problems(
    [
      'announce: [198.19.1.1/24, nonsense]',
      'node: {routerId: 2001:db8::1}',
      'bgp:',
      '  asn: -1',
      '  peers:',
      '    - {address: 1.2.3, asn: 65000, holdTime: 2, accept: some, passive: "yes"}',
    ].join('\n'),
  );
  t.ok(
    p.includes(
      'announce[0]: "198.19.1.1/24" is not a valid prefix: 198.19.1.1/24 has host bits set (did you mean 198.19.1.0/24?)',
    ),
    p.join('\n'),
  );
  t.ok(p.some((l) => l.startsWith('announce[1]: "nonsense" is not a valid prefix')));
  t.ok(p.includes('node.routerId: "2001:db8::1" is not an IPv4 address'));
  t.ok(p.includes('bgp.asn: -1 is not a valid ASN (0..4294967295)'));
  t.ok(p.includes('bgp.peers[0].address: "1.2.3" is not an IPv4 or IPv6 address'));
  t.ok(p.includes('bgp.peers[0].holdTime: 2 is not a valid hold time (0 or 3..65535 seconds)'));
  t.ok(p.includes('bgp.peers[0].accept: "some" is not one of none, default, all'));
  t.ok(p.includes('bgp.peers[0].passive: "yes" is not true or false'));
});

t.test('unknown keys are refused, at any depth', async (t) => {
  const p = problems('bgp:\n  asn: 65001\n  peer: []\nannouce: []\n');
  t.ok(p.includes('bgp.peer: is not a known key'));
  t.ok(p.includes('annouce: is not a known key'));
});

t.test('missing required keys say so', async (t) => {
  const p = problems('bgp:\n  peers: [{address: 198.18.0.1}]\n');
  t.ok(p.includes('bgp.asn: is required'));
  t.ok(p.includes('bgp.peers[0].asn: is required'));
});

t.test('YAML syntax errors and duplicate keys are refused', async (t) => {
  t.ok(problems('bgp: [asn: 1')[0]?.includes('YAML'));
  t.ok(problems('bgp:\n  asn: 1\n  asn: 2\n')[0]?.includes('YAML'));
});

t.test('formatPath', async (t) => {
  t.equal(formatPath(['bgp', 'peers', 1, 'asn']), 'bgp.peers[1].asn');
  t.equal(formatPath([]), '(top level)');
});
