/**
 * Rolling-restart benchmark (RFC 4724 graceful restart, RFC 8538 N-bit): what a DaemonSet rolling
 * update costs the pods of one node. Lab: test/interop/gr-lab.ts (an FRR leaf with `bgp
 * graceful-restart` as the helper, one IPv4 eBGP session to the node, the node announcing
 * 198.19.1.0/24 with the pod address 198.19.1.10 on its loopback).
 *
 * Four node-side speakers, each in its own lab, interleaved run by run:
 *   - podroute with `bgp.gracefulRestart` (SIGTERM = restart: routes stay, GR close);
 *   - podroute without (SIGTERM = withdraw, Cease);
 *   - FRR zebra + bgpd + staticd with `bgp graceful-restart` + preserve-fw-state, zebra started
 *     with `-r` (keep its kernel routes when it exits) and `-K` (keep what it finds, as stale);
 *   - the same FRR without graceful restart.
 * Per run: the leaf pings the pod address every 10 ms for the window; 0.5 s in, every node-side
 * process gets SIGTERM, and as soon as the last has exited the new ones start (what the kubelet
 * does); then the run waits for the session and the leaf's route. Recorded: pings sent and lost,
 * and how long the leaf's kernel route to the node was absent (`ip -ts monitor route` stamps,
 * bench/lib/route-monitor.ts: from its deletion to its next addition; 0 if never deleted).
 *
 *   npx tsx bench/rolling-restart.ts [--runs 5] [--only podroute-gr,podroute,frr-gr,frr]
 *                                    [--window-s 15] [--verbose]
 *
 * Needs root, FRR (zebra, bgpd, staticd) and a built podroute (`npm run build`).
 */
