/**
 * berth's admin API: JSON over HTTP on a second unix socket (same permissions as the CRI
 * socket, 0660), for the operator and the `berth` CLI — QoS policy get/apply/simulate, the
 * SLI report, node info. Modules register routes; errors are BerthErrors mapped to HTTP
 * statuses with a JSON body { error, code }.
 */
import http from 'node:http';
import { chmod } from 'node:fs/promises';
import { claimSocketPath, unixPathOf } from '../cri/transport/unix-listener.js';
import { BerthError, Code, messageOf } from '../util/errors.js';
import type { Logger } from '../util/log.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface AdminRequest {
  method: Method;
  path: string;
  query: URLSearchParams;
  /** Parsed JSON body (undefined when empty); raw text for non-JSON bodies. */
  body: unknown;
  rawBody: string;
}

export type AdminHandler = (req: AdminRequest) => Promise<unknown>;

const HTTP_STATUS: Partial<Record<Code, number>> = {
  [Code.INVALID_ARGUMENT]: 400,
  [Code.NOT_FOUND]: 404,
  [Code.ALREADY_EXISTS]: 409,
  [Code.FAILED_PRECONDITION]: 409,
  [Code.PERMISSION_DENIED]: 403,
  [Code.UNAUTHENTICATED]: 401,
  [Code.UNIMPLEMENTED]: 501,
  [Code.UNAVAILABLE]: 503,
  [Code.DEADLINE_EXCEEDED]: 504,
};

const MAX_BODY = 4 * 1024 * 1024;

export class AdminServer {
  private readonly routes = new Map<string, AdminHandler>();
  private server: http.Server | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(private readonly log: Logger) {}

  /** Register `handler` for `method path` (exact path match, e.g. "GET /v1/qos/policy"). */
  route(method: Method, path: string, handler: AdminHandler): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  routeList(): string[] {
    return [...this.routes.keys()].sort();
  }

  async listen(listen: string): Promise<string> {
    const path = unixPathOf(listen);
    await claimSocketPath(path);
    this.route('GET', '/v1/routes', async () => ({ routes: this.routeList() }));
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    const oldUmask = process.umask(0o117);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => resolve());
      });
    } finally {
      process.umask(oldUmask);
    }
    await chmod(path, 0o660);
    this.server = server;
    this.log.info({ socket: path }, 'admin API listening');
    return path;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://berth');
    const method = (req.method ?? 'GET') as Method;
    const send = (status: number, value: unknown) => {
      const body = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n';
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const handler = this.routes.get(`${method} ${url.pathname}`);
    if (!handler) {
      const known = [...this.routes.keys()].some((k) => k.endsWith(` ${url.pathname}`));
      send(known ? 405 : 404, { error: `${known ? 'method not allowed' : 'no such route'}: ${method} ${url.pathname}`, code: 'NOT_FOUND' });
      return;
    }
    try {
      const rawBody = await readBody(req);
      let body: unknown;
      if (rawBody) {
        try {
          body = JSON.parse(rawBody);
        } catch {
          body = rawBody;
        }
      }
      send(200, (await handler({ method, path: url.pathname, query: url.searchParams, body, rawBody })) ?? {});
    } catch (err) {
      const code = err instanceof BerthError ? err.code : Code.INTERNAL;
      const status = HTTP_STATUS[code] ?? 500;
      if (status >= 500) this.log.error({ err, route: url.pathname }, 'admin call failed');
      send(status, { error: messageOf(err), code: Code[code] });
    }
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.close();
    for (const c of this.sockets) c.destroy();
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (b: Buffer) => {
      size += b.length;
      if (size > MAX_BODY) {
        reject(new BerthError(Code.INVALID_ARGUMENT, `request body over ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      parts.push(b);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}
