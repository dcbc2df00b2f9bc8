/**
 * The daemon: wires configuration, the desired prefix set, the speakers and the local API.
 *
 *   config.announce ─┐                    ┌─► BGP speaker ─► peers
 *                    ├─► desired prefixes ─┼─► OSPF speaker ─► leaf
 *   IPAM aggregate ──┘                    └─► routes ─► kernel (blackholes, layer 2 peers)
 *
 * Nothing here speaks a protocol: it only decides what is desired and asks each consumer to
 * reconcile toward it.
 */
import type { Server } from 'node:http';
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';
import { ApiServer } from '../api/server.js';
import type { StatusJson } from '../api/status.js';
import { type Config, routerId as defaultRouterId, nodeName } from '../config/index.js';
import { defaultRoutesConfig } from '../config/routes.js';
import type { Ipam } from '../ipam/ipam.js';
import type { BlockStore } from '../ipam/store/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { comparePrefix, formatPrefix, type Prefix, parsePrefix, prefixEquals } from '../net/prefix.js';
import type { PeerNode } from '../routes/desired.js';
import type { RoutesManager } from '../routes/manager.js';
import { type BgpAdvertiser, createBgp, createOspf, type OspfAdvertiser } from './speakers.js';

export interface DaemonOptions {
  config: Config;
  logger: Logger;
  clock: Clock;
}

