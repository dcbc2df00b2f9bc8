/**
 * Shared steps of the multi-VLAN tests: the lab (one bridge per VLAN, since this kernel has no
 * 802.1Q, with host interfaces named as the sub-interfaces would be), the podroute configuration,
 * CNI calls with CNI_ARGS, and the gateway's forwarding counters.
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  CLEAN_NODE,
  daemonEnv,
  type ExecResult,
  type Lab,
  type Namespace,
  type PodrouteNode,
  REPO_ROOT,
  run,
} from '../../lab/fixture/index.js';

export const PTP = '/usr/lib/cni/ptp';

/** VLAN A (100) and B (200): the network's range is the VLAN's subnet, .1 its gateway. */
export const VLAN_A = { name: 'vlan-a', vlan: 100, subnet: '198.19.100', ifname: 'eth1.100' };
export const VLAN_B = { name: 'vlan-b', vlan: 200, subnet: '198.19.200', ifname: 'eth1.200' };
export const VLAN_C = { name: 'vlan-c', vlan: 300, subnet: '198.19.130', ifname: 'eth1.300' };
export type VlanDef = typeof VLAN_A;

/** An IPAM network for a VLAN: hosts' own addresses live in .240/28, which IPAM never hands out. */
export function vlanNetwork(v: VlanDef): Record<string, unknown> {
  return {
    name: v.name,
    cidr: `${v.subnet}.0/24`,
    blockSize: 27,
    vlan: v.vlan,
    gateway: `${v.subnet}.1`,
    interface: v.ifname,
    reserved: [`${v.subnet}.240/28`],
  };
}

/** A CNI_PATH directory holding `ptp` and `podroute` (a link to bin/podroute-cni). */
export function cniPath(lab: Lab): string {
  const dir = lab.makeDir('cni-bin');
  symlinkSync(PTP, join(dir, 'ptp'));
  symlinkSync(join(REPO_ROOT, 'bin', 'podroute-cni'), join(dir, 'podroute'));
  return dir;
}

export interface VlanCni {
  command: 'ADD' | 'DEL';
  node: PodrouteNode;
  containerId: string;
  /** The pod's namespace (CNI_NETNS); the IPAM plugin alone never enters it. */
  netns: string;
  /** CNI_ARGS as the runtime passes it, e.g. `K8S_POD_NAME=a;podroute.io/network=vlan-a`. */
  args?: string;
  /** `args.cni` of the network configuration. */
  confArgs?: Record<string, string>;
  /** Default: bin/podroute-cni alone (IPAM); or the ptp plugin delegating to it. */
  plugin?: string;
}

/** Runs a CNI plugin in the node's namespace as a runtime does: config on stdin, the rest in env. */
export function cniCall(path: string, c: VlanCni): Promise<ExecResult> {
  const conf = {
    cniVersion: '1.0.0',
    name: 'pods',
    type: 'ptp',
    ipam: { type: 'podroute', socket: c.node.socketPath },
    ...(c.confArgs ? { args: { cni: c.confArgs } } : {}),
  };
  return run(
    'ip',
    [
      'netns',
      'exec',
      c.node.ns.name,
      ...CLEAN_NODE,
      `CNI_COMMAND=${c.command}`,
      `CNI_CONTAINERID=${c.containerId}`,
      `CNI_NETNS=${c.netns}`,
      'CNI_IFNAME=eth0',
      `CNI_PATH=${path}`,
      ...(c.args ? [`CNI_ARGS=${c.args}`] : []),
      c.plugin ?? join(path, 'podroute'),
    ],
    { input: JSON.stringify(conf), env: daemonEnv(), allowFail: true, timeoutMs: 20_000 },
  );
}

/** The address in an IPAM-only ADD result. */
export function resultAddress(r: ExecResult): string {
  const out = JSON.parse(r.stdout) as { ips?: { address: string }[] };
  const ip = out.ips?.[0]?.address;
  if (!ip) throw new Error(`CNI ADD gave no address: ${r.stdout}${r.stderr}`);
  return ip.split('/')[0]!;
}

/** Forwarded-packet counters of the gateway: everything, A to B, B to A (iptables FORWARD rules). */
export async function countForwarding(gw: Namespace): Promise<void> {
  await gw.exec('iptables', ['-w', '-A', 'FORWARD']);
  await gw.exec('iptables', [
    '-w',
    '-A',
    'FORWARD',
    '-s',
    `${VLAN_A.subnet}.0/24`,
    '-d',
    `${VLAN_B.subnet}.0/24`,
  ]);
  await gw.exec('iptables', [
    '-w',
    '-A',
    'FORWARD',
    '-s',
    `${VLAN_B.subnet}.0/24`,
    '-d',
    `${VLAN_A.subnet}.0/24`,
  ]);
}

export interface Forwarded {
  all: number;
  aToB: number;
  bToA: number;
}

export async function forwarded(gw: Namespace): Promise<Forwarded> {
  const r = await gw.exec('iptables', ['-w', '-nvxL', 'FORWARD']);
  const counts = r.stdout
    .split('\n')
    .slice(2)
    .filter((l) => l.trim() !== '')
    .map((l) => Number(l.trim().split(/\s+/)[0]));
  return { all: counts[0] ?? -1, aToB: counts[1] ?? -1, bToA: counts[2] ?? -1 };
}

/** `ping -c N` from a pod; true when every echo was answered. */
export async function pingAll(pod: Namespace, address: string, count: number): Promise<boolean> {
  const r = await pod.exec('ping', ['-n', '-q', '-c', String(count), '-i', '0.2', '-W', '2', address], {
    allowFail: true,
  });
  return r.code === 0 && new RegExp(`${count} packets transmitted, ${count} received`).test(r.stdout);
}

/** What `ip rule` and `ip route show table all` print in a namespace, for before/after comparisons. */
export async function kernelRouting(ns: Namespace): Promise<{ rules: string[]; routes: string[] }> {
  const rules = (await ns.ip(['rule'])).stdout.split('\n').filter((l) => l.trim() !== '');
  const routes = (await ns.ip(['route', 'show', 'table', 'all'])).stdout
    .split('\n')
    .filter((l) => l.trim() !== '');
  return { rules, routes };
}
