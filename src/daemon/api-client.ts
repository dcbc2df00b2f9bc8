/** Client side of the local API (CLI and CNI plugin): one JSON request over the unix socket. */
import { request } from 'node:http';

export class ApiUnreachable extends Error {}

export interface ApiResponse {
  status: number;
  body: unknown;
}

export function callApi(socketPath: string, method: string, path: string, body?: unknown, timeoutMs = 5000) {
  return new Promise<ApiResponse>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {},
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
          } catch {
            reject(new Error(`daemon answered with non-JSON: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new ApiUnreachable(`no answer from ${socketPath} within ${timeoutMs} ms`)),
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      reject(
        e instanceof ApiUnreachable
          ? e
          : new ApiUnreachable(`cannot reach podroute at ${socketPath}: ${e.code ?? e.message}`),
      );
    });
    if (payload) req.write(payload);
    req.end();
  });
}
