/**
 * The daemon: wires configuration, the desired prefix set, the speakers and the local API.
 *
 *   config.announce ─┐                    ┌─► BGP speaker ─► peers
 *                    ├─► desired prefixes ─┼─► OSPF speaker ─► leaf
 *   IPAM aggregate ──┘                    └─► routes ─► kernel (blackholes, layer 2 peers)
 *   BGP peers' routes (accept policy, install) ──► routes ─► kernel (learned, ECMP)
 *   BFD sessions (per-peer `bfd`) ──► a failure takes that BGP session down (bfd-wiring.ts)
 *
 * Nothing here speaks a protocol: it only decides what is desired and asks each consumer to
 * reconcile toward it.
 */
import type { Server } from 'node:http';
import type { DrainRequest, DrainResponse } from '../api/endpoints.js';
import { ApiServer } from '../api/server.js';
import type { StatusJson } from '../api/status.js';
import type { BfdManager } from '../bfd/index.js';
import { type Config, routerId as defaultRouterId, nodeName } from '../config/index.js';
import { nodeSource } from '../config/node.js';
import { defaultRoutesConfig } from '../config/routes.js';
import { announcePrefix } from '../config/schema.js';
import type { Ipam } from '../ipam/ipam.js';
import type { BlockStore } from '../ipam/store/types.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { comparePrefix, formatPrefix, type Prefix, parsePrefix, prefixEquals } from '../net/prefix.js';
import type { RoutesManager } from '../routes/manager.js';
import type { AwsRoutesHandle } from './aws.js';
import type { BfdWiring } from './bfd-wiring.js';
import { refuseCniWithoutIpam, registerCniExec } from './cni-exec-api.js';
import {
  checkKubernetesConfig,
  type KubeNode,
  type NodeGcHandle,
  startKubeNode,
  startNodeGc,
} from './kubernetes.js';
import type { LearnedFeed } from './learned-feed.js';
import { nodeAddresses } from './node-addresses.js';
import { NodePeers } from './peer-selection.js';
import { type Reloader, type ReloadTarget, reloadAnswer, reloadHook } from './reload.js';
import { type BgpAdvertiser, createBgp, createOspf, type OspfAdvertiser } from './speakers.js';

export { nodeAddresses } from './node-addresses.js';

export interface DaemonOptions {
  config: Config;
  logger: Logger;
  clock: Clock;
  /** `podroute drain` finished (everything withdrawn, daemon stopped): the process exits 0. */
  onDrained?: () => void;
  /** The file `config` came from: `podroute reload` and SIGHUP read it again (reload.ts). */
  configFile?: string;
}

export class Daemon {
  readonly node: string;
  /** Set in the constructor, or in `start` from the Node object (node.source: kubernetes). */
  routerId: string;
  private readonly logger: Logger;
  private readonly api: ApiServer;
  private bgp: BgpAdvertiser | undefined;
  private ospf: OspfAdvertiser | undefined;
  private metrics: Server | undefined;
  private store: BlockStore | undefined;
  private ipam: Ipam | undefined;
  private routes: RoutesManager | undefined;
  private vlans: import('./vlan-wiring.js').VlanWiring | undefined;
  private learned: LearnedFeed | undefined;
  private bfd: { manager: BfdManager; wiring: BfdWiring } | undefined;
  private desired: Prefix[] = [];
  private untrackNodes: (() => Promise<void>) | undefined;
  private stopping: Promise<void> | undefined;
  private kube: KubeNode | undefined;
  /** Deleted Nodes' blocks, released by the Lease holder (kubernetes.ts). */
  private nodeGc: NodeGcHandle | undefined;
  private running = false;
  /** `podroute reload` / SIGHUP; absent when the daemon was not started from a file. */
  readonly reloader: Reloader | undefined;
  private aws: AwsRoutesHandle | undefined;
  private readonly nodePeers: NodePeers;

