/**
 * Announce benchmark: podroute, GoBGP and BIRD each announce one prefix to the same waiting FRR
 * leaf, started with their default settings as an operator would run them. Per run:
 *
 *   1. spawn the announcer in the node namespace → time until the prefix enters the leaf's kernel
 *      table (kernel timestamp from `ip -ts monitor route` in the leaf namespace);
 *   2. settle 2 s → VmRSS of the daemon process itself (not a wrapper);
 *   3. SIGTERM → time until the prefix leaves the leaf's kernel table.
 *
 *   npx tsx bench/bgp-announce.ts [--runs 5] [--only podroute,gobgp,bird] [--verbose]
 *
 * Runs are interleaved (podroute, GoBGP, BIRD, podroute, ...) so load on the shared machine spreads
 * over all three. Needs root, FRR, BIRD 2, gobgpd and a built podroute (`npm run build`).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type ManagedProcess, type Namespace, startFrr, startPodroute } from '../lab/fixture/index.js';
import { FRR_LEAF_CONFIG, LEAF_ADDR, LEAF_ASN, NODE_ADDR, NODE_ASN, twoNamespaces } from './lib/leaf.js';
import { PacketLog } from './lib/packet-log.js';
import { nowMs, RouteMonitor } from './lib/route-monitor.js';
import { commOf, fmt, markdownTable, memoryMiB, sleep, summarize } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    only: { type: 'string', default: 'podroute,gobgp,bird' },
    verbose: { type: 'boolean', default: false },
    /** Another podroute executable (e.g. a wrapper adding Node flags), for experiments. */
    'podroute-bin': { type: 'string' },
  },
});
const RUNS = Number(args.runs);
const PREFIX = '198.19.1.0/24';
const SETTLE_MS = 2000;

interface Announcer {
  /** Starts the daemon; resolves once it is spawned (not when it is up). */
  start(ns: Namespace): Promise<ManagedProcess>;
  /** Extra step after spawn that an operator needs to originate the prefix (GoBGP's API call). */
  originate?(ns: Namespace, proc: ManagedProcess): Promise<number>;
}

interface Sample {
  upMs: number;
  rssMiB: number;
  withdrawMs: number;
  exitMs: number;
  originateMs?: number;
  /** Spawn → the announcer's first SYN to the leaf (what its connect timer costs). */
  synMs: number;
  /** SIGTERM → the announcer's first BGP bytes on the wire (its withdraw or NOTIFICATION). */
  wireWithdrawMs: number;
  comm: string;
}

/**
 * podroute: the documented config with nothing tuned (connectRetryTime 30 s, holdTime 90 s,
 * listenPort 179, accept none).
 */
const podroute: Announcer = {
  async start(ns) {
    const node = await startPodroute(ns, {
      noWait: true,
      ...(args['podroute-bin'] ? { bin: args['podroute-bin'] } : {}),
      config: {
        node: { name: 'node1', routerId: NODE_ADDR },
        announce: [PREFIX],
        bgp: { asn: NODE_ASN, peers: [{ address: LEAF_ADDR, asn: LEAF_ASN }] },
      },
    });
    return node.process!;
  },
};

/**
 * GoBGP 3.10: gobgpd with a config holding only global + neighbor (defaults: connect-retry 120 s,
 * hold 90 s, idle-hold-time-after-reset 0); the prefix is originated the way GoBGP users do it,
 * `gobgp global rib add`, as soon as the gRPC API answers (gobgpd's config file cannot originate
 * routes). The time to the leaf includes that call.
 */
function gobgp(apiPort: number): Announcer {
  const conf = `[global.config]
  as = ${NODE_ASN}
  router-id = "${NODE_ADDR}"
  port = 179

[[neighbors]]
  [neighbors.config]
    neighbor-address = "${LEAF_ADDR}"
    peer-as = ${LEAF_ASN}
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
`;
  return {
    async start(ns) {
      ns.lab.writeFile('gobgp-bench/gobgpd.toml', conf);
      return ns.spawn('gobgpd', 'gobgpd', [
        '-f',
        `${ns.lab.tmpDir}/gobgp-bench/gobgpd.toml`,
        '-t',
        'toml',
        '--api-hosts',
        `127.0.0.1:${apiPort}`,
        '--pprof-disable',
      ]);
    },
    async originate(ns, proc) {
      for (;;) {
        if (!proc.running) throw new Error(`gobgpd exited:\n${proc.tail(20)}`);
        const r = await ns.exec(
          'gobgp',
          ['-p', String(apiPort), 'global', 'rib', 'add', '-a', 'ipv4', PREFIX],
          { allowFail: true },
        );
        if (r.code === 0) return nowMs();
        await sleep(20);
      }
    },
  };
}

/**
 * BIRD 2.0.12: a static route exported to one BGP protocol, every timer at its default (start
 * delay time 5 s, connect retry time 120 s, hold time 240 s), no kernel protocol.
 */
const BIRD_CONF = `log stderr all;
router id ${NODE_ADDR};
protocol device {}
protocol static { ipv4; route ${PREFIX} blackhole; }
protocol bgp leaf {
  local ${NODE_ADDR} as ${NODE_ASN};
  neighbor ${LEAF_ADDR} as ${LEAF_ASN};
  ipv4 { import none; export where source = RTS_STATIC; };
}
`;
const bird: Announcer = {
  async start(ns) {
    ns.lab.writeFile('bird-bench/bird.conf', BIRD_CONF);
    const dir = `${ns.lab.tmpDir}/bird-bench`;
    return ns.spawn('bird', 'bird', [
      '-f',
      '-c',
      `${dir}/bird.conf`,
      '-s',
      `${dir}/bird.ctl`,
      '-P',
      `${dir}/bird.pid`,
    ]);
  },
};

