/**
 * The daemon's VLAN wiring: which IPAM VLAN networks are present on this node (a network with
 * `vlan`, `gateway` and `interface` of which the node holds a block) for the routes module's VLAN
 * data plane (src/routes/vlan-ipam.ts), whether each VLAN's gateway answers (a ping on a timer),
 * and the `vlans` section of the status document. Also follows the store's node records while
 * VLAN networks are configured: the same-VLAN routes to other nodes' blocks go via their addresses.
 */
import { execFile } from 'node:child_process';
import type { StatusJson, VlanStatus } from '../api/status.js';
import type { Ipam } from '../ipam/ipam.js';
import type { NetworkSpec } from '../ipam/topology.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { formatPrefix } from '../net/prefix.js';
import { type IpamVlan, vlanTable } from '../routes/vlan-ipam.js';

/** Seconds between two pings of each VLAN gateway. */
export const GATEWAY_PROBE_INTERVAL_S = 10;

/** Resolves true when `gateway` answers one echo request sent out of `ifname`. */
export type GatewayProbe = (ifname: string, gateway: string) => Promise<boolean>;

/** iputils ping: one echo request out of the VLAN interface, one second to answer. */
export const pingProbe: GatewayProbe = (ifname, gateway) =>
  new Promise((resolve) => {
    const args = ['-n', '-q', '-c', '1', '-W', '1', '-I', ifname, gateway];
    execFile('ping', gateway.includes(':') ? ['-6', ...args] : args, { timeout: 3000 }, (err) =>
      resolve(!err),
    );
  });

interface Liveness {
  alive: boolean | null;
  at: number | null;
}

export class VlanWiring {
  private readonly liveness = new Map<string, Liveness>();
  private timer: TimerHandle | undefined;
  private probing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly ipam: Ipam,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly probe: GatewayProbe = pingProbe,
    private readonly untrack: () => Promise<void> = async () => {},
  ) {}

  /** The VLAN networks the configuration defines (with vlan, gateway and interface). */
  private networks(): (NetworkSpec & { vlan: number; gateway: string; interface: string })[] {
    return this.ipam.topology.networks.filter(
      (n): n is NetworkSpec & { vlan: number; gateway: string; interface: string } =>
        n.vlan !== undefined && n.gateway !== undefined && n.interface !== undefined,
    );
  }

  /** The VLANs present on this node: configured VLAN networks it holds a block of. */
  list(): IpamVlan[] {
    const blocks = this.ipam.localBlocks();
    const out: IpamVlan[] = [];
    for (const n of this.networks()) {
      const mine = blocks.filter((b) => b.network === n.name).map((b) => b.block);
      if (mine.length === 0) continue;
      out.push({
        network: n.name,
        vlan: n.vlan,
        interface: n.interface,
        gateway: n.gateway,
        ranges: n.ranges,
        blocks: mine,
      });
    }
    return out;
  }

  /** The status document with the `vlans` section added (when VLAN networks are configured). */
  addStatus(doc: StatusJson): StatusJson {
    const blocks = this.ipam.localBlocks();
    const vlans: VlanStatus[] = this.list().map((v) => {
      const live = this.liveness.get(v.network);
      return {
        network: v.network,
        vlan: v.vlan,
        interface: v.interface,
        gateway: v.gateway,
        table: vlanTable(v.vlan),
        gatewayAlive: live?.alive ?? null,
        gatewayCheckedAt: live?.at ?? null,
        pods: blocks.filter((b) => b.network === v.network).reduce((sum, b) => sum + b.used, 0),
        blocks: v.blocks.map(formatPrefix),
      };
    });
    return { ...doc, vlans };
  }

  /** Pings every present VLAN's gateway now and then every GATEWAY_PROBE_INTERVAL_S. */
  start(): void {
    void this.probeAll();
  }

  /** One round of pings (each VLAN present); resolves when all answered or timed out. */
  probeAll(): Promise<void> {
    this.probing ??= (async () => {
      await Promise.all(
        this.list().map(async (v) => {
          const alive = await this.probe(v.interface, v.gateway).catch(() => false);
          const before = this.liveness.get(v.network)?.alive;
          this.liveness.set(v.network, { alive, at: this.clock.now() });
          if (before !== alive) {
            const log = alive ? this.logger.info : this.logger.warn;
            log.call(
              this.logger,
              { network: v.network, vlan: v.vlan, gateway: v.gateway, interface: v.interface },
              alive ? 'VLAN gateway answers' : 'VLAN gateway does not answer',
            );
          }
        }),
      );
    })().finally(() => {
      this.probing = undefined;
      if (!this.stopped) {
        this.timer?.cancel();
        this.timer = this.clock.setTimer(GATEWAY_PROBE_INTERVAL_S * 1000, () => void this.probeAll());
      }
    });
    return this.probing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.probing;
    await this.untrack();
  }
}

/**
 * The wiring when the configuration has VLAN networks, else undefined (nothing runs). Follows the
 * node records (layer 2 routes inside each VLAN need the other nodes' addresses) and starts the
 * gateway pings.
 */
export async function startVlans(
  ipam: Ipam,
  clock: Clock,
  logger: Logger,
  probe: GatewayProbe = pingProbe,
): Promise<VlanWiring | undefined> {
  const any = ipam.topology.networks.some(
    (n) => n.vlan !== undefined && n.gateway !== undefined && n.interface !== undefined,
  );
  if (!any) return undefined;
  const untrack = await ipam.cluster.trackNodes();
  const wiring = new VlanWiring(ipam, clock, logger.child({ component: 'vlan' }), probe, untrack);
  wiring.start();
  return wiring;
}