  constructor(private readonly opts: DaemonOptions) {
    const { config, logger } = opts;
    this.logger = logger;
    this.node = nodeName(config);
    checkKubernetesConfig(config);
    const rid = defaultRouterId(config);
    if (!rid && nodeSource(config.node) !== 'kubernetes') {
      throw new Error('node.routerId: not set and no IPv4 address found on any interface to default to');
    }
    this.routerId = rid ?? '';
    this.nodePeers = new NodePeers(this.node, (c) => this.kube?.labels() ?? c.node.labels, logger);
    this.api = new ApiServer(config.api.socket, logger.child({ component: 'api' }));
    this.api.route('GET /status', async () => this.status());
    this.api.route('POST /drain', async (body) => this.drain(body));
    registerCniExec(this.api);
    this.reloader = opts.configFile ? reloadHook(this, opts.configFile) : undefined;
    const reloader = this.reloader;
    if (reloader) this.api.route('POST /reload', async () => reloadAnswer(this.node, reloader));
  }

  /**
   * Modules are loaded only for what the config uses (dynamic imports): a BGP-only node does not
   * pay for the OSPF stack, the etcd client, netlink or the metrics library at start.
   */
  async start(): Promise<void> {
    const { config, clock } = this.opts;
    await this.api.listen();
    if (config.api.metrics) {
      // First, so the liveness probe answers while the Node object is still being read.
      const [{ createMetricsRegistry, startMetricsServer }, { Readiness }] = await Promise.all([
        import('./metrics.js'),
        import('./readiness.js'),
      ]);
      const readiness = new Readiness({ status: () => this.status(), holdsBlock: () => this.holdsBlock() });
      this.metrics = await startMetricsServer(
        config.api.metrics,
        createMetricsRegistry(() => this.status()),
        () => readiness.check(),
      );
    }
    this.kube = await startKubeNode({ config, name: this.node, clock, logger: this.logger });
    if (this.kube) {
      const rid = config.node.routerId ?? this.kube.identity.routerId ?? this.routerId;
      if (!rid)
        throw new Error(`node.routerId: not set, and Node ${this.node} has no IPv4 InternalIP to default to`);
      this.routerId = rid;
      // ipam.mode kubernetes: spec.podCIDRs changes reach the announcements.
      this.kube.watcher.onChange(() => this.reconcile());
    }
    if (config.ipam && config.ipam.mode === 'podroute') {
      const [{ Ipam }, { openStore }, { registerIpamApi }] = await Promise.all([
        import('../ipam/ipam.js'),
        import('../ipam/store/open.js'),
        import('./ipam-api.js'),
      ]);
      this.store = await openStore(config.ipam, this.logger.child({ component: 'store' }));
      // The node record carries this node's link addresses: layer 2 peers route our blocks via them.
      const kube = this.kube;
      const addresses =
        kube && !config.routes?.interfaces
          ? [...kube.identity.addresses]
          : nodeAddresses(config.routes?.interfaces);
      this.ipam = await Ipam.open({
        config: config.ipam,
        node: { name: this.node, labels: kube?.labels() ?? config.node.labels, addresses },
        store: this.store,
        clock,
        logger: this.logger.child({ component: 'ipam' }),
      });
      this.logger.info({ addresses }, 'registered node addresses');
      this.ipam.onChange(() => this.reconcile());
      registerIpamApi(this.api, this.ipam, kube ? (ns, name) => kube.podAnnotations(ns, name) : undefined);
      this.vlans = await (await import('./vlan-wiring.js')).startVlans(this.ipam, clock, this.logger);
      this.nodeGc = await startNodeGc({
        config,
        name: this.node,
        ipam: this.ipam,
        store: this.store,
        clock,
        logger: this.logger,
      });
      const ipam = this.ipam;
      // New labels place the node's next blocks; held ones are never renumbered.
      kube?.watcher.onChange(() => {
        ipam.relabel(kube.labels()).catch((e: unknown) => {
          // The store is unreachable: the node stays in its group until the next label change.
          this.logger.warn(
            { error: (e as Error).message },
            'could not re-place the node after its labels changed',
          );
        });
      });
    } else {
      refuseCniWithoutIpam(
        this.api,
        config.ipam ? 'ipam.mode is kubernetes (the Node spec.podCIDRs are announced)' : 'no ipam section',
      );
    }
    // One cluster-wide bgp section: this node's peers and ASN (its labels, its default gateways).
    const selected = await this.nodePeers.select(config, true);
    this.opts.config = selected;
    let preserved = false;
    if (config.bgp?.gracefulRestart && (config.routes ?? defaultRoutesConfig).manage) {
      // Graceful restart (RFC 4724 4.1): the routes a previous podroute left keep forwarding until
      // the peers re-sent theirs; found before the first OPEN, whose F bit says they survived.
      const { RoutesManager } = await import('../routes/manager.js');
      this.routes = new RoutesManager({
        config: config.routes ?? defaultRoutesConfig,
        clock,
        logger: this.logger,
      });
      preserved = (await this.routes.adoptExisting()) > 0;
    }
    if (selected.bgp) {
      const log = this.logger.child({ component: 'bgp' });
      this.bgp = await createBgp(selected.bgp, this.routerId, clock, log, preserved, config.announce);
      // The re-learned routes reach the route programmer first (its feed coalesces UPDATEs), so
      // the sweep never removes a route the peers did re-send.
      this.bgp.onRibSynced(() => {
        this.learned?.flush();
        this.routes?.sweepAdopted();
      });
      if (selected.bgp.peers.some((p) => p.bfd)) {
        // BFD only loads when a peer asks for it (RFC 5882: it watches those BGP sessions' paths).
        const [{ BfdManager }, { BfdWiring }] = await Promise.all([
          import('../bfd/index.js'),
          import('./bfd-wiring.js'),
        ]);
        const log = this.logger.child({ component: 'bfd' });
        const manager = new BfdManager({ clock, logger: log });
        const wiring = new BfdWiring({
          bgp: this.bgp,
          bfd: manager,
          peers: selected.bgp.peers,
          clock,
          logger: log,
        });
        wiring.start();
        this.bfd = { manager, wiring };
      }
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
      this.routes ??= new RoutesManager({ config: routesConfig, clock, logger: this.logger });
      if (this.bgp) {
        // Routes the peers send (their accept policy) reach the kernel; never inside the pod networks.
        const { LearnedFeed } = await import('./learned-feed.js');
        const pods = (config.ipam?.networks ?? []).flatMap((n) => [
          ...(n.cidrs ?? []),
          ...(n.cidr ? [n.cidr] : []),
        ]);
        this.learned = new LearnedFeed(
          this.bgp,
          this.routes,
          pods.map((c) => parsePrefix(c)),
          clock,
        );
        this.learned.flush();
      }
      this.reconcile();
      await this.routes.start();
    }
    if (this.routes && this.ipam && routesConfig.mode === 'layer2') {
      // layer 2: routes to every other node's blocks via its addresses. The cluster view pairs
      // the node records with the claims; its changes reach reconcile through ipam.onChange.
      this.untrackNodes = await this.ipam.cluster.trackNodes();
    }
    if (config.aws) {
      // VPC route tables (one writer per cluster): the SDK loads only here.
      const { startAwsRoutes } = await import('./aws.js');
      this.aws = await startAwsRoutes({
        config,
        node: this.node,
        store: this.store,
        clock,
        logger: this.logger,
      });
    }
    this.logger.info(
      { node: this.node, routerId: this.routerId, announced: this.desired.map(formatPrefix) },
      'podroute started',
    );
    this.running = !this.stopping;
  }

