/**
 * The Prometheus endpoint: plain HTTP on `metrics.address` (default 127.0.0.1:9464), text
 * exposition format 0.0.4 at `metrics.path`. A port that cannot be bound does not stop the
 * daemon: the error is logged and reported (GET /v1/sli `exporter`), CRI and the admin API
 * keep working.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { errnoCode, messageOf } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { ExporterState } from './report.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** "host:port" / "[v6]:port" → parts; undefined when malformed. */
export function parseAddress(address: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:\s]*)):(\d{1,5})$/.exec(address.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export class MetricsServer {
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private st: ExporterState;

  constructor(
    private readonly render: () => Promise<string>,
    private readonly path: string,
    private readonly log: Logger,
  ) {
    this.st = { path, listening: false };
  }

  state(): ExporterState {
    return this.st;
  }

  async listen(address: string): Promise<ExporterState> {
    const a = parseAddress(address);
    if (!a) {
      this.st = { path: this.path, listening: false, address, error: `metrics.address ${JSON.stringify(address)} is not host:port` };
      this.log.error(this.st, 'metrics endpoint not started');
      return this.st;
    }
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(a.port, a.host, () => resolve());
      });
    } catch (err) {
      const hint = errnoCode(err) === 'EADDRINUSE' ? ' (another process, or another berthd, uses that port: set metrics.address)' : '';
      this.st = { path: this.path, listening: false, address, error: `cannot listen on ${address}: ${errnoCode(err) ?? messageOf(err)}${hint}` };
      this.log.error({ address, err: messageOf(err) }, `metrics endpoint not started${hint}`);
      return this.st;
    }
    const bound = server.address() as AddressInfo;
    const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
    this.server = server;
    this.st = { path: this.path, listening: true, address: `${host}:${bound.port}` };
    this.log.info({ address: this.st.address, path: this.path }, 'Prometheus metrics endpoint listening');
    return this.st;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://metrics');
    if (url.pathname !== this.path) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: try ${this.path}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    try {
      // Encoded once: the body is hundreds of KiB at 100 containers (byteLength and a string write would each encode it).
      const body = Buffer.from(await this.render());
      res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      this.log.error({ err }, 'rendering metrics failed');
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`rendering metrics failed: ${messageOf(err)}\n`);
    }
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    const closed = new Promise<void>((r) => s.close(() => r()));
    for (const c of this.sockets) c.destroy();
    await closed;
    this.st = { ...this.st, listening: false };
  }
}
