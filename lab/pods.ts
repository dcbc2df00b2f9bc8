/**
 * Pods in the lab, made the way a container runtime makes them for kubelet: a fresh network namespace
 * per pod, then the node's CNI network configuration list run plugin by plugin (CNI spec 1.0,
 * "Network configuration lists" and "Execution protocol"): the reference `ptp` plugin as the main
 * plugin, which calls `podroute-cni` as its IPAM plugin, found through CNI_PATH. ADD's result is kept
 * (as libcni caches it) and given back as `prevResult` on DEL, which runs when the lab goes down.
 *
 * How many pods a podroute node gets: its label `podroute.lab/pods` (0..64), default 2, and none when
 * its podroute config has no `ipam` section (nothing could hand out the addresses). Which IPAM
 * network each asks for: the label `podroute.lab/pod-networks` ("vlan-a,vlan-b": pod 1 the first,
 * pod 2 the second, round the list again), passed as `podroute.io/network` in CNI_ARGS, the way a
 * runtime passes per-pod CNI args; without it IPAM picks.
 */
import { createHash } from 'node:crypto';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CLEAN_NODE, daemonEnv, type Lab, REPO_ROOT, run } from './fixture/index.js';
import { type LabTopology, TopologyError } from './topology.js';

export const PODS_LABEL = 'podroute.lab/pods';
export const POD_NETWORKS_LABEL = 'podroute.lab/pod-networks';
export const DEFAULT_PODS = 2;
const MAX_PODS = 64;
/** The reference plugins (Debian's containernetworking-plugins). */
export const PTP_PLUGIN = '/usr/lib/cni/ptp';
/** `ipam.type` in the lab's network configuration: the name the plugin has in CNI_PATH. */
const IPAM_TYPE = 'podroute-cni';

/** One pod, as the state file keeps it: enough to DEL it again from another process. */
export interface PodMeta {
  /** `<node>-pod<i>`: also the short name of its namespace. */
  name: string;
  node: string;
  /** The pod's namespace (`<lab>-<node>-pod<i>`). */
  netns: string;
  /** The node's namespace, where the runtime (and so the plugins) run. */
  nodeNetns: string;
  containerId: string;
  ifname: string;
  /** The IPAM network the pod asked for (`podroute.lab/pod-networks`); absent: IPAM picked. */
  network?: string;
  /** Addresses with prefix length, from the ADD result (`198.19.1.2/16`). */
  addresses: string[];
  /** The pod's gateways from the ADD result. */
  gateways: string[];
  conflist: string;
  cniPath: string;
  /** The ADD result, given back as prevResult on DEL. */
  result: unknown;
}

/** The pod count per podroute node, from the `podroute.lab/pods` label (read from the file itself). */
/** One runner label of every node, as written in the topology file (the model keeps no labels). */
function labelOf(topo: LabTopology, key: string): Map<string, unknown> {
  const raw = parseYaml(readFileSync(topo.file, 'utf8')) as {
    topology?: { nodes?: Record<string, { labels?: Record<string, unknown> } | null> };
  };
  const out = new Map<string, unknown>();
  for (const n of topo.nodes) {
    const v = raw.topology?.nodes?.[n.name]?.labels?.[key];
    if (v !== undefined) out.set(n.name, v);
  }
  return out;
}

export function podCounts(topo: LabTopology): Map<string, number> {
  const labels = labelOf(topo, PODS_LABEL);
  const out = new Map<string, number>();
  for (const n of topo.nodes) {
    const label = labels.get(n.name);
    const at = `topology.nodes.${n.name}.labels.${PODS_LABEL}`;
    if (label !== undefined && n.role !== 'podroute')
      throw new TopologyError(topo.file, at, `only podroute nodes get pods (this node is ${n.role})`);
    if (n.role !== 'podroute') continue;
    const hasIpam = typeof n.podrouteConfig?.ipam === 'object' && n.podrouteConfig.ipam !== null;
    if (label === undefined) {
      out.set(n.name, hasIpam ? DEFAULT_PODS : 0);
      continue;
    }
    const count = Number(label);
    if (!/^\d+$/.test(String(label)) || count > MAX_PODS)
      throw new TopologyError(topo.file, at, `"${String(label)}" is not a whole number 0..${MAX_PODS}`);
    if (count > 0 && !hasIpam)
      throw new TopologyError(
        topo.file,
        at,
        `${count} pods need an ipam section in the node's podroute config`,
      );
    out.set(n.name, count);
  }
  return out;
}

/** The networks a node's pods ask for, in turn, from `podroute.lab/pod-networks` (empty: IPAM picks). */
export function podNetworks(topo: LabTopology): Map<string, string[]> {
  const labels = labelOf(topo, POD_NETWORKS_LABEL);
  const out = new Map<string, string[]>();
  for (const n of topo.nodes) {
    const label = labels.get(n.name);
    if (label === undefined) continue;
    const at = `topology.nodes.${n.name}.labels.${POD_NETWORKS_LABEL}`;
    if (n.role !== 'podroute')
      throw new TopologyError(topo.file, at, `only podroute nodes get pods (this node is ${n.role})`);
    const names = String(label)
      .split(',')
      .map((x) => x.trim());
    if (names.some((x) => !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(x)))
      throw new TopologyError(
        topo.file,
        at,
        `"${String(label)}" is not a comma-separated list of network names`,
      );
    out.set(n.name, names);
  }
  return out;
}

/** The conflist a node's runtime would read from /etc/cni/net.d (the socket is the lab's). */
export function conflistFor(socket: string): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: 'pods',
    plugins: [{ type: 'ptp', mtu: 1500, ipam: { type: IPAM_TYPE, socket } }],
  };
}

