/**
 * The raw OSPF socket inside a lab namespace: opens as root with the interface's address, netmask
 * and MTU; without CAP_NET_RAW it fails with a message that says what is missing; an unknown
 * interface is named in the error.
 */
import { join } from 'node:path';
import t from 'tap';
import { haveCommand, interopGate, Lab, REPO_ROOT } from '../../lab/fixture/index.js';

const gate = interopGate(['ip']);
const skip = gate.skip || (haveCommand('setpriv') ? false : 'setpriv not installed');

t.test('raw socket: root, unprivileged, unknown interface', { skip }, async (t) => {
  const lab = await Lab.create();
  t.teardown(() => lab.destroy());
  const a = await lab.addNamespace('a');
  const b = await lab.addNamespace('b');
  await lab.addLink(
    { ns: a, ifname: 'eth1', addresses: ['198.18.0.1/30'], mtu: 1400 },
    { ns: b, ifname: 'eth1', addresses: ['198.18.0.2/30'] },
  );
  const child = join(REPO_ROOT, 'test/ospf/socket-child.ts');
  const runIn = async (prefix: string[], ifname: string) => {
    const r = await a.exec('sh', [
      '-c',
      `cd ${REPO_ROOT} && exec "$@"`,
      'sh',
      ...prefix,
      process.execPath,
      '--import',
      'tsx',
      child,
      ifname,
      'broadcast',
    ]);
    return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
      ok: boolean;
      info?: unknown;
      error?: string;
    };
  };
  const root = await runIn([], 'eth1');
  t.same(root, { ok: true, info: { address: '198.18.0.1', netmask: '255.255.255.252', mtu: 1400 } });
  const nobody = await runIn(
    ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'],
    'eth1',
  );
  t.equal(nobody.ok, false);
  t.match(nobody.error, /CAP_NET_RAW/, 'says which capability is missing');
  const missing = await runIn([], 'eth9');
  t.equal(missing.ok, false);
  t.match(missing.error, /interface eth9 does not exist/);
});
