/**
 * Client side of the local API (CLI, CNI plugin, lab tools): one JSON request over the daemon's
 * unix socket per call. `callApi` is the raw exchange (status and body as sent); `ApiClient`
 * checks the status and types the answer by the endpoint table.
 */
import { request as httpRequest } from 'node:http';
import {
  type Endpoint,
  type ErrorBody,
  type RequestOf,
  type ResponseOf,
  splitEndpoint,
} from './endpoints.js';

/** Nothing answered on the socket (no daemon, wrong path, no answer in time). */
export class ApiUnreachable extends Error {}

/** The daemon answered, but not 200: it refused or failed the request. */
export class ApiRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | undefined,
  ) {
    super(body?.error ?? `daemon answered ${status}: ${JSON.stringify(body)}`);
  }
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

/**
 * One request, its answer as sent. Rejects with ApiUnreachable when the socket does not answer.
 * Node's default agent keeps connections open between calls; one the daemon closed meanwhile (a
 * restart) fails with ECONNRESET or EPIPE before the daemon read anything, so that one case is
 * sent again, once, on a new connection.
 */
export function callApi(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 5000,
): Promise<ApiResponse> {
  return exchange(socketPath, method, path, body, timeoutMs).catch((e: unknown) => {
    if (e instanceof StaleConnection) return exchange(socketPath, method, path, body, timeoutMs, false);
    throw e;
  });
}

/** A kept-alive connection that was already closed by the other end. */
class StaleConnection extends Error {}

function exchange(
  socketPath: string,
  method: string,
  path: string,
  body: unknown,
  timeoutMs: number,
  reuse = true,
): Promise<ApiResponse> {
  return new Promise<ApiResponse>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      {
        socketPath,
        method,
        path,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {},
        timeout: timeoutMs,
        ...(reuse ? {} : { agent: false }),
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
      if (req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
        reject(new StaleConnection(e.code));
        return;
      }
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

/** Typed calls to one daemon. */
export class ApiClient {
  constructor(
    readonly socketPath: string,
    readonly timeoutMs = 5000,
  ) {}

  /** Resolves with the 200 answer; rejects with ApiUnreachable or ApiRefused. */
  async call<E extends Endpoint>(
    endpoint: E,
    ...body: RequestOf<E> extends undefined ? [] : [RequestOf<E>]
  ): Promise<ResponseOf<E>> {
    const { method, path } = splitEndpoint(endpoint);
    const res = await callApi(this.socketPath, method, path, body[0], this.timeoutMs);
    if (res.status !== 200) throw new ApiRefused(res.status, res.body as ErrorBody | undefined);
    return res.body as ResponseOf<E>;
  }
}
