/**
 * Block claims per second against a real etcd (Debian etcd-server 3.4, one member on loopback,
 * temp data dir) with 200 concurrent nodes, each its own EtcdBlockStore client (own gRPC channel,
 * own lease), as 200 daemons would be.
 *
 *   npx tsx bench/ipam-etcd-claims.ts [nodes, default 200] [blocks per node, default 10]
 *
 * Pool: the 2048 /26 blocks of 198.18.0.0/15 (only strings in etcd; no traffic). Scenarios, each
 * in its own key prefix, all nodes starting at once:
 * - disjoint: each node claims blocks of its own slice (nodes in different topology groups): no
 *   lost races, so it measures etcd's transaction rate under 200 clients.
 * - shared pool: every node picks its next block the way Ipam.claimBlock does (carve.ts
 *   chooseBlock over its view of the claims: buddy of a held block, else the first block of the
 *   largest free region), learns the holder on a lost race and re-reads all claims every 8 losses.
 *   All nodes of one group starting together is the worst case for lost races.
 * Latency is per store.claim() call (one etcd transaction, or more when retried). The client side
 * (200 nodes' choice of blocks) runs in this one process, so its CPU competes with etcd's.
 */

import { Lab, startEtcd } from '../lab/fixture/index.js';
import { chooseBlock, freeSpace } from '../src/ipam/carve.js';
import { EtcdBlockStore } from '../src/ipam/store/etcd.js';
import type { BlockClaim } from '../src/ipam/store/types.js';
import { silentLogger } from '../src/lib/log.js';
import { formatPrefix, type Prefix, parsePrefix } from '../src/net/prefix.js';
import { fmt, markdownTable } from './lib/stats.js';

const NODES = Number(process.argv[2] ?? 200);
const PER_NODE = Number(process.argv[3] ?? 10);
const POOL = [parsePrefix('198.18.0.0/15')];
const LEN = 26;
const BLOCKS = 2048;

/** The i-th /26 of 198.18.0.0/15. */
function block(i: number): string {
  const n = (198 << 24) + (18 << 16) + i * 64;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/26`;
}

function pct(sorted: readonly number[], p: number): number {
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Result {
  name: string;
  won: number;
  lost: number;
  ms: number;
  lat: number[];
  /** CPU seconds this process (the 200 clients) used during the run. */
  cpu: number;
}

async function scenario(
  endpoints: string[],
  name: string,
  /** The node's next block given what it knows, or undefined when it wants no more. */
  next: (node: number, known: ReadonlyMap<string, string>, held: readonly Prefix[]) => string | undefined,
): Promise<Result> {
  const prefix = `/bench/${name.split(' ')[0]}`;
  const stores = Array.from(
    { length: NODES },
    () =>
      new EtcdBlockStore({
        hosts: endpoints,
        prefix,
        leaseTtl: 30,
        dialTimeoutMs: 5000,
        logger: silentLogger,
      }),
  );
  try {
    await Promise.all(stores.map((s, i) => s.register(`node${i}`, { addresses: [`198.18.255.${i % 250}`] })));
    const lat: number[] = [];
    let won = 0;
    let lost = 0;
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    await Promise.all(
      stores.map(async (s, i) => {
        const me = `node${i}`;
        const known = new Map<string, string>(); // block -> holder
        const held: Prefix[] = [];
        let losses = 0;
        for (;;) {
          const text = next(i, known, held);
          if (text === undefined) break;
          const claim: BlockClaim = {
            block: text,
            node: me,
            group: 'g',
            network: 'pods',
            claimId: `${i}-${text}`,
          };
          const t0 = performance.now();
          const r = await s.claim(claim);
          lat.push(performance.now() - t0);
          if (r.ok) {
            won++;
            known.set(text, me);
            held.push(parsePrefix(text));
          } else {
            lost++;
            known.set(r.holder.block, r.holder.node);
            // Ipam.claimBlock: every 8 lost races, re-read everything.
            if (++losses % 8 === 0) for (const c of await s.list()) known.set(c.block, c.node);
          }
        }
      }),
    );
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu0);
    const stored = await stores[0]!.list();
    if (stored.length !== won) throw new Error(`${name}: ${won} claims won but ${stored.length} stored`);
    if (new Set(stored.map((c) => c.block)).size !== stored.length) throw new Error(`${name}: a block twice`);
    return {
      name,
      won,
      lost,
      ms,
      lat: lat.sort((a, b) => a - b),
      cpu: (used.user + used.system) / 1e6,
    };
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
}

const lab = await Lab.create();
try {
  const etcd = await startEtcd(lab);
  if (NODES * PER_NODE > BLOCKS)
    throw new Error(`${NODES} × ${PER_NODE} blocks exceed the pool of ${BLOCKS}`);
  const results = [
    await scenario(etcd.endpoints, 'disjoint', (i, _known, held) =>
      held.length < PER_NODE ? block(i * PER_NODE + held.length) : undefined,
    ),
    await scenario(etcd.endpoints, 'shared pool (Ipam choice)', (_i, known, held) => {
      if (held.length >= PER_NODE) return undefined;
      const claimed = [...known.keys()].map((b) => parsePrefix(b));
      const choice = chooseBlock(freeSpace(POOL, claimed, LEN), LEN, held);
      return choice ? formatPrefix(choice) : undefined;
    }),
  ];
  console.log(
    markdownTable(
      [
        `etcd block claims, ${NODES} nodes`,
        'claims won',
        'lost races',
        'won/s',
        'calls/s',
        'p50 ms',
        'p99 ms',
        'wall s',
        'client CPU s',
      ],
      results.map((r) => [
        r.name,
        String(r.won),
        String(r.lost),
        fmt((r.won / r.ms) * 1000),
        fmt(((r.won + r.lost) / r.ms) * 1000),
        fmt(pct(r.lat, 50), 1),
        fmt(pct(r.lat, 99), 1),
        fmt(r.ms / 1000, 1),
        fmt(r.cpu, 1),
      ]),
    ),
  );
  console.log(
    `\nload average at the end: ${(await import('node:os'))
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await lab.destroy();
}
