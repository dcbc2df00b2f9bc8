/**
 * The Kubernetes API as podroute uses it: read, list and watch one Node, through the official
 * client (`@kubernetes/client-node`, pinned to 1.4.0: 2.x needs Node 22). The client is imported
 * lazily, so a node without Kubernetes never loads it.
 *
 * Credentials: in a pod (KUBERNETES_SERVICE_HOST set, the ServiceAccount token mounted) the
 * in-cluster config; else $KUBECONFIG or ~/.kube/config (`loadFromDefault`).
 *
 * API conventions followed (https://kubernetes.io/docs/reference/using-api/api-concepts/):
 * a list answers a collection `resourceVersion`; a watch from it streams one JSON event per line
 * (`ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK`, `ERROR`); `allowWatchBookmarks` asks for periodic
 * bookmarks that only move the resourceVersion; `410 Gone` (as an HTTP status or an ERROR event)
 * means the version is too old and the caller must list again.
 */
import type { V1Node } from '@kubernetes/client-node';

/** The parts of a watch event the node watcher reads. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  /** A Node for ADDED/MODIFIED/DELETED/BOOKMARK; a Status (with `code`) for ERROR. */
  object: V1Node & { code?: number; message?: string };
}

export interface WatchHandle {
  abort(): void;
}

/** The port the node watcher talks through; `openNodeApi` backs it with the official client. */
export interface NodeApi {
  /** Where the API is, for log lines. */
  readonly server: string;
  get(name: string): Promise<V1Node>;
  list(name: string): Promise<{ items: V1Node[]; resourceVersion: string }>;
  /** Watches the one Node from `resourceVersion`; `done` runs once, with the error if any. */
  watch(
    name: string,
    resourceVersion: string,
    onEvent: (e: WatchEvent) => void,
    done: (err: unknown) => void,
  ): Promise<WatchHandle>;
}

export interface OpenOptions {
  /** A kubeconfig file; default: in-cluster when in a pod, else $KUBECONFIG / ~/.kube/config. */
  kubeconfig?: string;
  env?: Record<string, string | undefined>;
}

type ClientModule = typeof import('@kubernetes/client-node');

async function loadKubeConfig(
  opts: OpenOptions,
): Promise<{ k8s: ClientModule; kc: InstanceType<ClientModule['KubeConfig']>; server: string }> {
  const k8s = await import('@kubernetes/client-node');
  const env = opts.env ?? process.env;
  const kc = new k8s.KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else if (env.KUBERNETES_SERVICE_HOST && !env.KUBECONFIG) kc.loadFromCluster();
  else kc.loadFromDefault();
  return { k8s, kc, server: kc.getCurrentCluster()?.server ?? '(no cluster in the kubeconfig)' };
}

/** The one Pod read podroute makes: its annotations, for the network a pod asks for (docs/cni.md). */
export interface PodApi {
  readonly server: string;
  annotations(namespace: string, name: string): Promise<Record<string, string>>;
}

export async function openPodApi(opts: OpenOptions = {}): Promise<PodApi> {
  const { k8s, kc, server } = await loadKubeConfig(opts);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return {
    server,
    async annotations(namespace, name) {
      const pod = await core.readNamespacedPod({ namespace, name });
      return pod.metadata?.annotations ?? {};
    },
  };
}

export async function openNodeApi(opts: OpenOptions = {}): Promise<NodeApi> {
  const { k8s, kc, server } = await loadKubeConfig(opts);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const watcher = new k8s.Watch(kc);
  const selector = (name: string) => `metadata.name=${name}`;
  return {
    server,
    get: (name) => core.readNode({ name }),
    async list(name) {
      const l = await core.listNode({ fieldSelector: selector(name) });
      return { items: l.items, resourceVersion: l.metadata?.resourceVersion ?? '' };
    },
    async watch(name, resourceVersion, onEvent, done) {
      const controller = await watcher.watch(
        '/api/v1/nodes',
        { fieldSelector: selector(name), resourceVersion, allowWatchBookmarks: true },
        (type: string, object: WatchEvent['object']) => onEvent({ type: type as WatchEventType, object }),
        done,
      );
      return { abort: () => controller.abort() };
    },
  };
}

/** HTTP status of a client error: ApiException has `code`, the watch's own errors `statusCode`. */
export function statusOf(err: unknown): number | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  if (typeof e.code === 'number') return e.code;
  return undefined;
}

/** One line an operator can act on, for an API error. */
export function describeApiError(err: unknown, server: string, node: string): string {
  const status = statusOf(err);
  const said = statusMessage((err as { body?: unknown })?.body);
  switch (status) {
    case 401:
      return `the API server at ${server} refused the credentials (401 Unauthorized${said}): check the ServiceAccount token or the kubeconfig user`;
    case 403:
      return `the API server at ${server} forbids reading Node ${node} (403 Forbidden${said}): the ServiceAccount needs get, list and watch on nodes (deploy/rbac.yaml)`;
    case 404:
      return `Node ${node} does not exist at ${server} (404 Not Found): is NODE_NAME the node's name (spec.nodeName)?`;
    case undefined: {
      const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
      const code =
        typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : '';
      const msg = typeof e?.message === 'string' ? e.message.split('\n')[0] : String(err);
      return `cannot reach the API server at ${server} (${code || msg})`;
    }
    default:
      return `the API server at ${server} answered ${status}${said}`;
  }
}

/** One line for a failed Pod read (the annotation lookup of a CNI ADD). */
export function describePodError(err: unknown, server: string, namespace: string, name: string): string {
  const status = statusOf(err);
  const said = statusMessage((err as { body?: unknown })?.body);
  if (status === 403) {
    return `the API server at ${server} forbids reading pod ${namespace}/${name} (403 Forbidden${said}): the ServiceAccount needs get on pods (deploy/rbac.yaml)`;
  }
  if (status === 404) return `pod ${namespace}/${name} does not exist at ${server} (404 Not Found)`;
  if (status !== undefined)
    return `the API server at ${server} answered ${status}${said} for pod ${namespace}/${name}`;
  return describeApiError(err, server, name);
}

/** The `message` of a Status body (the client hands it over parsed or as JSON text). */
function statusMessage(body: unknown): string {
  let b = body;
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b);
    } catch {
      return '';
    }
  }
  const m = b && typeof b === 'object' ? (b as { message?: unknown }).message : undefined;
  return typeof m === 'string' && m !== '' ? `: ${m}` : '';
}
