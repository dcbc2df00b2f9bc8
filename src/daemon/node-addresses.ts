/**
 * Which of this node's addresses go into its node record: the addresses other nodes' layer 2
 * routes (and the VLAN data plane's same-VLAN routes) use to reach this node's blocks.
 */
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';

/**
 * The addresses this node registers for layer 2 peers: every address on `interfaces`
 * (`routes.interfaces`), or when unset on every interface but loopback. Left out: IPv6
 * link-local (on every link at once) and host addresses (/32, /128) such as the gateway address
 * the CNI `ptp` plugin puts on each pod's host veth, which no peer can reach. Read once at start.
 */
export function nodeAddresses(
  interfaces?: readonly string[],
  list: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string[] {
  const out = new Set<string>();
  for (const [name, addrs] of Object.entries(list)) {
    if (interfaces ? !interfaces.includes(name) : name === 'lo') continue;
    for (const a of addrs ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80:')) continue;
      const len = Number(a.cidr?.split('/')[1]);
      if (len === (a.family === 'IPv4' ? 32 : 128)) continue;
      out.add(a.address);
    }
  }
  return [...out].sort();
}
