/**
 * Full-table ingest benchmark: a feeder (bench/feeder/) in the leaf namespace sends 1,000,000 IPv4
 * prefixes (a new AS_PATH every 400) to the speaker under test in the node namespace: podroute
 * (`accept: all`, `install: false`, no `maxPrefixes`), GoBGP (default import policy: accept) and BIRD (`import all`,
 * no kernel protocol), one after the other in the same run. Measured: seconds from the feeder's
 * first UPDATE until the speaker counts all prefixes, its CPU seconds by then, peak RSS (VmHWM)
 * and RSS 5 s after the count was reached.
 *
 *   npx tsx bench/bgp-ingest.ts [--count 1000000] [--per-path 400] [--only podroute,gobgp,bird]
 *                               [--poll-ms 200] [--timeout-s 600]
 *
 * Counters: podroute `GET /status` on its API socket (what `podroute status --json` prints:
 * peers[0].prefixesReceived), GoBGP `gobgp neighbor <addr> -j` (afi_safis[].state.accepted),
 * BIRD `birdc show protocols all <name>` ("Routes: N imported").
 */

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type ManagedProcess,
  type Namespace,
  REPO_ROOT,
  run,
  startBird,
  startGobgp,
  startPodroute,
  waitFor,
} from '../lab/fixture/index.js';
import { callApi } from '../src/api/client.js';
import type { StatusJson } from '../src/api/status.js';
import { LEAF_ADDR, LEAF_ASN, NODE_ADDR, NODE_ASN, twoNamespaces } from './lib/leaf.js';
import { nowMs } from './lib/route-monitor.js';
import { cpuSeconds, fmt, markdownTable, memoryMiB, sleep } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '1000000' },
    'per-path': { type: 'string', default: '400' },
    only: { type: 'string', default: 'podroute,gobgp,bird' },
    'poll-ms': { type: 'string', default: '200' },
    /** GoBGP's `neighbor` query walks its tables under a lock: polled more slowly not to slow it. */
    'gobgp-poll-ms': { type: 'string', default: '1000' },
    'timeout-s': { type: 'string', default: '600' },
    /** Another podroute executable (e.g. a wrapper adding `--cpu-prof`), for experiments. */
    'podroute-bin': { type: 'string' },
  },
});
const COUNT = Number(args.count);
const POLL_MS = Number(args['poll-ms']);

interface Speaker {
  /** Starts the speaker (up and configured, connecting to the feeder); returns the daemon process. */
  start(ns: Namespace): Promise<ManagedProcess>;
  /** Prefixes counted from the feeder so far. */
  count(): Promise<number>;
  stop(): Promise<void>;
}

interface Result {
  seconds: number;
  cpu: number;
  peakMiB: number;
  settledMiB: number;
  /** Highest RSS seen by the poller (VmHWM can be lower than a transient it missed, never higher). */
  counted: number;
}

function podroute(): Speaker {
  let node: Awaited<ReturnType<typeof startPodroute>> | undefined;
  return {
    async start(ns) {
      // No wait for the API: the session (and the stream) starts before `status` first answers,
      // and the counting loop must already be polling by then.
      node = await startPodroute(ns, {
        noWait: true,
        ...(args['podroute-bin'] ? { bin: args['podroute-bin'] } : {}),
        config: {
          node: { name: 'node1', routerId: NODE_ADDR },
          // install: false: the table is data only (100.64.0.0/10), kept in the Adj-RIB-In and never
          // written to the namespace's kernel, as for the other speakers.
          bgp: {
            asn: NODE_ASN,
            peers: [{ address: LEAF_ADDR, asn: LEAF_ASN, accept: 'all', install: false }],
          },
        },
      });
      return node.process!;
    },
    async count() {
      const res = await callApi(node!.socketPath, 'GET', '/status');
      const s = res.body as StatusJson;
      return s.bgp?.peers[0]?.prefixesReceived ?? 0;
    },
    async stop() {
      await node?.stop();
    },
  };
}

