/** The per-peer `install` key: default true, false kept, anything else refused with its rule. */
import t from 'tap';
import { ConfigError, parseConfig } from '../../src/config/index.js';

const peerYaml = (extra: string) =>
  `bgp:\n  asn: 65001\n  peers:\n    - { address: 198.18.0.0, asn: 65101, accept: default${extra} }\n`;

t.test('install defaults to true and keeps false', async (t) => {
  t.equal(parseConfig(peerYaml('')).bgp?.peers[0]?.install, true);
  t.equal(parseConfig(peerYaml(', install: false')).bgp?.peers[0]?.install, false);
  t.equal(parseConfig(peerYaml('')).bgp?.peers[0]?.accept, 'default', 'accept is untouched');
});

t.test('a non-boolean install is refused with key, value and rule', async (t) => {
  try {
    parseConfig(peerYaml(', install: maybe'));
    t.fail('accepted');
  } catch (e) {
    t.ok(e instanceof ConfigError);
    t.same((e as ConfigError).problems, ['bgp.peers[0].install: "maybe" is not true or false']);
  }
});
