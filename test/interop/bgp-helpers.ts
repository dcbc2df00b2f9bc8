/**
 * Shared steps of the BGP interop tests: a leaf and a podroute node joined by one veth, the
 * measurements every peer type is held to (route in the leaf's kernel, status, SIGTERM withdrawal),
 * and a live reload of the node's configuration file.
 */
import { writeFileSync } from 'node:fs';
import type { Test } from 'tap';
import { stringify } from 'yaml';
import {
  CLEAN_NODE,
  daemonEnv,
  type ExecResult,
  type IpRoute,
  type Lab,
  type Namespace,
  type PodrouteNode,
  run,
  waitFor,
} from '../../lab/fixture/index.js';

export interface Uplink {
  leafNs: Namespace;
  nodeNs: Namespace;
}

/** leaf eth<n> 198.18.0.<2k>/31 + 2001:db8::<2k>/127  <->  node eth<n> .<2k+1> */
export async function addUplink(lab: Lab, leafNs: Namespace, nodeNs: Namespace, k: number, ifname = 'eth1') {
  await lab.addLink(
    {
      ns: leafNs,
      ifname: `eth${k + 1}`,
      addresses: [`198.18.0.${2 * k}/31`, `2001:db8::${(2 * k).toString(16)}/127`],
    },
    {
      ns: nodeNs,
      ifname,
      addresses: [`198.18.0.${2 * k + 1}/31`, `2001:db8::${(2 * k + 1).toString(16)}/127`],
    },
  );
}

/** Waits for `dst` in the namespace's kernel table (any protocol), or for it to be gone. */
export function waitRoute(ns: Namespace, dst: string, timeoutMs = 20_000): Promise<IpRoute> {
  return waitFor(() => ns.route(dst), {
    timeoutMs,
    intervalMs: 50,
    what: `${dst} in ${ns.name}'s kernel table`,
  });
}

export async function waitNoRoute(ns: Namespace, dst: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(async () => !(await ns.route(dst)), {
    timeoutMs,
    intervalMs: 10,
    what: `${dst} gone from ${ns.name}'s kernel table`,
  });
}

export async function waitEstablished(node: PodrouteNode, peers: readonly string[], timeoutMs = 20_000) {
  return waitFor(
    async () => {
      const s = await node.status();
      const up = s.bgp?.peers.filter((p) => peers.includes(p.address) && p.state === 'Established') ?? [];
      return up.length === peers.length ? s : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `podroute Established with ${peers.join(', ')}` },
  );
}

/**
 * SIGTERM the daemon and time how long the leaf keeps `dst`. The daemon withdraws first, then exits 0
 * within 5 s (docs/cli.md); the route must leave the leaf's table within a second.
 */
export async function sigtermWithdraws(
  t: Test,
  node: PodrouteNode,
  leafNs: Namespace,
  dsts: readonly string[],
) {
  const start = performance.now();
  const exited = node.sigterm();
  await Promise.all(dsts.map((d) => waitNoRoute(leafNs, d, 5000)));
  const ms = performance.now() - start;
  t.ok(ms < 1000, `leaf dropped ${dsts.join(', ')} ${ms.toFixed(0)} ms after SIGTERM (< 1000 ms)`);
  const exit = await exited;
  t.equal(exit.code, 0, 'podroute exits 0 after SIGTERM');
}

/** Rewrites the node's configuration file in place (what an operator or a ConfigMap update does). */
export function rewriteConfig(node: PodrouteNode, c: Record<string, unknown>): void {
  node.setConfig(c);
  writeFileSync(node.configPath, stringify(node.effectiveConfig()));
}

/** `podroute reload` against the node's API socket; the exit code and output, never a throw. */
export function reloadNode(node: PodrouteNode): Promise<ExecResult> {
  return run(CLEAN_NODE[0], [...CLEAN_NODE.slice(1), node.bin, 'reload', '--socket', node.socketPath], {
    timeoutMs: 15_000,
    env: daemonEnv(),
    allowFail: true,
  });
}
