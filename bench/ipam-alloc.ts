/**
 * In-process IPAM benchmark: allocate + release pairs per second (goal ≥ 500,000/s).
 *
 *   npx tsx bench/ipam-alloc.ts [seconds per case, default 2]
 *
 * Cases: the synchronous allocator core (what the CNI path costs once a node holds its blocks),
 * with and without quarantine, and the async `Ipam` facade on the in-memory store and state (block
 * claims included as the pool grows; no disk I/O: durability costs one fsync'd write per batch
 * of concurrent calls, which this does not measure).
 */
import { ipamSchema } from '../src/config/ipam.js';
import { AddressPool, HeldBlock } from '../src/ipam/allocator.js';
import { Ipam } from '../src/ipam/ipam.js';
import { MemoryNodeState } from '../src/ipam/state.js';
import { MemoryBlockStore } from '../src/ipam/store/memory.js';
import { Topology } from '../src/ipam/topology.js';
import { ManualClock } from '../src/lib/clock.js';
import { silentLogger } from '../src/lib/log.js';
import { makePrefix } from '../src/net/prefix.js';

const seconds = Number(process.argv[2] ?? 2);
const LIVE = 1000; // pods alive on the node while churning

const config = (quarantine: number) =>
  ipamSchema.parse({
    networks: [{ name: 'pods', cidr: '198.18.0.0/16', blockSize: 26, gateway: '198.18.0.1' }],
    quarantine,
    blockGrace: 300,
  });

/**
 * Wall-clock rate, and the rate per CPU-second of this process: the machine may be shared, and
 * the CPU figure is what one dedicated core would do.
 */
function report(name: string, pairs: number, ms: number, cpu: NodeJS.CpuUsage): void {
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(11);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(
    `${name.padEnd(44)} ${fmt((pairs / ms) * 1000)}/s wall ${fmt((pairs / cpuMs) * 1000)}/s per CPU-second`,
  );
}

function core(quietMs: number, msPerPair: number, runSeconds = seconds, quiet = false): void {
  const topo = Topology.build(config(0));
  const net = topo.networks[0]!;
  const pool = new AddressPool(quietMs);
  for (let i = 0; i < 64; i++) {
    pool.addBlock(new HeldBlock(makePrefix(Buffer.from([198, 18, i >> 2, (i & 3) * 64]), 26), net));
  }
  let now = 0;
  const owners = Array.from({ length: 1 << 16 }, (_, i) => `c${i}/eth0`);
  for (let i = 0; i < LIVE; i++) pool.allocate(owners[i]!, 'pods', now);
  let next = LIVE;
  let pairs = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const end = start + runSeconds * 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 10_000; k++) {
      pool.release(owners[(next - LIVE) & 0xffff]!, now);
      if (!pool.allocate(owners[next & 0xffff]!, 'pods', now)) throw new Error('pool exhausted');
      next++;
      now += msPerPair;
    }
    pairs += 10_000;
  }
  if (!quiet)
    report(
      `core, quarantine ${quietMs} ms (${msPerPair} ms/pair)`,
      pairs,
      performance.now() - start,
      process.cpuUsage(cpu0),
    );
}

async function facade(runSeconds = seconds, quiet = false): Promise<void> {
  const clock = new ManualClock();
  const ipam = await Ipam.open({
    config: config(0),
    node: { name: 'bench', labels: {} },
    store: new MemoryBlockStore(),
    clock,
    logger: silentLogger,
    state: new MemoryNodeState(),
  });
  const owners = Array.from({ length: 1 << 16 }, (_, i) => ({ containerId: `c${i}`, ifname: 'eth0' }));
  for (let i = 0; i < LIVE; i++) await ipam.allocate(owners[i]!);
  let next = LIVE;
  let pairs = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const end = start + runSeconds * 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 10_000; k++) {
      await ipam.release(owners[(next - LIVE) & 0xffff]!);
      await ipam.allocate(owners[next & 0xffff]!);
      next++;
    }
    pairs += 10_000;
  }
  if (!quiet)
    report('Ipam facade (memory store and state)', pairs, performance.now() - start, process.cpuUsage(cpu0));
  await ipam.close();
}

// Warm-up so the first case is not measured cold (JIT).
core(0, 0, 0.5, true);
core(0, 0);
core(1, 0.001);
await facade(0.5, true);
await facade();
