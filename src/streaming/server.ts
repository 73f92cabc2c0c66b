/**
 * The streaming server: the CRI Exec / Attach / PortForward handlers call getUrl(), the
 * client connects to that URL (once, within the token's lifetime) and upgrades to SPDY/3.1
 * or WebSocket; the session then runs against the StreamingRuntime.
 *
 * Routes: GET or POST /exec/<token>, /attach/<token>, /portforward/<token>.
 * Errors: unknown, expired or reused token → 404; missing protocol header → 400; no common
 * protocol → 403 (with X-Accepted-Stream-Protocol-Versions for SPDY); not an upgrade → 400;
 * other methods → 405.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { logger, type Logger } from '../util/log.js';
import { messageOf, unavailable } from '../util/errors.js';
import { acceptSpdyUpgrade, rejectUpgrade } from './http-reply.js';
import { negotiate, spdyJsonStatus, type WsProtocolInfo } from './negotiate.js';
import { portsFromQuery, servePortForwardWs } from './portforward-ws.js';
import { servePortForwardSpdy } from './portforward-spdy.js';
import { acceptRemoteCommandStreams } from './remotecommand-spdy.js';
import { wsRemoteCommandTransport } from './remotecommand-ws.js';
import { parseListenAddress, validateAttach, validateExec, validatePortForward } from './requests.js';
import type { AttachRequest, ExecRequest, PortForwardRequest, StreamingRuntime } from './runtime.js';
import { runSession } from './session.js';
import { SpdyConnection } from './spdy/connection.js';
import { RequestCache, type CachedRequest, type StreamKind } from './tokens.js';

export interface StreamingServerOptions {
  runtime: StreamingRuntime;
  /** host:port to listen on; default 127.0.0.1:0 (a free port, see `address` after start). */
  address?: string;
  /** Lifetime of a URL's token; default 60 s. */
  tokenTtlMs?: number;
  /** How long SPDY clients get to open their streams; default 30 s (as the kubelet). */
  streamCreationTimeoutMs?: number;
  /** Close a connection with no traffic for this long; default 4 h (as the kubelet). */
  idleTimeoutMs?: number;
  logger?: Logger;
}

const ROUTE = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)\/?$/;

export class StreamingServer {
  private readonly cache: RequestCache;
  private readonly log: Logger;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<Duplex>();
  private readonly stopping = new AbortController();
  private readonly chosenWsProtocol = new WeakMap<IncomingMessage, string>();
  private http: Server | undefined;
  private bound: { host: string; port: number } | undefined;

