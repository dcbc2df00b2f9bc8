/**
 * The daemon's Kubernetes side: when `node.source` is kubernetes (the default in a pod), the node's
 * identity comes from its Node object (src/k8s/node-watch.ts) before anything else starts:
 * labels (under the config's own `node.labels`) place it in its IPAM group, the InternalIP
 * addresses are its layer 2 addresses and give the default router id, and with
 * `ipam.mode: kubernetes` `spec.podCIDRs` are what it announces. The Node stays watched: a label
 * change moves the node's *next* blocks to the group the new labels select (held blocks are never
 * renumbered); a pod CIDR change reaches the announcements. With IPAM blocks, one podroute in the
 * cluster (the holder of a Lease) releases the blocks of Nodes that were deleted (startNodeGc).
 */
import type { Config } from '../config/index.js';
import { nodeSource } from '../config/node.js';
import type { Ipam } from '../ipam/ipam.js';
import type { BlockStore } from '../ipam/store/types.js';
import type { describePodError, PodApi } from '../k8s/client.js';
import type { LeaderElector } from '../k8s/lease.js';
import type { NodeGc, NodeGcStatus } from '../k8s/node-gc.js';
import type { NodeIdentity } from '../k8s/node-identity.js';
import type { NodeWatcher } from '../k8s/node-watch.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';

export interface KubeNode {
  readonly watcher: NodeWatcher;
  /** The Node's labels with the config's `node.labels` laid over them. */
  labels(): Record<string, string>;
  readonly identity: NodeIdentity;
  /**
   * A pod's annotations (the network it asks for, docs/cni.md); the Pod client is opened on the
   * first call, so a node that never asks does not load it. Rejects with one line to log.
   */
  podAnnotations(namespace: string, name: string): Promise<Record<string, string>>;
}

export interface KubeNodeOptions {
  config: Config;
  name: string;
  clock: Clock;
  logger: Logger;
  env?: Record<string, string | undefined>;
  /** Back-off override (tests). */
  backoff?: { initialMs?: number; maxMs?: number; random?: (() => number) | null };
}

/** Refuses combinations that cannot work, worded like the config loader's messages. */
export function checkKubernetesConfig(
  config: Config,
  env: Record<string, string | undefined> = process.env,
): void {
  if (config.ipam?.mode === 'kubernetes' && nodeSource(config.node, env) !== 'kubernetes') {
    throw new Error(
      'ipam.mode: "kubernetes" needs the Node object: set node.source: kubernetes (or run in a pod)',
    );
  }
}

/**
 * Reads the Node (waits, retrying with back-off, while the API is unreachable) and keeps watching
 * it. Undefined when the node's identity comes from the config.
 */
export async function startKubeNode(opts: KubeNodeOptions): Promise<KubeNode | undefined> {
  const env = opts.env ?? process.env;
  if (nodeSource(opts.config.node, env) !== 'kubernetes') return undefined;
  const [{ openNodeApi }, { NodeWatcher }] = await Promise.all([
    import('../k8s/client.js'),
    import('../k8s/node-watch.js'),
  ]);
  const logger = opts.logger.child({ component: 'k8s' });
  const api = await openNodeApi({ env });
  logger.info({ server: api.server, node: opts.name }, 'reading the node identity from the Kubernetes API');
  const watcher = new NodeWatcher({
    api,
    name: opts.name,
    clock: opts.clock,
    logger,
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
  });
  await watcher.start();
  const own = opts.config.node.labels;
  let pods: Promise<{ api: PodApi; describe: typeof describePodError }> | undefined;
  return {
    async podAnnotations(namespace, name) {
      pods ??= import('../k8s/client.js').then(async (c) => ({
        api: await c.openPodApi({ env }),
        describe: c.describePodError,
      }));
      let client: Awaited<typeof pods>;
      try {
        client = await pods;
      } catch (e) {
        pods = undefined; // the next ADD tries again (a kubeconfig being rewritten, say)
        throw new Error(`cannot open the Kubernetes API client: ${(e as Error).message}`);
      }
      try {
        return await client.api.annotations(namespace, name);
      } catch (e) {
        throw new Error(client.describe(e, client.api.server, namespace, name));
      }
    },
    watcher,
    get identity() {
      return watcher.identity as NodeIdentity;
    },
    labels: () => ({ ...watcher.identity?.labels, ...own }),
  };
}

export interface NodeGcHandle {
  readonly elector: LeaderElector;
  readonly gc: NodeGc;
  /** Stops collecting and gives the Lease up (a clean stop; a crash lets it expire). */
  stop(): Promise<void>;
  /** The `nodeGc` section of the status document. */
  status(): NodeGcStatus;
}

export interface NodeGcWiring {
  config: Config;
  name: string;
  ipam: Ipam;
  store: BlockStore;
  clock: Clock;
  logger: Logger;
  env?: Record<string, string | undefined>;
}

/** The Lease the releasing podroute holds (in the pod's namespace). */
export const NODE_GC_LEASE = 'podroute-ipam-release-deleted-nodes';

/**
 * Deleted Nodes' blocks (ipam.releaseDeletedNodesAfter): every podroute campaigns for one Lease;
 * the leader alone watches all Nodes and releases the blocks of those that are gone. Undefined
 * when off (false), without IPAM blocks, or when the identity does not come from the API.
 */
export async function startNodeGc(opts: NodeGcWiring): Promise<NodeGcHandle | undefined> {
  const env = opts.env ?? process.env;
  const ipamConfig = opts.config.ipam;
  if (nodeSource(opts.config.node, env) !== 'kubernetes') return undefined;
  if (ipamConfig?.mode !== 'podroute' || ipamConfig.releaseDeletedNodesAfter === false) return undefined;
  const [{ LeaderElector, openLeaseApi }, { NodeGc, openNodeListApi }] = await Promise.all([
    import('../k8s/lease.js'),
    import('../k8s/node-gc.js'),
  ]);
  const logger = opts.logger.child({ component: 'node-gc' });
  const leaseApi = await openLeaseApi({ env });
  const elector = new LeaderElector({
    api: leaseApi,
    namespace: leaseApi.namespace,
    name: NODE_GC_LEASE,
    identity: opts.name,
    clock: opts.clock,
    logger,
    leaseDurationSeconds: ipamConfig.leaderLease,
  });
  const { store, ipam } = opts;
  const gc = new NodeGc({
    api: await openNodeListApi({ env }),
    ipam: {
      async storeNodes() {
        const [claims, records] = await Promise.all([store.list(), store.nodes()]);
        return [...new Set([...claims.map((c) => c.node), ...records.map((r) => r.node)])];
      },
      releaseNode: (node) => ipam.releaseNode(node),
    },
    self: opts.name,
    clock: opts.clock,
    logger,
    graceMs: ipamConfig.releaseDeletedNodesAfter * 1000,
    isLeader: () => elector.isLeader,
  });
  elector.onStartedLeading(() => gc.start());
  elector.onStoppedLeading(() => gc.stop());
  elector.start();
  logger.info(
    { lease: `${leaseApi.namespace}/${NODE_GC_LEASE}`, graceSeconds: ipamConfig.releaseDeletedNodesAfter },
    'campaigning to release the blocks of deleted Nodes',
  );
  return {
    elector,
    gc,
    async stop() {
      gc.stop();
      await elector.release();
    },
    status: () => ({ lease: elector.status(), waiting: gc.waiting, released: [...gc.released] }),
  };
}
