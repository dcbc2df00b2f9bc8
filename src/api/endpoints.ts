/**
 * The local API's endpoints: one table of `METHOD /path` with the request each takes and the
 * response it answers with on success (HTTP 200). The server registers handlers by these keys and
 * the clients call by them, so both ends are typed from the same place. Failures answer a non-200
 * status with an ErrorBody.
 */
import type { IpamShow } from '../ipam/views.js';
import type { OspfDatabaseEntry } from '../ospf/status.js';
import type {
  CniAddResponse,
  CniCheckResponse,
  CniDelResponse,
  CniExecRequest,
  CniExecResponse,
  CniGcRequest,
  CniGcResponse,
  CniRequest,
} from './cni.js';
import type { StatusJson } from './status.js';

export type { IpamShow, OspfDatabaseEntry };

/** Where the daemon listens unless `api.socket` says otherwise, and where clients look. */
export const DEFAULT_SOCKET = '/run/podroute/podroute.sock';

export interface ReleaseNodeRequest {
  name: string;
  /** Release even when the node's record looks alive. */
  force?: boolean;
}

export interface ReleaseNodeResponse {
  node: string;
  /** How many blocks were given back. */
  released: number;
}

export interface DrainRequest {
  /** Why, for the peers (RFC 9003 shutdown communication) and the log. */
  reason?: string;
}

export interface DrainResponse {
  node: string;
  reason: string;
}

export interface ReloadResponse {
  node: string;
  /** One line per change applied (empty: the file did not change). */
  applied: string[];
}

export interface Endpoints {
  'GET /status': { request: undefined; response: StatusJson };
  'GET /ospf/database': { request: undefined; response: OspfDatabaseEntry[] };
  'GET /ipam': { request: undefined; response: IpamShow };
  'POST /ipam/release-node': { request: ReleaseNodeRequest; response: ReleaseNodeResponse };
  'POST /cni/add': { request: CniRequest; response: CniAddResponse };
  'POST /cni/del': { request: CniRequest; response: CniDelResponse };
  'POST /cni/check': { request: CniRequest; response: CniCheckResponse };
  /** CNI 1.1 GC: releases every allocation of this node whose attachment is not listed. */
  'POST /cni/gc': { request: CniGcRequest; response: CniGcResponse };
  /** A whole CNI plugin call (environment and stdin) run by the daemon: what the plugin executable sends. */
  'POST /cni/exec': { request: CniExecRequest; response: CniExecResponse };
  /** The daemon withdraws everything and exits 0 (a node taken away); it answers before it starts. */
  'POST /drain': { request: DrainRequest; response: DrainResponse };
  /**
   * The daemon reads its configuration file again and applies the difference (as SIGHUP). A refusal
   * answers 422 with `problems`, one `key.path: rule` line each; the running configuration stays.
   */
  'POST /reload': { request: undefined; response: ReloadResponse };
}

export type Endpoint = keyof Endpoints;
export type RequestOf<E extends Endpoint> = Endpoints[E]['request'];
export type ResponseOf<E extends Endpoint> = Endpoints[E]['response'];

/**
 * The body of every non-200 answer: a message for people, plus fields a handler adds (e.g. a CNI
 * error `code` the plugin passes on).
 */
export interface ErrorBody {
  error: string;
  code?: number;
  [detail: string]: unknown;
}

/** Splits `GET /status` into its method and path. */
export function splitEndpoint(endpoint: Endpoint): { method: string; path: string } {
  const space = endpoint.indexOf(' ');
  return { method: endpoint.slice(0, space), path: endpoint.slice(space + 1) };
}
