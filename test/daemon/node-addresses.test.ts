import type { NetworkInterfaceInfo } from 'node:os';
import t from 'tap';
import { nodeAddresses } from '../../src/daemon/daemon.js';

const v4 = (address: string, len: number, internal = false): NetworkInterfaceInfo => ({
  address,
  netmask: '',
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal,
  cidr: `${address}/${len}`,
});
const v6 = (address: string, len: number): NetworkInterfaceInfo => ({
  address,
  netmask: '',
  family: 'IPv6',
  mac: '00:00:00:00:00:00',
  internal: false,
  cidr: `${address}/${len}`,
  scopeid: 0,
});

const list = {
  lo: [v4('127.0.0.1', 8, true)],
  eth1: [v4('198.18.1.3', 24), v4('198.18.1.13', 24), v6('2001:db8::3', 64), v6('fe80::1', 64)],
  eth2: [v4('198.18.2.3', 24)],
  // ptp's gateway address on a pod's host veth: a host address no peer can use.
  veth0a1b2c: [v4('198.19.0.0', 32)],
};

t.test('every non-loopback link address, without link-local and host addresses', async (t) => {
  t.same(nodeAddresses(undefined, list), ['198.18.1.13', '198.18.1.3', '198.18.2.3', '2001:db8::3']);
});

t.test('routes.interfaces limits them to the named links', async (t) => {
  t.same(nodeAddresses(['eth2'], list), ['198.18.2.3']);
  t.same(nodeAddresses(['eth9'], list), []);
});
