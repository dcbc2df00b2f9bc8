/**
 * The CNI plugin's one request to the daemon: HTTP/1.1 (RFC 9112) over the local API's unix
 * socket, written on `node:net` alone. The plugin is a process per ADD/DEL/CHECK/GC/STATUS, so
 * what it loads is paid on every pod start: `node:http` (agent, parser, client) costs a few
 * milliseconds of start-up that one request with `Connection: close` does not need. The daemon
 * (src/api/server.ts) answers every request with `content-length` and a JSON body; the body is
 * read to the end of the connection, which RFC 9112 6.3 allows when the server closes it, and cut
 * to `content-length` when that is given.
 */
import { connect } from 'node:net';
import type { ApiResponse } from '../api/client.js';

/** Splits a raw HTTP/1.1 answer into its status and JSON body (RFC 9112 4, 6.3). */
export function parseResponse(raw: Buffer): ApiResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error('daemon answer has no complete header');
  const head = raw.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '');
  if (!m) throw new Error(`daemon answer has no status line: ${JSON.stringify(head[0])}`);
  let body = raw.subarray(end + 4);
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'transfer-encoding' && value.toLowerCase() !== 'identity') {
      // The daemon never chunks; refusing beats misreading a body.
      throw new Error(`daemon answer uses transfer-encoding ${value}`);
    }
    if (name === 'content-length') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0 || n > body.length) throw new Error('daemon answer is truncated');
      body = body.subarray(0, n);
    }
  }
  const text = body.toString('utf8');
  try {
    return { status: Number(m[1]), body: text ? JSON.parse(text) : undefined };
  } catch {
    throw new Error(`daemon answered with non-JSON: ${text.slice(0, 200)}`);
  }
}

/**
 * One request on a fresh connection (GET without a body, else POST with JSON). Rejects when the
 * socket cannot be reached or does not answer within `timeoutMs`.
 */
export function request(
  socketPath: string,
  path: string,
  body: unknown,
  timeoutMs: number,
): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const head =
      `${body === undefined ? 'GET' : 'POST'} ${path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n` +
      (body === undefined
        ? '\r\n'
        : `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n\r\n`);
    const chunks: Buffer[] = [];
    const sock = connect(socketPath);
    const timer = setTimeout(
      () => sock.destroy(new Error(`no answer from ${socketPath} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    sock.on('connect', () => sock.write(head + payload));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(e.code ? `cannot reach podroute at ${socketPath}: ${e.code}` : e.message));
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (e) {
        reject(e);
      }
    });
  });
}
