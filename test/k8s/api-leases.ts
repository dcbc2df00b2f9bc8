/**
 * The Lease part of the local Kubernetes API stand-in (api-server.ts; it follows the API
 * conventions, it is NOT a real API server): `coordination.k8s.io/v1` Leases under
 * `/apis/coordination.k8s.io/v1/namespaces/NS/leases[/NAME]` with GET, POST (create: 409
 * AlreadyExists when it exists) and PUT (replace: 409 Conflict when the body's
 * `metadata.resourceVersion` is not the stored one, as optimistic concurrency works in
 * api-concepts "Resource versions"; 404 when absent). Every stored write gets a new version.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface StoredLease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion: string; [k: string]: unknown };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

type Status = (res: ServerResponse, code: number, reason: string, message: string) => void;

export class LeaseStore {
  private readonly leases = new Map<string, StoredLease>();
  private rv = 5000;
  /** Writes that were stored, in order: who held the Lease after each (tests read it). */
  readonly writes: { name: string; holder: string; resourceVersion: string }[] = [];
  /** Conflicts answered (409), for assertions. */
  conflicts = 0;
  /** Verbs answered 403: `get`, `create`, `update`. */
  readonly forbid = new Set<string>();

  get(namespace: string, name: string): StoredLease | undefined {
    const l = this.leases.get(`${namespace}/${name}`);
    return l ? structuredClone(l) : undefined;
  }

  /** Writes a Lease directly (as another client would), bumping its version. */
  put(lease: Omit<StoredLease, 'metadata'> & { metadata: { name: string; namespace: string } }): StoredLease {
    const stored: StoredLease = {
      ...structuredClone(lease),
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...lease.metadata, resourceVersion: String(++this.rv) },
    };
    this.leases.set(`${stored.metadata.namespace}/${stored.metadata.name}`, stored);
    this.writes.push({
      name: stored.metadata.name,
      holder: stored.spec?.holderIdentity ?? '',
      resourceVersion: stored.metadata.resourceVersion,
    });
    return stored;
  }

  /** Handles a request under /apis/coordination.k8s.io; false when the path is not a Lease path. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, status: Status): boolean {
    const m = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/.exec(path);
    if (!m) return false;
    const ns = decodeURIComponent(m[1] as string);
    const name = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    const verb =
      req.method === 'GET' ? 'get' : req.method === 'POST' ? 'create' : req.method === 'PUT' ? 'update' : '';
    if (verb === '' || (verb === 'create') !== (name === undefined)) {
      status(res, 405, 'MethodNotAllowed', `${req.method} is not supported here`);
      return true;
    }
    if (this.forbid.has(verb)) {
      status(
        res,
        403,
        'Forbidden',
        `leases.coordination.k8s.io ${name ? `"${name}" ` : ''}is forbidden: User "system:serviceaccount:podroute:podroute" cannot ${verb} resource "leases" in API group "coordination.k8s.io" in the namespace "${ns}"`,
      );
      return true;
    }
    if (verb === 'get') {
      const l = this.get(ns, name as string);
      if (!l) status(res, 404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`);
      else json(res, 200, l);
      return true;
    }
    readBody(req).then(
      (body) => {
        const b = body as StoredLease;
        const n = b?.metadata?.name;
        if (!n || (name !== undefined && n !== name)) {
          status(res, 400, 'BadRequest', 'metadata.name is missing or does not match the URL');
          return;
        }
        const held = this.get(ns, n);
        if (verb === 'create') {
          if (held) {
            this.conflicts++;
            status(res, 409, 'AlreadyExists', `leases.coordination.k8s.io "${n}" already exists`);
            return;
          }
        } else if (!held) {
          status(res, 404, 'NotFound', `leases.coordination.k8s.io "${n}" not found`);
          return;
        } else if (b.metadata.resourceVersion !== held.metadata.resourceVersion) {
          this.conflicts++;
          status(
            res,
            409,
            'Conflict',
            `Operation cannot be fulfilled on leases.coordination.k8s.io "${n}": the object has been modified; please apply your changes to the latest version and try again`,
          );
          return;
        }
        const stored = this.put({ ...b, metadata: { ...b.metadata, name: n, namespace: ns } });
        json(res, verb === 'create' ? 201 : 200, stored);
      },
      () => status(res, 400, 'BadRequest', 'the body is not JSON'),
    );
    return true;
  }
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (e) {
        reject(e);
      }
    });
    req.on('error', reject);
  });
}