  /** Recomputes the desired prefix set and hands it to every speaker when it changed. */
  reconcile(): void {
    const ipam = this.ipam?.cluster.routing();
    const next = [
      ...this.opts.config.announce.map((e) => parsePrefix(announcePrefix(e))),
      ...(ipam?.aggregate ?? []),
      ...this.kubePodCidrs(),
    ];
    next.sort(comparePrefix);
    const unique = next.filter((p, i) => i === 0 || !prefixEquals(p, next[i - 1]!));
    this.desired = unique;
    this.bgp?.setDesired(unique);
    this.ospf?.setDesired(unique);
    this.routes?.update({ announced: unique, peers: ipam?.peers ?? [], vlans: this.vlans?.list() ?? [] });
  }

  /** ipam.mode kubernetes: the Node's spec.podCIDRs (announced instead of own blocks). */
  private kubePodCidrs(): Prefix[] {
    if (this.opts.config.ipam?.mode !== 'kubernetes' || !this.kube) return [];
    const out: Prefix[] = [];
    for (const c of this.kube.identity.podCIDRs) {
      try {
        out.push(parsePrefix(c));
      } catch {
        this.logger.warn({ podCIDR: c }, 'Node spec.podCIDRs entry is not a prefix; not announced');
      }
    }
    return out;
  }

