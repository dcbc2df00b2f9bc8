/**
 * The local API: HTTP/1.1 over a unix socket (mode 0600), for the CLI and the CNI plugin.
 * HTTP because both ends get framing, status codes and JSON for free from node:http.
 */
import { chmodSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../lib/log.js';

export type Handler = (body: unknown, req: IncomingMessage) => Promise<{ status: number; body: unknown }>;

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

export class ApiServer {
  private readonly routes = new Map<string, Handler>();
  private server: Server | undefined;

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
  ) {}

  /** Registers a handler for `METHOD /path`. */
  route(method: string, path: string, handler: Handler): void {
    this.routes.set(`${method} ${path}`, handler);
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
    const url = new URL(req.url ?? '/', 'http://podroute');
    const handler = this.routes.get(`${req.method} ${url.pathname}`);
    let status = 404;
    let body: unknown = { error: `no such endpoint: ${req.method} ${url.pathname}` };
    if (handler) {
      try {
        ({ status, body } = await handler(await readBody(req), req));
      } catch (e) {
        status = e instanceof ApiError ? e.status : 500;
        body = { error: (e as Error).message, ...(e instanceof ApiError ? e.details : {}) };
        if (status >= 500)
          this.logger.error({ err: (e as Error).message, path: url.pathname }, 'api handler failed');
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