import { parseArgs } from 'node:util';
import { Lab, sleep, waitFor } from '../lab/fixture/index.js';
import { waitEstablished, waitRoute } from '../test/interop/bgp-helpers.js';
import {
  AGGREGATE,
  buildGrLab,
  type GrLab,
  LEAF_ADDR,
  NODE_ADDR,
  POD,
  ping,
} from '../test/interop/gr-lab.js';
import { nowMs, RouteMonitor } from './lib/route-monitor.js';
import { fmt, markdownTable, summarize } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    only: { type: 'string', default: 'podroute-gr,podroute,frr-gr,frr' },
    'window-s': { type: 'string', default: '15' },
    verbose: { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const WINDOW_S = Number(args['window-s']);

interface Variant {
  id: string;
  label: string;
  speaker: 'podroute' | 'frr';
  gr: boolean;
}

const VARIANTS: Variant[] = [
  { id: 'podroute-gr', label: 'podroute, gracefulRestart', speaker: 'podroute', gr: true },
  { id: 'podroute', label: 'podroute, without', speaker: 'podroute', gr: false },
  { id: 'frr-gr', label: 'FRR zebra + bgpd, graceful-restart', speaker: 'frr', gr: true },
  { id: 'frr', label: 'FRR zebra + bgpd, without', speaker: 'frr', gr: false },
];

interface Sample {
  sent: number;
  lost: number;
  /** ms the leaf's route to the node's prefix was out of its kernel table. */
  absentMs: number;
  /** ms from SIGTERM until the new session was Established. */
  restartMs: number;
}

interface Rig {
  v: Variant;
  lab: Lab;
  g: GrLab;
  mon: RouteMonitor;
}

/** SIGTERM, wait for the exit, start the new process(es), wait for the session. */
async function rollingRestart(r: Rig): Promise<void> {
  if (r.g.node) {
    const exit = await r.g.node.sigterm();
    if (exit.code !== 0) throw new Error(`${r.v.id}: old podroute exited ${JSON.stringify(exit)}`);
    await r.g.node.start();
    await waitEstablished(r.g.node, [LEAF_ADDR], 30_000);
  } else {
    // FrrRouter.stop: SIGTERM to bgpd and staticd, then zebra; each waited for (SIGKILL after 3 s).
    await r.g.frrNode!.stop();
    await r.g.frrNode!.start();
    await r.g.frrNode!.waitBgpEstablished(LEAF_ADDR, 30_000);
  }
}

/** The leaf's route absence after `t0`: first deletion to the next addition, 0 if none. */
async function absence(mon: RouteMonitor, t0: number): Promise<number> {
  const del = mon.events.find((e) => e.kind === 'del' && e.dst === AGGREGATE && e.at >= t0);
  if (!del) return 0;
  const add = await mon.wait('add', AGGREGATE, del.at, 10_000);
  return add.at - del.at;
}

async function oneRun(r: Rig): Promise<Sample> {
  const t0 = nowMs();
  const pings = ping(r.g.leafNs, POD, WINDOW_S);
  await sleep(500);
  const term = nowMs();
  await rollingRestart(r);
  const restartMs = nowMs() - term;
  await waitRoute(r.g.leafNs, AGGREGATE, 30_000);
  const back = nowMs() - t0;
  const [sent, lost] = await pings;
  if (back > WINDOW_S * 1000 - 1000)
    throw new Error(
      `${r.v.id}: the leaf's route came back ${fmt(back)} ms in, past the window: raise --window-s`,
    );
  const absentMs = await absence(r.mon, t0);
  // Settle: the restart finished on both sides (End-of-RIB, stale routes swept) before the next.
  if (r.g.node && r.v.gr)
    await waitFor(
      async () => ((await r.g.node!.status()).bgp?.gracefulRestart?.restarting === false ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 100, what: 'podroute restart finished' },
    );
  await sleep(3000);
  return { sent, lost, absentMs, restartMs };
}

async function setUp(v: Variant): Promise<Rig> {
  const lab = await Lab.create();
  try {
    const g = await buildGrLab(lab, { speaker: v.speaker, gr: v.gr });
    const mon = await RouteMonitor.start(lab, g.leafNs);
    const seen = await g.leaf.vtysh(`show bgp neighbors ${NODE_ADDR}`);
    const negotiated = /Graceful Restart Capability: advertised and received/.test(seen);
    if (args.verbose || negotiated !== v.gr)
      console.error(`${v.id}: leaf sees the node's graceful restart capability: ${negotiated}`);
    if (negotiated !== v.gr) throw new Error(`${v.id}: graceful restart negotiated = ${negotiated}`);
    return { v, lab, g, mon };
  } catch (e) {
    await lab.destroy();
    throw e;
  }
}

function cell(v: number[], digits = 0): string {
  const s = summarize(v);
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}

async function main(): Promise<void> {
  const ids = args.only.split(',');
  const variants = VARIANTS.filter((v) => ids.includes(v.id));
  const rigs: Rig[] = [];
  const samples = new Map<string, Sample[]>();
  try {
    for (const v of variants) {
      rigs.push(await setUp(v));
      samples.set(v.id, []);
    }
    await sleep(2000);
    for (let i = 0; i < RUNS; i++) {
      for (const r of rigs) {
        const s = await oneRun(r);
        samples.get(r.v.id)!.push(s);
        console.error(
          `run ${i + 1}/${RUNS} ${r.v.id.padEnd(11)} ${s.lost} of ${s.sent} lost, route absent ` +
            `${fmt(s.absentMs, 1)} ms, SIGTERM → Established ${fmt(s.restartMs)} ms`,
        );
        if (args.verbose && r.g.node) console.error(r.g.node.logs().split('\n').slice(-12).join('\n'));
      }
    }
  } finally {
    for (const r of rigs) await r.lab.destroy();
  }
  const rows = variants.map((v) => {
    const ss = samples.get(v.id)!;
    return [
      v.label,
      cell(ss.map((s) => s.sent)),
      cell(ss.map((s) => s.lost)),
      cell(
        ss.map((s) => s.absentMs),
        1,
      ),
      cell(ss.map((s) => s.restartMs)),
      `${ss.filter((s) => s.lost === 0).length}/${ss.length}`,
    ];
  });
  console.log(
    `\n${RUNS} runs each, interleaved; a ping every 10 ms for ${WINDOW_S} s from the leaf to ${POD}; ` +
      'median (min–max)\n',
  );
  console.log(
    markdownTable(
      [
        'node-side speaker',
        'pings sent',
        'pings lost',
        "leaf's route absent, ms",
        'SIGTERM → Established, ms',
        'runs with 0 lost',
      ],
      rows,
    ),
  );
}

await main();