  constructor(private readonly o: StreamingServerOptions) {
    this.cache = new RequestCache({ ttlMs: o.tokenTtlMs });
    this.log = o.logger ?? logger('streaming');
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: 16 * 1024 * 1024,
      handleProtocols: (_offered, req) => this.chosenWsProtocol.get(req) ?? false,
    });
  }

  async start(): Promise<void> {
    const { host, port } = parseListenAddress(this.o.address ?? '127.0.0.1:0');
    const server = createServer((req, res) => this.onPlainRequest(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(req, socket, head));
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(unavailable(`streaming server cannot listen on ${host}:${port}: ${messageOf(err)}`, err)));
      server.listen(port, host, () => resolve());
    });
    const a = server.address() as AddressInfo;
    this.bound = { host: a.address, port: a.port };
    this.http = server;
    this.log.info({ address: this.baseUrl }, 'streaming server listening');
  }

  /** Stop listening, abort every session and close every connection. */
  async stop(): Promise<void> {
    this.stopping.abort();
    const server = this.http;
    this.http = undefined;
    for (const s of this.sockets) s.destroy();
    this.wss.close();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /** The bound address (after start). */
  get address(): { host: string; port: number } {
    if (!this.bound) throw unavailable('the streaming server has not been started');
    return this.bound;
  }

  get baseUrl(): string {
    const { host, port } = this.address;
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  /** Validate a request, remember it under a one-time token and return the URL to connect to. */
  getUrl(kind: 'exec', req: ExecRequest): string;
  getUrl(kind: 'attach', req: AttachRequest): string;
  getUrl(kind: 'portforward', req: PortForwardRequest): string;
  getUrl(kind: StreamKind, req: ExecRequest | AttachRequest | PortForwardRequest): string {
    const base = this.baseUrl;
    let cached: CachedRequest;
    if (kind === 'exec') {
      validateExec(req as ExecRequest);
      cached = { kind, req: { ...(req as ExecRequest), cmd: [...(req as ExecRequest).cmd] } };
    } else if (kind === 'attach') {
      validateAttach(req as AttachRequest);
      cached = { kind, req: { ...(req as AttachRequest) } };
    } else {
      validatePortForward(req as PortForwardRequest);
      cached = { kind, req: { ...(req as PortForwardRequest), ports: [...(req as PortForwardRequest).ports] } };
    }
    return `${base}/${kind}/${this.cache.insert(cached)}`;
  }

  // ---- HTTP ----

  /** Resolve route + token; on failure the reply has been sent and undefined is returned. */
  private take(req: IncomingMessage, fail: (status: number, msg: string) => void): { cached: CachedRequest; url: URL } | undefined {
    const url = new URL(req.url ?? '/', 'http://streaming');
    const m = ROUTE.exec(url.pathname);
    if (!m) {
      fail(404, `404 page not found: ${url.pathname}`);
      return undefined;
    }
    if (req.method !== 'GET' && req.method !== 'POST') {
      fail(405, `method ${req.method} not allowed; use GET or POST`);
      return undefined;
    }
    const cached = this.cache.consume(m[2]!, m[1] as StreamKind);
    if (!cached) {
      fail(404, `unknown, expired or already used ${m[1]} token`);
      return undefined;
    }
    return { cached, url };
  }

  private onPlainRequest(req: IncomingMessage, res: ServerResponse): void {
    const fail = (status: number, msg: string): void => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${msg}\n`);
    };
    if (!this.take(req, fail)) return;
    fail(400, 'unable to upgrade: missing upgrade headers in request (want Connection: Upgrade, Upgrade: SPDY/3.1 or websocket)');
  }

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', (err) => this.log.debug({ err: messageOf(err) }, 'streaming socket error'));
    const taken = this.take(req, (status, msg) => rejectUpgrade(socket, status, msg));
    if (!taken) return;
    const { cached, url } = taken;
    const n = negotiate(cached.kind, req.headers);
    if (n.transport === 'reject') {
      rejectUpgrade(socket, n.status, n.message, n.headers);
      return;
    }
    const log = this.log.child({ kind: cached.kind, protocol: n.protocol, transport: n.transport });
    socket.setNoDelay(true);
    socket.setTimeout(this.o.idleTimeoutMs ?? 4 * 3600_000, () => socket.destroy());
    if (n.transport === 'spdy') {
      acceptSpdyUpgrade(socket, n.protocol);
      if (head.length > 0) socket.unshift(head);
      this.serveSpdy(new SpdyConnection(socket, { role: 'server', logger: log }), cached, n.protocol, log);
      return;
    }
    let ports: number[] = [];
    if (cached.kind === 'portforward') {
      const p = this.wsPorts(cached.req, url, socket);
      if (!p) return;
      ports = p;
    }
    this.chosenWsProtocol.set(req, n.protocol);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.serveWs(ws, cached, n.info, ports, log));
  }

  private wsPorts(req: PortForwardRequest, url: URL, socket: Duplex): number[] | undefined {
    const q = portsFromQuery(url.searchParams);
    const ports = Array.isArray(q) && q.length > 0 ? q : req.ports;
    if (!Array.isArray(q) || ports.length === 0) {
      rejectUpgrade(socket, 400, Array.isArray(q) ? 'query parameter "port" is required' : q.error);
      return undefined;
    }
    return ports;
  }

  private serveSpdy(conn: SpdyConnection, cached: CachedRequest, protocol: string, log: Logger): void {
    const stopping = this.stopping.signal;
    if (cached.kind === 'portforward') {
      void servePortForwardSpdy(conn, cached.req.podSandboxId, this.o.runtime, {
        timeoutMs: this.o.streamCreationTimeoutMs ?? 30_000,
        serverStopping: stopping,
        log,
      });
      return;
    }
    acceptRemoteCommandStreams(conn, cached.req, protocol, { timeoutMs: this.o.streamCreationTimeoutMs ?? 30_000, log })
      .then((t) => t && runSession(cached, t, this.o.runtime, { jsonStatus: spdyJsonStatus(protocol), serverStopping: stopping, log }))
      .catch((err) => this.crashed(log, err, conn));
  }

  private serveWs(ws: WebSocket, cached: CachedRequest, info: WsProtocolInfo, ports: number[], log: Logger): void {
    ws.on('error', (err) => log.debug({ err: messageOf(err) }, 'WebSocket error'));
    const stopping = this.stopping.signal;
    if (cached.kind === 'portforward') {
      servePortForwardWs(ws, cached.req.podSandboxId, ports, info, this.o.runtime, { serverStopping: stopping, log }).catch((err) =>
        this.crashed(log, err, ws),
      );
      return;
    }
    const t = wsRemoteCommandTransport(ws, cached.req, info, log);
    runSession(cached, t, this.o.runtime, { jsonStatus: info.jsonStatus, serverStopping: stopping, log }).catch((err) =>
      this.crashed(log, err, ws),
    );
  }

  /** A bug in a session must cost that session only, never the daemon. */
  private crashed(log: Logger, err: unknown, conn: { terminate(): void } | { destroy(): void }): void {
    log.error({ err: messageOf(err) }, 'streaming session failed unexpectedly');
    if ('terminate' in conn) conn.terminate();
    else conn.destroy();
  }
}