export class Daemon {
  readonly node: string;
  readonly routerId: string;
  private readonly logger: Logger;
  private readonly api: ApiServer;
  private bgp: BgpAdvertiser | undefined;
  private ospf: OspfAdvertiser | undefined;
  private metrics: Server | undefined;
  private store: BlockStore | undefined;
  private ipam: Ipam | undefined;
  private routes: RoutesManager | undefined;
  private desired: Prefix[] = [];
  private peers: PeerNode[] = [];
  private unwatchPeers: (() => void) | undefined;
  private peersRunning: Promise<void> | undefined;
  private peersAgain = false;
  private peersRetry: TimerHandle | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: DaemonOptions) {
    const { config, logger } = opts;
    this.logger = logger;
    this.node = nodeName(config);
    const rid = defaultRouterId(config);
    if (!rid) {
      throw new Error('node.routerId: not set and no IPv4 address found on any interface to default to');
    }
    this.routerId = rid;
    this.api = new ApiServer(config.api.socket, logger.child({ component: 'api' }));
    this.api.route('GET /status', async () => this.status());
  }

  /**
   * Modules are loaded only for what the config uses (dynamic imports): a BGP-only node does not
   * pay for the OSPF stack, the etcd client, netlink or the metrics library at start.
   */
  async start(): Promise<void> {
    const { config, clock } = this.opts;
    await this.api.listen();
    if (config.ipam) {
      const [{ Ipam }, { openStore }, { registerIpamApi }] = await Promise.all([
        import('../ipam/ipam.js'),
        import('../ipam/store/open.js'),
        import('./ipam-api.js'),
      ]);
      this.store = await openStore(config.ipam, this.logger.child({ component: 'store' }));
      this.ipam = await Ipam.open({
        config: config.ipam,
        node: { name: this.node, labels: config.node.labels },
        store: this.store,
        clock,
        logger: this.logger.child({ component: 'ipam' }),
      });
      // The node record carries this node's link addresses: other nodes in layer 2 mode route
      // our blocks via them (Ipam.open registered the name only).
      const addresses = nodeAddresses(config.routes?.interfaces);
      await this.store.register(this.node, { addresses });
      this.logger.info({ addresses }, 'registered node addresses');
      this.ipam.onChange(() => this.reconcile());
      registerIpamApi(this.api, this.ipam);
    }
    if (config.bgp) {
      this.bgp = await createBgp(config.bgp, this.routerId, clock, this.logger.child({ component: 'bgp' }));
    }
    if (config.ospf) {
      const ospf = await createOspf(
        config.ospf,
        this.routerId,
        clock,
        this.logger.child({ component: 'ospf' }),
      );
      this.api.route('GET /ospf/database', async () => ospf.database());
      this.ospf = ospf;
    }
    // The sessions come up first: a leaf learns the node's prefixes while netlink loads.
    this.reconcile();
    await Promise.all([this.bgp?.start(), this.ospf?.start()]);
    const routesConfig = config.routes ?? defaultRoutesConfig;
    if (routesConfig.manage) {
      const { RoutesManager } = await import('../routes/manager.js');
      this.routes = new RoutesManager({ config: routesConfig, clock, logger: this.logger });
      this.reconcile();
      await this.routes.start();
    }
    if (this.routes && this.ipam && this.store && routesConfig.mode === 'layer2') {
      // layer 2: routes to every other node's blocks via its addresses. Claims reach us through
      // ipam.onChange (after IPAM re-read them), node records through the store's own watch.
      const store = this.store;
      const offIpam = this.ipam.onChange(() => void this.refreshPeers());
      const offStore = store.watch(() => void this.refreshPeers());
      this.unwatchPeers = () => {
        offIpam();
        offStore();
      };
      await this.refreshPeers();
    }

    if (config.api.metrics) {
      const { createMetricsRegistry, startMetricsServer } = await import('./metrics.js');
      this.metrics = await startMetricsServer(
        config.api.metrics,
        createMetricsRegistry(() => this.status()),
      );
    }
    this.logger.info(
      { node: this.node, routerId: this.routerId, announced: this.desired.map(formatPrefix) },
      'podroute started',
    );
  }

  /** Recomputes the desired prefix set and hands it to every speaker when it changed. */
  reconcile(): void {
    const next = [
      ...this.opts.config.announce.map((p) => parsePrefix(p)),
      ...(this.ipam?.announcement() ?? []),
    ];
    next.sort(comparePrefix);
    const unique = next.filter((p, i) => i === 0 || !prefixEquals(p, next[i - 1]!));
    this.desired = unique;
    this.bgp?.setDesired(unique);
    this.ospf?.setDesired(unique);
    this.routes?.update({ announced: unique, peers: this.peers });
  }

  /**
   * layer 2: re-reads the node records and pairs them with IPAM's view of every node's blocks.
   * Runs never overlap; calls during a run coalesce into one more run. A node released with
   * `podroute ipam release-node` has neither claims nor a record, so its routes go away.
   */
  private refreshPeers(): Promise<void> {
    if (this.peersRunning) {
      this.peersAgain = true;
      return this.peersRunning;
    }
    const run = async (): Promise<void> => {
      do {
        this.peersAgain = false;
        const store = this.store;
        const ipam = this.ipam;
        if (!store || !ipam || this.stopping) return;
        let records: Awaited<ReturnType<BlockStore['nodes']>>;
        try {
          records = await store.nodes();
        } catch (e) {
          this.logger.warn(
            { err: (e as Error).message },
            'cannot read node records; layer 2 routes unchanged, retrying in 5 s',
          );
          // The store's watch may stay silent after an outage: retry on our own.
          this.peersRetry ??= this.opts.clock.setTimer(5000, () => {
            this.peersRetry = undefined;
            void this.refreshPeers();
          });
          return;
        }
        const blocks = ipam.blocksByNode();
        const peers = records
          .filter((r) => r.node !== this.node)
          .map((r) => ({ node: r.node, addresses: r.addresses, blocks: blocks.get(r.node) ?? [] }));
        const key = (ps: PeerNode[]): string =>
          ps
            .map((p) => `${p.node}=${p.addresses.join(',')}:${p.blocks.map(formatPrefix).join(',')}`)
            .join(';');
        if (key(peers) !== key(this.peers)) {
          this.peers = peers;
          this.reconcile();
        }
      } while (this.peersAgain);
    };
    this.peersRunning = run().finally(() => {
      this.peersRunning = undefined;
    });
    return this.peersRunning;
  }

  status(): StatusJson {
    const doc: StatusJson = {
      node: this.node,
      routerId: this.routerId,
      announced: this.desired.map(formatPrefix),
    };
    if (this.bgp) doc.bgp = this.bgp.status();
    if (this.ospf) doc.ospf = this.ospf.status();
    if (this.routes) doc.routes = this.routes.status();
    return doc;
  }

  /** DESIGN.md: withdraw everything, tell peers why, exit within 5 s. Safe to call twice. */
  stop(reason = 'podroute is shutting down'): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info({ reason }, 'stopping: withdrawing announcements');
      this.unwatchPeers?.();
      this.peersRetry?.cancel();
      await Promise.allSettled([
        this.bgp?.stop({ drain: true, message: reason }),
        this.ospf?.stop({ drain: true, message: reason }),
      ]);
      // Routes stay: the blackholes keep traffic for this node's pods from looping while the
      // fabric converges, and a restarted daemon adopts them (they carry our protocol tag).
      await this.peersRunning;
      await this.routes?.stop({ removeRoutes: false });
      await this.ipam?.close();
      await this.store?.close();
      await this.api.close();
      const metrics = this.metrics;
      if (metrics) {
        metrics.closeAllConnections();
        await new Promise<void>((resolve) => metrics.close(() => resolve()));
      }
      this.logger.info({}, 'stopped');
    })();
    return this.stopping;
  }
}

/**
 * The addresses this node registers for layer 2 peers: every address on `interfaces`
 * (`routes.interfaces`), or when unset on every interface but loopback. Left out: IPv6
 * link-local (on every link at once) and host addresses (/32, /128) such as the gateway address
 * the CNI `ptp` plugin puts on each pod's host veth, which no peer can reach. Read once at start.
 */
export function nodeAddresses(
  interfaces?: readonly string[],
  list: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string[] {
  const out = new Set<string>();
  for (const [name, addrs] of Object.entries(list)) {
    if (interfaces ? !interfaces.includes(name) : name === 'lo') continue;
    for (const a of addrs ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80:')) continue;
      const len = Number(a.cidr?.split('/')[1]);
      if (len === (a.family === 'IPv4' ? 32 : 128)) continue;
      out.add(a.address);
    }
  }
  return [...out].sort();
}
