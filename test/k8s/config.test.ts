/** The config keys of the Kubernetes integration: node.source (and its default in a pod), ipam.mode. */
import t from 'tap';
import { type ConfigError, parseConfig } from '../../src/config/index.js';
import { nodeSource } from '../../src/config/node.js';

const problems = (text: string): string[] => {
  try {
    parseConfig(text);
    return [];
  } catch (e) {
    return [...(e as ConfigError).problems];
  }
};

t.test('node.source: explicit, else kubernetes inside a pod', async (t) => {
  t.equal(
    nodeSource(parseConfig('node: { source: config }').node, { KUBERNETES_SERVICE_HOST: '198.18.96.1' }),
    'config',
  );
  t.equal(nodeSource(parseConfig('node: { source: kubernetes }').node, {}), 'kubernetes');
  t.equal(
    nodeSource(parseConfig('{}').node, { KUBERNETES_SERVICE_HOST: '198.18.96.1' }),
    'kubernetes',
    'in a pod',
  );
  t.equal(nodeSource(parseConfig('{}').node, {}), 'config', 'elsewhere');
  t.same(problems('node: { source: k8s }'), ['node.source: "k8s" is not one of config, kubernetes']);
});

t.test('ipam.mode: podroute needs networks, kubernetes does not', async (t) => {
  t.equal(parseConfig('ipam: { mode: kubernetes }').ipam?.mode, 'kubernetes');
  t.same(parseConfig('ipam: { mode: kubernetes }').ipam?.networks, []);
  const p = parseConfig('ipam: { networks: [{ name: pods, cidr: 198.19.0.0/16 }] }');
  t.equal(p.ipam?.mode, 'podroute', 'default');
  t.same(problems('ipam: {}'), ['ipam.networks: is required']);
  t.same(problems('ipam: { networks: [] }'), ['ipam.networks: [] is empty (list at least one pod network)']);
  t.same(problems('ipam: { mode: own }'), ['ipam.mode: "own" is not one of podroute, kubernetes']);
});
