/**
 * A VPC for the controller tests: the local EC2-compatible server (fake-ec2.ts, not EC2), two
 * zones with one subnet and one route table each plus the VPC's main table, instances whose
 * addresses the IPAM store's node records carry, and claims for their pod blocks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import type { BlockStore } from '../../../src/ipam/store/types.js';
import type { Clock } from '../../../src/lib/clock.js';
import { createLogger } from '../../../src/lib/log.js';
import { parsePrefix } from '../../../src/net/prefix.js';
import { type AwsControllerOptions, AwsRouteController } from '../../../src/routes/aws/controller.js';
import type { Leadership } from '../../../src/routes/aws/leader.js';
import { FileLeadership } from '../../../src/routes/aws/leader-file.js';
import { Ec2VpcApi } from '../../../src/routes/aws/vpc-api.js';
import { FakeEc2, type FakeInstance, type FakeTable } from './fake-ec2.js';

export const VPC = 'vpc-0c1a55e5';
export const VPC_CIDR = '198.18.0.0/16';
export const POD_NETWORK = '198.19.0.0/16';
export const ZONES = ['zone-a', 'zone-b'] as const;

/** Timers fire on the next turn of the event loop, whatever they ask for; the waits are recorded. */
export class InstantClock implements Clock {
  readonly waits: number[] = [];
  now(): number {
    return performance.now();
  }
  setTimer(ms: number, fn: () => void) {
    this.waits.push(ms);
    const h = setImmediate(fn);
    return { cancel: () => clearImmediate(h) };
  }
}

/** i-th /26 of the pod network. */
export function podBlock(i: number): string {
  const n = (198 << 24) + (19 << 16) + i * 64;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/26`;
}

export interface NodeSpec {
  name: string;
  zone: 0 | 1;
  blocks: number[];
  group?: string;
}

export class VpcEnv {
  readonly ec2 = new FakeEc2();
  endpoint = '';
  readonly main: FakeTable;
  readonly zoneTables: FakeTable[];
  readonly dir = mkdtempSync(join(tmpdir(), 'podroute-aws-'));
  readonly logger = createLogger('error');
  private serial = 0;
  private readonly apis: Ec2VpcApi[] = [];

  constructor(readonly store: BlockStore) {
    this.main = this.ec2.addVpc(VPC, VPC_CIDR);
    this.zoneTables = ZONES.map((_, z) => this.ec2.addTable(VPC, VPC_CIDR, [`subnet-${z}a`]));
  }

  static async create(t: Test, store: BlockStore): Promise<VpcEnv> {
    const env = new VpcEnv(store);
    env.endpoint = await env.ec2.listen();
    t.teardown(() => env.close());
    return env;
  }

  /** An instance in the zone and a node record with its address, and claims for its blocks. */
  async addNode(spec: NodeSpec): Promise<FakeInstance> {
    this.serial++;
    const hex = this.serial.toString(16).padStart(8, '0');
    const inst = this.ec2.addInstance({
      instanceId: `i-${hex}`,
      vpcId: VPC,
      zone: ZONES[spec.zone],
      subnet: `subnet-${spec.zone}a`,
      eniId: `eni-${hex}`,
      address: `198.18.${spec.zone}.${this.serial + 10}`,
    });
    await this.store.register(spec.name, { addresses: [inst.address] });
    for (const b of spec.blocks) {
      const r = await this.store.claim({
        block: podBlock(b),
        node: spec.name,
        group: spec.group ?? ZONES[spec.zone],
        network: 'pods',
        claimId: `${spec.name}-${b}`,
      });
      if (!r.ok) throw new Error(`block ${b} already held by ${r.holder.node}`);
    }
    return inst;
  }

  api(): Ec2VpcApi {
    const api = new Ec2VpcApi({
      region: 'us-east-1',
      endpoint: this.endpoint,
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
    });
    this.apis.push(api);
    return api;
  }

  leadership(node: string, base = join(this.dir, 'ipam.json')): Leadership {
    return new FileLeadership(base, node);
  }

  controller(over: Partial<AwsControllerOptions> & { node?: string } = {}): {
    c: AwsRouteController;
    clock: InstantClock;
  } {
    const clock = new InstantClock();
    let seed = 1;
    const c = new AwsRouteController({
      store: this.store,
      leadership: over.leadership ?? this.leadership(over.node ?? 'node-ctl'),
      api: this.api(),
      clock,
      // A fixed sequence: tests see the jitter without depending on Math.random.
      random: () => {
        seed = (seed * 48271) % 2147483647;
        return seed / 2147483647;
      },
      logger: this.logger,
      networks: [parsePrefix(POD_NETWORK)],
      budget: 50,
      routeLimit: 50,
      allowCrossZone: false,
      intervalMs: 30_000,
      ...over,
    });
    return { c, clock };
  }

  /** destination → ENI, for one table, without the local route. */
  routes(table: FakeTable): Record<string, string> {
    return Object.fromEntries(
      [...table.routes.entries()].filter(([, r]) => r.eniId).map(([d, r]) => [d, r.eniId!]),
    );
  }

  get tables(): FakeTable[] {
    return [this.main, ...this.zoneTables];
  }

  async close(): Promise<void> {
    for (const a of this.apis) a.close();
    await this.ec2.close();
    await this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
