/**
 * A local stand-in for the Kubernetes API server, for tests: it follows the documented API
 * conventions for the few calls podroute makes, and is NOT a real API server (none can be
 * installed where the tests run). What it does, after api-concepts.md
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/):
 *
 * - `GET /api/v1/nodes/NAME`: the Node, or a `Status` 404;
 * - `GET /api/v1/nodes?fieldSelector=metadata.name=NAME`: a `NodeList` whose
 *   `metadata.resourceVersion` is the store's current version;
 * - `...&watch=true&resourceVersion=RV[&allowWatchBookmarks=true]`: one JSON event per line
 *   (ADDED / MODIFIED / DELETED) for every change after RV, then live ones; `bookmark()` sends a
 *   BOOKMARK (only to watches that asked); a version older than the compaction point answers an
 *   ERROR event with a 410 `Status` (or HTTP 410, `goneAs: 'status'`) and ends the stream;
 * - bearer-token authentication (401 `Status` without the token) and per-verb denial (403);
 * - `cutWatches()` cuts every watch in the middle of a line; `close()`/`listen()` take it away
 *   and back on the same port;
 * - `DELETE /api/v1/nodes/NAME` (or `delete()`): the Node goes, watches get a DELETED event;
 * - `coordination.k8s.io/v1` Leases with resourceVersion conflicts (409): api-leases.ts;
 * - `GET /api/v1/namespaces/NS/pods/NAME`: a Pod put with `putPod` (metadata only), a `Status`
 *   404, or 403 when `forbid` has `get-pods`.
 * Every request is recorded (method, path, query) so tests can check what the client asked.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { V1Node } from '@kubernetes/client-node';
import { LeaseStore } from './api-leases.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
}

interface Stored {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  node: V1Node;
}

interface WatchConn {
  res: ServerResponse;
  name: string | undefined;
  bookmarks: boolean;
}

export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly nodes = new Map<string, V1Node>();
  private history: Stored[] = [];
  private rv = 100;
  private compactedBefore = 0;
  private watches = new Set<WatchConn>();
  port = 0;
  /** Bearer token required on every request; undefined: none. */
  token: string | undefined;
  /** Pods by `namespace/name`: their annotations. */
  private readonly pods = new Map<string, Record<string, string>>();
  /** Verbs ('get' | 'list' | 'watch', and 'get-pods' for Pods) answered 403. */
  readonly forbid = new Set<string>();
  /** How a too-old resourceVersion is refused: an ERROR event in a 200 stream (what API servers do) or HTTP 410. */
  goneAs: 'event' | 'status' = 'event';
  /** Leases (GET/POST/PUT, 409 on a stale resourceVersion). */
  readonly leases = new LeaseStore();

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  async listen(port = this.port): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Takes the server away (connections refused) but keeps the port and the objects. */
  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const w of this.watches) w.res.destroy();
    this.watches.clear();
    for (const sock of this.sockets) sock.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Creates or replaces a Node; every write gets the next resourceVersion, as in etcd. */
  /** A Pod as the annotation lookup reads it (only metadata is kept). */
  putPod(namespace: string, name: string, annotations: Record<string, string>): void {
    this.pods.set(`${namespace}/${name}`, { ...annotations });
  }

  put(node: V1Node): V1Node {
    const name = node.metadata?.name ?? '';
    const type = this.nodes.has(name) ? 'MODIFIED' : 'ADDED';
    const stored: V1Node = structuredClone(node);
    stored.metadata = { ...stored.metadata, name, resourceVersion: String(++this.rv) };
    this.nodes.set(name, stored);
    this.emit({ rv: this.rv, type, node: stored });
    return stored;
  }

  /** Changes labels of a stored Node (one write). */
  label(name: string, labels: Record<string, string>): V1Node {
    const n = structuredClone(this.nodes.get(name));
    if (!n) throw new Error(`no node ${name}`);
    n.metadata = { ...n.metadata, labels: { ...n.metadata?.labels, ...labels } };
    return this.put(n);
  }

  delete(name: string): void {
    const n = this.nodes.get(name);
    if (!n) return;
    this.nodes.delete(name);
    const gone = { ...n, metadata: { ...n.metadata, resourceVersion: String(++this.rv) } };
    this.emit({ rv: this.rv, type: 'DELETED', node: gone });
  }

  /** Forgets history up to now: a watch from any older version gets 410 Gone. */
  compact(): void {
    this.compactedBefore = this.rv;
    this.history = [];
  }

  /** Sends a BOOKMARK with the current version to every watch that allowed bookmarks. */
  bookmark(): void {
    for (const w of this.watches) {
      if (!w.bookmarks) continue;
      const obj = { kind: 'Node', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } };
      w.res.write(`${JSON.stringify({ type: 'BOOKMARK', object: obj })}\n`);
    }
  }

  /** Cuts every open watch mid-line (half an event written, then the socket destroyed). */
  cutWatches(): number {
    const n = this.watches.size;
    for (const w of this.watches) {
      w.res.write('{"type":"MODIFIED","object":{"kind":"No');
      w.res.socket?.destroy();
    }
    this.watches.clear();
    return n;
  }

  get openWatches(): number {
    return this.watches.size;
  }

  watchRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.query.watch === 'true');
  }

  private emit(e: Stored): void {
    this.history.push(e);
    for (const w of this.watches) this.send(w, e);
  }

  private send(w: WatchConn, e: Stored): void {
    if (w.name !== undefined && e.node.metadata?.name !== w.name) return;
    w.res.write(`${JSON.stringify({ type: e.type, object: e.node })}\n`);
  }

  private status(res: ServerResponse, code: number, reason: string, message: string): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code }));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query });
    if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) {
      this.status(res, 401, 'Unauthorized', 'Unauthorized');
      return;
    }
    if (this.leases.handle(req, res, url.pathname, (r, c, why, m) => this.status(r, c, why, m))) return;
    const pod = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(url.pathname);
    if (pod && req.method === 'GET') {
      const [ns, name] = [decodeURIComponent(pod[1] as string), decodeURIComponent(pod[2] as string)];
      if (this.forbid.has('get-pods')) {
        this.status(
          res,
          403,
          'Forbidden',
          `pods "${name}" is forbidden: User "system:serviceaccount:podroute:podroute" cannot get resource "pods" in API group "" in the namespace "${ns}"`,
        );
        return;
      }
      const annotations = this.pods.get(`${ns}/${name}`);
      if (!annotations) this.status(res, 404, 'NotFound', `pods "${name}" not found`);
      else this.json(res, { kind: 'Pod', apiVersion: 'v1', metadata: { namespace: ns, name, annotations } });
      return;
    }
    const one = /^\/api\/v1\/nodes\/([^/]+)$/.exec(url.pathname);
    if (one && req.method === 'DELETE') {
      const name = decodeURIComponent(one[1] as string);
      const n = this.nodes.get(name);
      if (!n) this.status(res, 404, 'NotFound', `nodes "${name}" not found`);
      else {
        this.delete(name);
        this.json(res, {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Success',
          details: { name, kind: 'nodes' },
        });
      }
      return;
    }
    const verb = one ? 'get' : query.watch === 'true' ? 'watch' : 'list';
    if (req.method !== 'GET' || (!one && url.pathname !== '/api/v1/nodes')) {
      this.status(res, 404, 'NotFound', `the server could not find the requested resource`);
      return;
    }
    if (this.forbid.has(verb)) {
      const what = one ? `"${one[1]}"` : '';
      this.status(
        res,
        403,
        'Forbidden',
        `nodes ${what} is forbidden: User "system:serviceaccount:podroute:podroute" cannot ${verb} resource "nodes" in API group "" at the cluster scope`,
      );
      return;
    }
    const name = /^metadata\.name=(.+)$/.exec(query.fieldSelector ?? '')?.[1];
    if (one) {
      const n = this.nodes.get(decodeURIComponent(one[1] as string));
      if (!n) this.status(res, 404, 'NotFound', `nodes "${one[1]}" not found`);
      else this.json(res, { kind: 'Node', apiVersion: 'v1', ...n });
      return;
    }
    if (verb === 'list') {
      const items = [...this.nodes.values()].filter((n) => name === undefined || n.metadata?.name === name);
      this.json(res, {
        kind: 'NodeList',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(this.rv) },
        items,
      });
      return;
    }
    const from = Number(query.resourceVersion || '0');
    if (from < this.compactedBefore) {
      const msg = `too old resource version: ${from} (${this.compactedBefore})`;
      if (this.goneAs === 'status') {
        this.status(res, 410, 'Expired', msg);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      const st = {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        message: msg,
        reason: 'Expired',
        code: 410,
      };
      res.end(`${JSON.stringify({ type: 'ERROR', object: st })}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const w: WatchConn = { res, name, bookmarks: query.allowWatchBookmarks === 'true' };
    for (const e of this.history) if (e.rv > from) this.send(w, e);
    this.watches.add(w);
    res.on('close', () => this.watches.delete(w));
  }

  private json(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}

/** A kubeconfig pointing at the stand-in (plain HTTP, which the client allows only with skip-TLS-verify; bearer token). */
export function kubeconfigYaml(server: string, token = 'test-token'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{ name: fake, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]`,
    `users: [{ name: fake, user: { token: "${token}" } }]`,
    'contexts: [{ name: fake, context: { cluster: fake, user: fake } }]',
    'current-context: fake',
    '',
  ].join('\n');
}

/** A Node object as a kubelet registers it. */
export function makeNode(
  name: string,
  opts: { labels?: Record<string, string>; addresses?: string[]; podCIDRs?: string[] } = {},
): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...opts.labels } },
    spec: opts.podCIDRs ? { podCIDR: opts.podCIDRs[0], podCIDRs: opts.podCIDRs } : {},
    status: {
      addresses: [
        ...(opts.addresses ?? []).map((address) => ({ type: 'InternalIP', address })),
        { type: 'Hostname', address: name },
      ],
    },
  };
}