async function oneRun(
  name: string,
  a: Announcer,
  nodeNs: Namespace,
  mon: RouteMonitor,
  pkts: PacketLog,
): Promise<Sample> {
  const t0 = nowMs();
  const proc = await a.start(nodeNs);
  const originated = a.originate ? a.originate(nodeNs, proc) : undefined;
  const up = await mon.wait('add', PREFIX, t0, 60_000);
  const originateMs = originated ? (await originated) - t0 : undefined;
  await sleep(SETTLE_MS);
  const mem = memoryMiB(proc.pid);
  const comm = commOf(proc.pid);
  const t1 = nowMs();
  proc.signal('SIGTERM');
  const down = await mon.wait('del', PREFIX, t1, 30_000);
  const exit = await Promise.race([proc.exited, sleep(10_000).then(() => undefined)]);
  const exitMs = nowMs() - t1;
  if (!exit) await proc.kill();
  if (args.verbose) console.error(`  +${fmt(up.at - t0)} ms  route in the leaf's kernel table`);
  if (args.verbose && name === 'podroute') {
    // podroute's JSON log: where its start-up time goes, relative to the spawn.
    for (const line of readFileSync(proc.logPath, 'utf8').split('\n').slice(-40)) {
      try {
        const j = JSON.parse(line) as { time?: string | number; msg?: string };
        const at = typeof j.time === 'string' ? Date.parse(j.time) : (j.time ?? 0);
        if (at >= t0 - 1000) console.error(`  +${fmt(at - t0)} ms  ${j.msg ?? ''}`);
      } catch {
        // not a JSON line
      }
    }
  }
  const syn = pkts.first(t0, (p) => p.flags === 'S');
  const wire = pkts.first(t1, (p) => p.length > 0);
  return {
    synMs: syn ? syn.at - t0 : Number.NaN,
    wireWithdrawMs: wire ? wire.at - t1 : Number.NaN,
    upMs: up.at - t0,
    rssMiB: mem?.rss ?? Number.NaN,
    withdrawMs: down.at - t1,
    exitMs,
    comm,
    ...(originateMs !== undefined ? { originateMs } : {}),
  };
}

async function main(): Promise<void> {
  const { lab, leafNs, nodeNs } = await twoNamespaces();
  try {
    await startFrr(leafNs, { config: FRR_LEAF_CONFIG });
    const mon = await RouteMonitor.start(lab, leafNs);
    const pkts = await PacketLog.start(lab, leafNs, 'eth1', NODE_ADDR);
    const announcers: Record<string, Announcer> = {
      podroute,
      gobgp: gobgp(lab.allocPort(50051)),
      bird,
    };
    const names = args.only.split(',').filter((n) => n in announcers);
    const samples: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const name of names) {
        const s = await oneRun(name, announcers[name]!, nodeNs, mon, pkts);
        samples[name]!.push(s);
        console.error(
          `run ${i + 1}/${RUNS} ${name.padEnd(8)} up ${fmt(s.upMs)} ms (SYN at ${fmt(s.synMs)} ms)` +
            (s.originateMs !== undefined ? ` (API add done at ${fmt(s.originateMs)} ms)` : '') +
            `, RSS ${fmt(s.rssMiB, 1)} MiB (${s.comm}), withdrawn ${fmt(s.withdrawMs, 1)} ms (on the wire at ${fmt(s.wireWithdrawMs, 1)} ms), exited ${fmt(s.exitMs)} ms`,
        );
        // Let the leaf drop the dynamic neighbour before the next announcer connects.
        await sleep(1000);
      }
    }
    const base = summarize(samples.podroute?.map((s) => s.upMs) ?? []);
    const baseW = summarize(samples.podroute?.map((s) => s.withdrawMs) ?? []);
    const baseR = summarize(samples.podroute?.map((s) => s.rssMiB) ?? []);
    const rows = names.map((n) => {
      const up = summarize(samples[n]!.map((s) => s.upMs));
      const w = summarize(samples[n]!.map((s) => s.withdrawMs));
      const r = summarize(samples[n]!.map((s) => s.rssMiB));
      const syn = summarize(samples[n]!.map((s) => s.synMs));
      const wire = summarize(samples[n]!.map((s) => s.wireWithdrawMs));
      const ratio = (x: number, b: number): string => (Number.isFinite(b) && b > 0 ? fmt(x / b, 1) : '–');
      return [
        n,
        `${fmt(up.median)} (${fmt(up.min)}–${fmt(up.max)})`,
        ratio(up.median, base.median),
        fmt(syn.median),
        `${fmt(w.median, 1)} (${fmt(w.min, 1)}–${fmt(w.max, 1)})`,
        ratio(w.median, baseW.median),
        fmt(wire.median, 1),
        `${fmt(r.median, 1)} (${fmt(r.min, 1)}–${fmt(r.max, 1)})`,
        ratio(r.median, baseR.median),
      ];
    });
    console.log(`\n${RUNS} runs each; median (min–max)\n`);
    console.log(
      markdownTable(
        [
          'announcer',
          'start → leaf kernel, ms',
          '× podroute',
          'of which: first SYN at, ms',
          'SIGTERM → gone from leaf, ms',
          '× podroute',
          'of which: on the wire at, ms',
          'RSS after 2 s, MiB',
          '× podroute',
        ],
        rows,
      ),
    );
  } finally {
    await lab.destroy();
  }
}

await main();
