/**
 * Server plumbing of the local API: HTTP/1.1 over a unix socket (mode 0600), JSON both ways.
 * HTTP because both ends get framing, status codes and JSON for free from node:http. Handlers are
 * registered by the endpoint table's keys and answer its response type (HTTP 200); a handler
 * refuses with ApiError (its status and message), anything else thrown answers 500. What the
 * endpoints do is the daemon's business: this module knows no protocol or IPAM.
 */
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../lib/log.js';
import type { Endpoint, ErrorBody, ResponseOf } from './endpoints.js';

/**
 * Answers one endpoint: `body` is the parsed request (undefined when empty), still to validate;
 * `req` is absent when the daemon calls the handler itself (`invoke`).
 */
export type Handler<E extends Endpoint> = (body: unknown, req?: IncomingMessage) => Promise<ResponseOf<E>>;

/** A refusal with its HTTP status; `details` join the ErrorBody. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Resolves true if something accepts connections on the socket path (another daemon is running). */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const MAX_BODY = 1 << 20;

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError(413, 'request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (size === 0) return resolve(undefined);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new ApiError(400, 'request body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

/**
 * A plain request path (letters, digits, `-`, `_` between single `/`), with or without a query:
 * its pathname is the text before `?`, as the WHATWG URL parser would give it. Every endpoint's
 * path is of that form, so the CNI calls skip the parser (`new URL` was ~4% of the daemon's CPU
 * per ADD+DEL on tmpfs). Each `/` closes a segment, so the pattern cannot backtrack badly.
 */
const PLAIN_PATH = /^\/(?:[A-Za-z0-9_-]+\/)*[A-Za-z0-9_-]*(?:\?|$)/;

/**
 * The pathname of a request target, as `new URL(target, base).pathname` gives it; a target the
 * parser refuses (`/\\` reads as an empty host) is returned as it came, to be answered 404.
 */
export function pathOf(target: string | undefined): string {
  const t = target ?? '/';
  const m = PLAIN_PATH.exec(t);
  if (m) return m[0].endsWith('?') ? m[0].slice(0, -1) : m[0];
  try {
    return new URL(t, 'http://podroute').pathname;
  } catch {
    return t;
  }
}

type AnyHandler = (body: unknown, req?: IncomingMessage) => Promise<unknown>;

export class ApiServer {
  /** By `METHOD /path`, as a request line names it. */
  private readonly routes = new Map<string, AnyHandler>();
  private server: Server | undefined;

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
  ) {}

  /** Registers the handler of one endpoint (`GET /status`); a second registration replaces it. */
  route<E extends Endpoint>(endpoint: E, handler: Handler<E>): void {
    this.routes.set(endpoint, handler);
  }

  /**
   * Runs a registered handler in-process with an already parsed body, and answers what a client
   * over the socket would read: 200 and the response, or the refusal's status and ErrorBody
   * (`POST /cni/exec` runs the CNI plugin logic in the daemon through this).
   */
  async invoke(method: string, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
    const handler = this.routes.get(`${method} ${path}`);
    if (!handler) return { status: 404, body: { error: `no such endpoint: ${method} ${path}` } };
    try {
      return { status: 200, body: await handler(body) };
    } catch (e) {
      const status = e instanceof ApiError ? e.status : 500;
      if (status >= 500) this.logger.error({ err: (e as Error).message, path }, 'api handler failed');
      return {
        status,
        body: {
          error: (e as Error).message,
          ...(e instanceof ApiError ? e.details : {}),
        } satisfies ErrorBody,
      };
    }
  }

  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o755 });
    if (await socketInUse(this.path)) {
      throw new Error(`api.socket ${this.path} is in use: is another podroute running?`);
    }
    try {
      unlinkSync(this.path); // a stale socket left by a crash
    } catch {}
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(this.path, 0o600);
    this.server = server;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pathname = pathOf(req.url);
    const handler = this.routes.get(`${req.method} ${pathname}`);
    let status = 404;
    let body: unknown = { error: `no such endpoint: ${req.method} ${pathname}` } satisfies ErrorBody;
    if (handler) {
      try {
        body = await handler(await readBody(req), req);
        status = 200;
      } catch (e) {
        status = e instanceof ApiError ? e.status : 500;
        body = {
          error: (e as Error).message,
          ...(e instanceof ApiError ? e.details : {}),
        } satisfies ErrorBody;
        if (status >= 500)
          this.logger.error({ err: (e as Error).message, path: pathname }, 'api handler failed');
      }
    }
    const text = `${JSON.stringify(body)}\n`;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {}
  }
}
