/**
 * `podroute lab check`: every pod pings every other pod's addresses and its own default gateway, one
 * echo request each with a one-second timeout, all pings of a pod in parallel from one shell inside its
 * namespace and a bounded number of pods at a time, so a healthy lab checks in well under a second.
 * The result is a matrix for people and JSON for tools; any lost pair fails the check.
 */

import { mapLimit } from './concurrency.js';
import { run } from './fixture/index.js';
import type { PodMeta } from './pods.js';

/** Pods pinging at the same time, and pings in flight per pod: 4 x 16 processes at most. */
const POD_CONCURRENCY = 4;
const PING_CONCURRENCY = 16;

export interface PingResult {
  from: string;
  /** A pod name, or `gateway`. */
  to: string;
  address: string;
  ok: boolean;
}

export interface CheckReport {
  pods: { name: string; node: string; addresses: string[]; gateways: string[] }[];
  results: PingResult[];
  pairs: number;
  lost: number;
  seconds: number;
}

const bare = (cidr: string): string => cidr.split('/')[0]!;

/** `address rc` per line from the pod's namespace: rc 0 is a reply within the timeout. */
async function pingAll(netns: string, addresses: readonly string[]): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  if (addresses.length === 0) return out;
  const script =
    `printf '%s\\n' "$@" | xargs -P ${PING_CONCURRENCY} -n 1 ` +
    `sh -c 'ping -n -q -c 1 -W 1 "$1" >/dev/null 2>&1; echo "$1 $?"' ping`;
  const r = await run('ip', ['netns', 'exec', netns, 'sh', '-c', script, 'check', ...addresses], {
    allowFail: true,
    timeoutMs: 30_000,
  });
  for (const line of r.stdout.split('\n')) {
    const [addr, rc] = line.trim().split(' ');
    if (addr && rc !== undefined) out.set(addr, rc === '0');
  }
  return out;
}

export async function checkPods(pods: readonly PodMeta[]): Promise<CheckReport> {
  const started = Date.now();
  const perPod = await mapLimit(pods, POD_CONCURRENCY, async (pod) => {
    const targets: { to: string; address: string }[] = [];
    for (const g of pod.gateways) targets.push({ to: 'gateway', address: g });
    for (const other of pods) {
      if (other === pod) continue;
      for (const a of other.addresses) targets.push({ to: other.name, address: bare(a) });
    }
    const got = await pingAll(pod.netns, [...new Set(targets.map((t) => t.address))]);
    return targets.map((t) => ({ from: pod.name, ...t, ok: got.get(t.address) === true }));
  });
  const results = perPod.flat();
  return {
    pods: pods.map((p) => ({ name: p.name, node: p.node, addresses: p.addresses, gateways: p.gateways })),
    results,
    pairs: results.length,
    lost: results.filter((r) => !r.ok).length,
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * The matrix: one row per pod, a `gw` column for its gateway and one column per pod (numbered, the
 * legend is the row list). `ok` every address answered, `XX` none did, `x4`/`x6` one family lost.
 */
export function formatCheck(report: CheckReport): string {
  const names = report.pods.map((p) => p.name);
  const width = Math.max(4, ...names.map((n) => n.length));
  const cell = (from: string, to: string): string => {
    const rs = report.results.filter((r) => r.from === from && r.to === to);
    if (rs.length === 0) return '-';
    const lost = rs.filter((r) => !r.ok);
    if (lost.length === 0) return 'ok';
    if (lost.length === rs.length) return 'XX';
    return lost.some((r) => r.address.includes(':')) ? 'x6' : 'x4';
  };
  const cols = ['gw', ...names.map((_, i) => String(i + 1))];
  const lines = [
    `${' '.repeat(width + 5)}${cols.map((c) => c.padStart(3)).join('')}`,
    ...report.pods.map((p, i) => {
      const cells = [cell(p.name, 'gateway'), ...names.map((n) => (n === p.name ? '.' : cell(p.name, n)))];
      return `${String(i + 1).padStart(3)}  ${p.name.padEnd(width)}${cells.map((c) => c.padStart(3)).join('')}  ${p.addresses.join(' ')}`;
    }),
    '',
    `${report.pairs} pings, ${report.lost} lost, ${report.seconds.toFixed(2)} s` +
      (report.lost ? '' : ': every pod reaches every pod and its gateway'),
  ];
  for (const r of report.results.filter((x) => !x.ok))
    lines.push(`  lost: ${r.from} -> ${r.to} ${r.address}`);
  return lines.join('\n');
}
