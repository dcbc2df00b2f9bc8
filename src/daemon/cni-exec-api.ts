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
import { runPlugin } from '../cni/plugin.js';

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
  return runPlugin({
    env,
    stdin,
    call: (_socket, path, request) => api.invoke(request === undefined ? 'GET' : 'POST', path, request),
  });
}

export function registerCniExec(api: ApiServer): void {
  api.route('POST /cni/exec', (body) => execCni(api, body));
}