/** CNI_PATH for the lab: `ptp` and `podroute-cni` (bin/podroute-cni, called by path, whatever it runs). */
export function cniBinDir(lab: Lab): string {
  const dir = lab.makeDir('cni/bin');
  symlinkSync(PTP_PLUGIN, join(dir, 'ptp'));
  symlinkSync(join(REPO_ROOT, 'bin', 'podroute-cni'), join(dir, IPAM_TYPE));
  return dir;
}

interface CniError {
  code?: number;
  msg?: string;
  details?: string;
}

/** One plugin of the list, executed as the runtime does: config on stdin, parameters in the env. */
async function execPlugin(
  pod: Pick<PodMeta, 'nodeNetns' | 'netns' | 'containerId' | 'ifname' | 'cniPath' | 'name' | 'network'>,
  command: 'ADD' | 'DEL',
  netconf: Record<string, unknown>,
): Promise<{ ok: true; result: unknown } | { ok: false; error: CniError; text: string }> {
  const type = String(netconf.type);
  const r = await run(
    'ip',
    [
      'netns',
      'exec',
      pod.nodeNetns,
      ...CLEAN_NODE,
      `CNI_COMMAND=${command}`,
      `CNI_CONTAINERID=${pod.containerId}`,
      `CNI_NETNS=/var/run/netns/${pod.netns}`,
      `CNI_IFNAME=${pod.ifname}`,
      `CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod.name};K8S_POD_INFRA_CONTAINER_ID=${pod.containerId}${pod.network ? `;podroute.io/network=${pod.network}` : ''}`,
      `CNI_PATH=${pod.cniPath}`,
      join(pod.cniPath, type),
    ],
    { input: JSON.stringify(netconf), env: daemonEnv(), allowFail: true, timeoutMs: 20_000 },
  );
  if (r.code === 0) {
    return { ok: true, result: r.stdout.trim() ? (JSON.parse(r.stdout) as unknown) : null };
  }
  let error: CniError = {};
  try {
    error = JSON.parse(r.stdout) as CniError;
  } catch {
    // not a CNI error object: the text below says what happened
  }
  const text = error.msg
    ? `${type} ${command}: CNI error ${error.code}: ${error.msg}${error.details ? ` (${error.details})` : ''}`
    : `${type} ${command} exited ${r.code}: ${(r.stderr || r.stdout).trim()}`;
  return { ok: false, error, text };
}

function pluginsOf(conflist: Record<string, unknown>): Record<string, unknown>[] {
  return (conflist.plugins as Record<string, unknown>[] | undefined) ?? [];
}

/** A plugin's own network configuration: the list's name and version added, and prevResult. */
function netconfOf(
  conflist: Record<string, unknown>,
  plugin: Record<string, unknown>,
  prevResult: unknown,
): Record<string, unknown> {
  return {
    ...plugin,
    cniVersion: conflist.cniVersion,
    name: conflist.name,
    ...(prevResult ? { prevResult } : {}),
  };
}

/**
 * Creates pod `<node>-pod<index>` on a node whose daemon answers on `socket`: its namespace, then ADD
 * through each plugin of the list in order. "Try again later" (11: the daemon not answering yet) is
 * retried for up to 20 s, as kubelet retries a pod sandbox.
 */
export async function addPod(
  lab: Lab,
  spec: {
    node: string;
    nodeNetns: string;
    socket: string;
    index: number;
    cniPath: string;
    network?: string;
  },
): Promise<PodMeta> {
  const name = `${spec.node}-pod${spec.index}`;
  const ns = await lab.addNamespace(name, { forwarding: false });
  const conflist = conflistFor(spec.socket);
  const conflistPath = lab.writeFile(
    `cni/${spec.node}/10-podroute.conflist`,
    JSON.stringify(conflist, null, 2),
  );
  const pod: PodMeta = {
    name,
    node: spec.node,
    netns: ns.name,
    nodeNetns: spec.nodeNetns,
    // A runtime's sandbox id is 64 hex characters; derived from the namespace so it reads the same later.
    containerId: createHash('sha256').update(ns.name).digest('hex'),
    ifname: 'eth0',
    ...(spec.network ? { network: spec.network } : {}),
    addresses: [],
    gateways: [],
    conflist: conflistPath,
    cniPath: spec.cniPath,
    result: null,
  };
  let prev: unknown = null;
  for (const plugin of pluginsOf(conflist)) {
    const until = Date.now() + 20_000;
    for (;;) {
      const r = await execPlugin(pod, 'ADD', netconfOf(conflist, plugin, prev));
      if (r.ok) {
        prev = r.result;
        break;
      }
      if (r.error.code !== 11 || Date.now() > until) throw new Error(`pod ${name}: ${r.text}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }
  pod.result = prev;
  const ips = (prev as { ips?: { address: string; gateway?: string }[] } | null)?.ips ?? [];
  pod.addresses = ips.map((i) => i.address);
  pod.gateways = ips.flatMap((i) => (i.gateway ? [i.gateway] : []));
  return pod;
}

/**
 * DEL through the list in reverse order with the cached result (CNI spec 1.0: DEL must succeed even
 * when things are already gone). Returns the error text, or undefined when it worked.
 */
export async function deletePod(pod: PodMeta): Promise<string | undefined> {
  let conflist: Record<string, unknown>;
  try {
    conflist = JSON.parse(readFileSync(pod.conflist, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    return `pod ${pod.name}: cannot read ${pod.conflist}: ${(e as Error).message}`;
  }
  for (const plugin of [...pluginsOf(conflist)].reverse()) {
    const r = await execPlugin(pod, 'DEL', netconfOf(conflist, plugin, pod.result));
    if (!r.ok) return `pod ${pod.name}: ${r.text}`;
  }
  return undefined;
}
