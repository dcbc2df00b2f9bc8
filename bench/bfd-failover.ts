/**
 * BFD failover benchmark (RFC 5880 6.8.4 Detection Time, RFC 5882 10.2 BGP reaction): a node
 * dual-homed to two FRR leafs (bgpd + bfdd, 100/100/3 profile), one IPv4 eBGP session to each, both
 * leafs sending a default route, the node announcing 198.19.1.0/24. The node is podroute (bfd
 * { minRx: 100, minTx: 100, multiplier: 3 }), then FRR bgpd + bfdd doing the same job (same
 * timers, `maximum-paths 2`), in the same run. Lab: test/interop/bfd-fabric.ts.
 *
 * Per run: iptables DROP both ways on the node's first uplink (a silent failure: no link-down
 * event), then, with kernel timestamps (`ip -ts monitor route` in both namespaces):
 *   - node: the ECMP default loses the leaf1 path (the multipath route deleted or replaced);
 *   - leaf1: its route to the node's prefix is deleted.
 * Then the rules go and the run waits for both paths, BGP and BFD back before the next one.
 *
 *   npx tsx bench/bfd-failover.ts [--runs 7] [--only podroute,frr] [--verbose]
 *
 * Needs root, FRR (bgpd, bfdd, zebra, staticd) and a built podroute (`npm run build`).
 */
import { parseArgs } from 'node:util';
import { Lab, type Namespace, sleep, waitFor } from '../lab/fixture/index.js';
import { type Fabric, LEAF_PEERS, OWN, startFabric, waitDefaultHops } from '../test/interop/bfd-fabric.js';
import { nowMs, RouteMonitor } from './lib/route-monitor.js';
import { fmt, markdownTable, summarize } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    only: { type: 'string', default: 'podroute,frr' },
    verbose: { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const TIMERS = { bfd: true, keepalive: 3, hold: 9 };

/** One `sh` for both rules, so the failure starts within one exec of t0. */
async function drop(ns: Namespace, on: boolean): Promise<void> {
  const op = on ? '-I' : '-D';
  await ns.exec('sh', [
    '-c',
    `iptables ${op} INPUT -i eth1 -j DROP && iptables ${op} OUTPUT -o eth1 -j DROP`,
  ]);
}

interface Sample {
  nodeMs: number;
  leafMs: number;
}

/** The first change of the node's default after `t0` that leaves the leaf1 path out. */
async function nodeLostLeaf1(mon: RouteMonitor, t0: number, timeoutMs: number): Promise<number> {
  const leaf1 = `via ${LEAF_PEERS[0]} `;
  return waitFor(
    () => {
      const e = mon.events.find(
        (x) => x.dst === 'default' && x.at >= t0 && (x.kind === 'del' || !x.line.includes(leaf1)),
      );
      if (e && args.verbose) console.error(`  node: ${e.line}`);
      return e ? e.at : undefined;
    },
    { timeoutMs, intervalMs: 5, what: 'node default without leaf1' },
  );
}

async function oneRun(f: Fabric, nodeMon: RouteMonitor, leafMon: RouteMonitor): Promise<Sample> {
  const t0 = nowMs();
  await drop(f.nodeNs, true);
  const [nodeAt, leafDel] = await Promise.all([
    nodeLostLeaf1(nodeMon, t0, 15_000),
    leafMon.wait('del', OWN, t0, 15_000),
  ]);
  await sleep(300);
  await drop(f.nodeNs, false);
  await waitDefaultHops(f.nodeNs, 2, 60_000);
  await waitFor(() => f.leafNs[0]!.route(OWN), { timeoutMs: 60_000, what: `${OWN} back at leaf1` });
  // Let BFD settle at 100 ms again (the first packets after Up run at 1 s, RFC 5880 6.8.3).
  await sleep(3000);
  return { nodeMs: nodeAt - t0, leafMs: leafDel.at - t0 };
}

async function bench(kind: 'podroute' | 'frr'): Promise<Sample[]> {
  const lab = await Lab.create();
  try {
    const f = await startFabric(lab, TIMERS, kind);
    const nodeMon = await RouteMonitor.start(lab, f.nodeNs);
    const leafMon = await RouteMonitor.start(lab, f.leafNs[0]!);
    await sleep(3000);
    const out: Sample[] = [];
    for (let i = 0; i < RUNS; i++) {
      const s = await oneRun(f, nodeMon, leafMon);
      out.push(s);
      console.error(
        `run ${i + 1}/${RUNS} ${kind.padEnd(8)} node ${fmt(s.nodeMs, 1)} ms, leaf ${fmt(s.leafMs, 1)} ms`,
      );
      if (args.verbose) console.error(f.podroute?.logs().split('\n').slice(-8).join('\n') ?? '');
    }
    return out;
  } finally {
    await lab.destroy();
  }
}

async function main(): Promise<void> {
  const names = args.only.split(',').filter((n): n is 'podroute' | 'frr' => n === 'podroute' || n === 'frr');
  const samples: Partial<Record<'podroute' | 'frr', Sample[]>> = {};
  for (const n of names) samples[n] = await bench(n);
  const cell = (v: number[]) => {
    const s = summarize(v);
    return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
  };
  const rows = names.map((n) => {
    const ss = samples[n]!;
    const worst = ss.map((s) => Math.max(s.nodeMs, s.leafMs));
    return [
      n === 'frr' ? 'FRR bgpd + bfdd' : 'podroute',
      cell(ss.map((s) => s.nodeMs)),
      cell(ss.map((s) => s.leafMs)),
      `${worst.filter((w) => w <= 400).length}/${ss.length}`,
    ];
  });
  console.log(`\n${RUNS} runs each, BFD 100 ms x 3 at both ends; median (min–max), ms from the DROP rules\n`);
  console.log(
    markdownTable(
      [
        'node-side speaker',
        'node ECMP default loses leaf1',
        'leaf1 loses the node prefix',
        'runs ≤ 400 ms (both)',
      ],
      rows,
    ),
  );
}

await main();
