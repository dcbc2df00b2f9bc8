/**
 * Shared steps of the end-to-end tests: an etcd that node namespaces reach over a lab link, the CNI
 * reference `ptp` plugin delegating IPAM to `bin/podroute-cni`, and `podroute ipam` from the CLI.
 *
 * The fixture's `startEtcd` listens on a namespace's loopback only, which other namespaces cannot
 * reach; the daemons here run in their own node namespaces, so etcd listens on a lab address.
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  CLEAN_NODE,
  daemonEnv,
  type ExecResult,
  type Lab,
  type ManagedProcess,
  type Namespace,
  type PodrouteNode,
  REPO_ROOT,
  run,
  waitFor,
} from '../../lab/fixture/index.js';
import type { IpamShow } from '../../src/api/endpoints.js';

export const PTP = '/usr/lib/cni/ptp';

/** One etcd member in `ns`, serving clients on `addresses` (port 2379; peers on 127.0.0.1:2380). */
export async function startLinkEtcd(lab: Lab, ns: Namespace, addresses: string[]): Promise<ManagedProcess> {
  const dir = lab.makeDir(`etcd-${ns.shortName}`);
  const clients = addresses.map((a) => `http://${a}:2379`).join(',');
  const peer = 'http://127.0.0.1:2380';
  const proc = ns.spawn('etcd', 'etcd', [
    '--name',
    'e2e',
    '--data-dir',
    join(dir, 'data'),
    '--listen-client-urls',
    clients,
    '--advertise-client-urls',
    clients,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `e2e=${peer}`,
    '--initial-cluster-state',
    'new',
    '--log-outputs',
    'stderr',
    '--logger',
    'zap',
  ]);
  const script =
    'fetch(process.argv[1],{signal:AbortSignal.timeout(2000)}).then(r=>r.json())' +
    '.then(h=>process.exit(h.health==="true"?0:1)).catch(()=>process.exit(1))';
  await waitFor(
    async () =>
      (
        await ns.exec(process.execPath, ['-e', script, `http://${addresses[0]}:2379/health`], {
          allowFail: true,
        })
      ).code === 0,
    {
      timeoutMs: 20_000,
      intervalMs: 200,
      what: 'etcd /health',
      giveUp: () => (proc.running ? undefined : `etcd exited:\n${proc.tail(20)}`),
    },
  );
  return proc;
}

/** A CNI_PATH directory holding `ptp` and `podroute` (a link to bin/podroute-cni). */
export function cniPath(lab: Lab): string {
  const dir = lab.makeDir('cni-bin');
  symlinkSync(PTP, join(dir, 'ptp'));
  symlinkSync(join(REPO_ROOT, 'bin', 'podroute-cni'), join(dir, 'podroute'));
  return dir;
}

export function netconf(socket: string, prevResult?: unknown): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'pods',
    type: 'ptp',
    ipam: { type: 'podroute', socket },
    ...(prevResult ? { prevResult } : {}),
  });
}

export interface CniCall {
  command: 'ADD' | 'DEL' | 'CHECK';
  node: PodrouteNode;
  pod: Namespace;
  containerId: string;
  /** Default: the reference ptp plugin; `podroute` calls the IPAM plugin alone. */
  plugin?: string;
  prevResult?: unknown;
}

/**
 * Runs a CNI plugin inside the node's namespace the way a runtime does: config on stdin, the rest in
 * the environment. NODE_OPTIONS is removed (tap's loaders must not reach the plugin's node).
 */
export function cni(path: string, c: CniCall): Promise<ExecResult> {
  const plugin = c.plugin ?? PTP;
  return run(
    'ip',
    [
      'netns',
      'exec',
      c.node.ns.name,
      ...CLEAN_NODE,
      `CNI_COMMAND=${c.command}`,
      `CNI_CONTAINERID=${c.containerId}`,
      `CNI_NETNS=/var/run/netns/${c.pod.name}`,
      'CNI_IFNAME=eth0',
      `CNI_PATH=${path}`,
      plugin,
    ],
    { input: netconf(c.node.socketPath, c.prevResult), env: daemonEnv(), allowFail: true, timeoutMs: 20_000 },
  );
}

/** `bin/podroute ipam ARGS --socket <node's socket>` from the root namespace (the API is a unix socket). */
export function ipamCli(node: PodrouteNode, args: string[]): Promise<ExecResult> {
  return run(
    CLEAN_NODE[0],
    [...CLEAN_NODE.slice(1), node.bin, 'ipam', ...args, '--socket', node.socketPath],
    {
      env: daemonEnv(),
      timeoutMs: 15_000,
      allowFail: true,
    },
  );
}

export async function ipamShow(node: PodrouteNode): Promise<IpamShow> {
  const r = await ipamCli(node, ['show', '--json']);
  if (r.code !== 0) throw new Error(`podroute ipam show failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as IpamShow;
}

/** The blocks `ipam show` says `name` holds. */
export function blocksOf(show: IpamShow, name: string): string[] {
  return show.nodes.find((n) => n.node === name)?.blocks ?? [];
}

/** `ip -j route show <dst>` in a namespace: the route with its nexthops (ECMP) and protocol. */
export async function routeTo(
  ns: Namespace,
  dst: string,
): Promise<
  | { dst: string; gateway?: string; protocol?: string; nexthops?: { gateway: string; dev: string }[] }
  | undefined
> {
  const r = await ns.ip(['-j', '-4', 'route', 'show', 'exact', dst]);
  const list = JSON.parse(r.stdout.trim() || '[]') as {
    dst: string;
    gateway?: string;
    protocol?: string;
    nexthops?: { gateway: string; dev: string }[];
  }[];
  return list[0];
}