  /** For readiness: undefined without IPAM; else whether this node has a block (or pod CIDR). */
  private holdsBlock(): boolean | undefined {
    const ipam = this.opts.config.ipam;
    if (!ipam) return undefined;
    if (ipam.mode === 'kubernetes') return this.kubePodCidrs().length > 0;
    return (this.ipam?.announcement().length ?? 0) > 0;
  }

  /** For reload (reload.ts): the running parts, or undefined while starting or stopping. */
  reloadTarget(): ReloadTarget | undefined {
    if (!this.running || this.stopping) return undefined;
    return {
      resolve: (next) => this.nodePeers.select(next),
      config: this.opts.config,
      bgp: this.bgp,
      node: this.node,
      logger: this.logger,
      adopt: (next) => {
        this.opts.config = next;
        this.nodePeers.adopt();
        this.reconcile();
      },
    };
  }

  status(): StatusJson {
    const doc: StatusJson = {
      node: this.node,
      routerId: this.routerId,
      announced: this.desired.map(formatPrefix),
    };
    if (this.bgp) doc.bgp = { ...this.bgp.status(), ...this.nodePeers.status() };
    if (this.ospf) doc.ospf = this.ospf.status();
    if (this.routes) doc.routes = this.routes.status();
    if (this.bfd) doc.bfd = this.bfd.manager.status();
    if (this.aws) doc.aws = this.aws.controller.status();
    if (this.nodeGc) doc.nodeGc = this.nodeGc.status();
    return this.vlans ? this.vlans.addStatus(doc) : doc;
  }

  /**
   * `podroute drain`: answered at once, then the daemon withdraws everything and stops (the API
   * socket closes during the stop, so the answer cannot wait for it).
   */
  private async drain(body: unknown): Promise<DrainResponse> {
    const asked = (body as DrainRequest | undefined)?.reason;
    const reason =
      typeof asked === 'string' && asked.trim() !== ''
        ? asked.trim()
        : `podroute on ${this.node} is draining`;
    setImmediate(() => void this.stop(reason, { drain: true }).then(() => this.opts.onDrained?.()));
    return { node: this.node, reason };
  }

  /**
   * Withdraw everything, tell the peers why, done within 5 s (docs/cli.md). Safe to call twice. With
   * bgp.gracefulRestart and no explicit `drain`, it is a restart instead: BGP sessions close the
   * graceful way (RFC 4724 4.2) and nothing is withdrawn, learned routes included.
   */
  stop(reason = 'podroute is shutting down', opts: { drain?: boolean } = {}): Promise<void> {
    const drain = opts.drain ?? !this.opts.config.bgp?.gracefulRestart;
    this.stopping ??= (async () => {
      this.logger.info({ reason }, drain ? 'stopping: withdrawing announcements' : 'stopping for a restart');
      // layer 2 peers stay as they are from here on, and so does the node's identity.
      const untracked = this.untrackNodes?.();
      this.kube?.watcher.stop();
      this.bfd?.wiring.detach();
      // A restart keeps the learned routes in the kernel: the sessions' ends must not reach it.
      if (!drain) this.learned?.stop();
      await Promise.allSettled([
        this.bgp?.stop({ drain, message: reason }),
        this.ospf?.stop({ drain: true, message: reason }),
      ]);
      // Routes stay: the blackholes keep traffic for this node's pods from looping while the
      // fabric converges, and a restarted daemon adopts them (they carry our protocol tag).
      await untracked;
      await this.bfd?.manager.close();
      // The sessions' ends above took their learned routes out of the kernel (by diff).
      this.learned?.stop();
      await this.routes?.stop({ removeRoutes: false });
      await Promise.all([this.aws?.stop(), this.vlans?.stop()]);
      await this.nodeGc?.stop();
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