function gobgp(): Speaker {
  let r: Awaited<ReturnType<typeof startGobgp>> | undefined;
  const conf = `[global.config]
  as = ${NODE_ASN}
  router-id = "${NODE_ADDR}"

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
      r = await startGobgp(ns, { config: conf });
      return r.process!;
    },
    async count() {
      type N = { afi_safis?: { state?: { accepted?: number; received?: number } }[] };
      const n = await r!.gobgpJson<N>(['neighbor', LEAF_ADDR]);
      return (n.afi_safis ?? []).reduce((sum, f) => sum + (f.state?.accepted ?? 0), 0);
    },
    async stop() {
      await r?.stop();
    },
  };
}

function bird(): Speaker {
  let r: Awaited<ReturnType<typeof startBird>> | undefined;
  const conf = `log stderr { warning, error, fatal };
router id ${NODE_ADDR};
protocol device {}
protocol bgp feeder {
  local ${NODE_ADDR} as ${NODE_ASN};
  neighbor ${LEAF_ADDR} as ${LEAF_ASN};
  ipv4 { import all; export none; };
}
`;
  return {
    async start(ns) {
      r = await startBird(ns, { config: conf });
      return r.process!;
    },
    async count() {
      const out = await r!.birdc('show protocols all feeder');
      const m = /Routes:\s+(\d+) imported/.exec(out);
      return m ? Number(m[1]) : 0;
    },
    async stop() {
      await r?.stop();
    },
  };
}

/** Reads the feeder's JSON events from its log. */
function feederEvents(proc: ManagedProcess): Record<string, Record<string, unknown>> {
  const ev: Record<string, Record<string, unknown>> = {};
  for (const line of proc.log().split('\n')) {
    try {
      const j = JSON.parse(line) as { event?: string };
      if (j.event && !ev[j.event]) ev[j.event] = j;
    } catch {
      // tsx or node warnings
    }
  }
  return ev;
}

async function oneSpeaker(name: string, sp: Speaker, leafNs: Namespace, nodeNs: Namespace): Promise<Result> {
  const feeder = leafNs.spawn(`feeder-${name}`, 'node', [
    '--import',
    'tsx',
    join(REPO_ROOT, 'bench', 'feeder', 'feeder.ts'),
    '--listen',
    LEAF_ADDR,
    '--asn',
    String(LEAF_ASN),
    '--peer-asn',
    String(NODE_ASN),
    '--count',
    String(COUNT),
    '--per-path',
    args['per-path'],
  ]);
  try {
    const ready = await waitFor(() => feederEvents(feeder).ready, {
      timeoutMs: 120_000,
      intervalMs: 100,
      what: 'feeder ready',
      giveUp: () => (feeder.running ? undefined : `feeder exited:\n${feeder.tail(20)}`),
    });
    console.error(`${name}: feeder ready ${JSON.stringify(ready)}`);
    const proc = await sp.start(nodeNs);
    const first = await waitFor(
      () => feederEvents(feeder).established && feederEvents(feeder)['first-update'],
      {
        timeoutMs: 120_000,
        intervalMs: 50,
        what: `${name} session with the feeder`,
        giveUp: () => (proc.running ? undefined : `${name} exited:\n${proc.tail(20)}`),
      },
    );
    const tFirst = first.at as number;
    const deadline = nowMs() + Number(args['timeout-s']) * 1000;
    let counted = 0;
    let tDone = Number.NaN;
    let lastLog = 0;
    while (nowMs() < deadline) {
      if (!proc.running) throw new Error(`${name} exited during ingest:\n${proc.tail(20)}`);
      const ev = feederEvents(feeder);
      if (ev.notification) throw new Error(`${name} sent NOTIFICATION ${JSON.stringify(ev.notification)}`);
      counted = await sp.count().catch(() => counted);
      if (counted >= COUNT) {
        tDone = nowMs();
        break;
      }
      if (nowMs() - lastLog > 5000) {
        lastLog = nowMs();
        console.error(
          `  ${name}: ${counted} after ${fmt((nowMs() - tFirst) / 1000, 1)} s, RSS ${fmt(memoryMiB(proc.pid)?.rss ?? Number.NaN)} MiB`,
        );
      }
      await sleep(name === 'gobgp' ? Number(args['gobgp-poll-ms']) : POLL_MS);
    }
    if (!(counted >= COUNT))
      console.error(
        `${name}: gave up; feeder events ${JSON.stringify(Object.keys(feederEvents(feeder)))}\n${feeder.tail(5)}\n${proc.tail(10)}`,
      );
    // The whole process's CPU time up to the count (podroute's includes Node's start-up, ~0.5 s).
    const cpu = cpuSeconds(proc.pid) ?? Number.NaN;
    await sleep(5000);
    const mem = memoryMiB(proc.pid);
    const sent = feederEvents(feeder).sent;
    console.error(
      `${name}: ${counted} counted after ${fmt((tDone - tFirst) / 1000, 2)} s (feeder wrote its last byte at ${
        sent ? fmt(((sent.at as number) - tFirst) / 1000, 2) : '?'
      } s), CPU ${fmt(cpu, 1)} s, peak ${fmt(mem?.peak ?? Number.NaN)} MiB, settled ${fmt(mem?.rss ?? Number.NaN)} MiB`,
    );
    await sp.stop();
    return {
      seconds: (tDone - tFirst) / 1000,
      cpu,
      peakMiB: mem?.peak ?? Number.NaN,
      settledMiB: mem?.rss ?? Number.NaN,
      counted,
    };
  } finally {
    await sp.stop().catch(() => undefined);
    await feeder.stop(2000);
  }
}

async function main(): Promise<void> {
  const speakers: Record<string, () => Speaker> = { podroute, gobgp, bird };
  const names = args.only.split(',').filter((n) => n in speakers);
  const { lab, leafNs, nodeNs } = await twoNamespaces();
  const results: Record<string, Result> = {};
  try {
    for (const name of names) {
      results[name] = await oneSpeaker(name, speakers[name]!(), leafNs, nodeNs);
      await sleep(1000);
    }
    // No received prefix may have reached a kernel table (table.ts: they are data only).
    const leaked = (
      await run('ip', ['-n', nodeNs.name, '-4', 'route', 'show', 'root', '100.64.0.0/10'])
    ).stdout.trim();
    console.error(
      leaked
        ? `WARNING: routes from the table in the node namespace:\n${leaked.slice(0, 500)}`
        : 'node namespace kernel table: no route from 100.64.0.0/10 (as intended)',
    );
  } finally {
    await lab.destroy();
  }
  const base = results.podroute;
  const ratio = (x: number, b: number | undefined): string =>
    b !== undefined && Number.isFinite(b) && b > 0 ? fmt(x / b, 2) : '–';
  console.log(`\n${COUNT.toLocaleString('en-US')} prefixes, one run each\n`);
  console.log(
    markdownTable(
      [
        'speaker',
        'first UPDATE → all counted, s',
        '× podroute',
        'CPU s (process total)',
        'peak RSS, MiB',
        '× podroute',
        'RSS settled, MiB',
      ],
      names.map((n) => {
        const r = results[n]!;
        return [
          n,
          fmt(r.seconds, 2),
          ratio(r.seconds, base?.seconds),
          fmt(r.cpu, 1),
          fmt(r.peakMiB),
          ratio(r.peakMiB, base?.peakMiB),
          fmt(r.settledMiB),
        ];
      }),
    ),
  );
}

await main();
