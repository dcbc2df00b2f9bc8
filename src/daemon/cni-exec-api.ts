/**
 * `POST /cni/exec`: the CNI plugin executable (src/cni/shim/podroute-cni.c) starts in well under a
 * millisecond because it only forwards its call — CNI_* environment and stdin (CNI SPEC.md
 * "Section 3: Execution Protocol") — to the daemon. Here the daemon runs the one implementation of
 * the plugin logic (`runPlugin`, src/cni/plugin.ts) on that call, and the plugin's requests to
 * the local API (`/cni/add`, `/status`, …) become direct calls of the same handlers, with the same
 * statuses and bodies a socket client would read. The answer is what the plugin writes to stdout
 * and its exit code.
 */
import type { CniExecRequest, CniExecResponse } from '../api/cni.js';
import { ApiError, type ApiServer } from '../api/server.js';
import { CniErrorCode } from '../cni/spec.js';

function execRequest(body: unknown): CniExecRequest {
  const b = (body ?? {}) as { env?: unknown; stdin?: unknown };
  if (!b.env || typeof b.env !== 'object' || Array.isArray(b.env) || typeof b.stdin !== 'string') {
    throw new ApiError(400, 'env (an object of strings) and stdin (a string) are required');
  }
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(b.env)) {
    if (typeof v !== 'string') throw new ApiError(400, `env.${k} is not a string`);
    env[k] = v;
  }
  return { env, stdin: b.stdin };
}

export async function execCni(api: ApiServer, body: unknown): Promise<CniExecResponse> {
  const { env, stdin } = execRequest(body);
  // Loaded on the first call: a node that never runs a pod does not pay for it at start.
  const { runPlugin } = await import('../cni/plugin.js');
  return runPlugin({
    env,
    stdin,
    call: (_socket, path, request) => api.invoke(request === undefined ? 'GET' : 'POST', path, request),
  });
}

/** The address endpoints the plugin calls, which IPAM registers once it is open (ipam-api.ts). */
const IPAM_ENDPOINTS = ['POST /cni/add', 'POST /cni/del', 'POST /cni/check', 'POST /cni/gc'] as const;

/**
 * Registered when the API socket opens, before IPAM: the plugin's call always reaches the daemon's
 * own answer. Until IPAM has opened its store (an etcd store can take seconds) the address
 * endpoints answer CNI code 11 "try again later", which the runtime retries, instead of a 404
 * that would read as a daemon error (CNI SPEC.md "Error codes").
 */
export function registerCniExec(api: ApiServer): void {
  api.route('POST /cni/exec', (body) => execCni(api, body));
  for (const endpoint of IPAM_ENDPOINTS) {
    api.route(endpoint, async () => {
      throw new ApiError(503, 'podroute IPAM is starting', { code: CniErrorCode.TryAgainLater });
    });
  }
}

/** A node without podroute's IPAM (`ipam` absent, or `ipam.mode: kubernetes`) says so on every call. */
export function refuseCniWithoutIpam(api: ApiServer, why: string): void {
  for (const endpoint of IPAM_ENDPOINTS) {
    api.route(endpoint, async () => {
      throw new ApiError(501, `podroute IPAM is not enabled on this node: ${why}`);
    });
  }
}
