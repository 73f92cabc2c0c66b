/**
 * Test-side clients for the streaming server: a SPDY/3.1 client built on our own framer
 * (behaving like client-go's remotecommand and portforward clients) and a WebSocket channel
 * client built on `ws`.
 */
import net from 'node:net';
import type { Readable } from 'node:stream';
import { WebSocket } from 'ws';
import { SpdyConnection, type SpdyConnectionOptions } from '../../src/streaming/spdy/connection.js';
import { headersFrom } from '../../src/streaming/spdy/header-block.js';
import type { SpdyStream } from '../../src/streaming/spdy/stream.js';
import { encodeChannelMessage, rawToBuffer } from '../../src/streaming/ws-channels.js';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string[]>;
  body: string;
}

export type SpdyUpgrade = ({ ok: true; conn: SpdyConnection; protocol: string } | { ok: false }) & HttpAnswer;

/** Read everything a stream yields until it ends or closes. */
export function readAll(s: Readable): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    s.on('data', (b: Buffer) => parts.push(Buffer.from(b)));
    const done = (): void => resolve(Buffer.concat(parts));
    s.once('end', done);
    s.once('close', done);
  });
}

/** Read from a stream until `pred` holds for what has arrived so far. */
export function readUntil(s: Readable, pred: (soFar: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (b: Buffer): void => {
      text += b.toString('utf8');
      if (pred(text)) {
        s.off('data', onData);
        resolve(text);
      }
    };
    s.on('data', onData);
    s.once('close', () => reject(new Error(`stream closed before the expected data; got ${JSON.stringify(text)}`)));
  });
}

function parseHead(head: string): HttpAnswer {
  const [statusLine, ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
  const headers: Record<string, string[]> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i <= 0) continue;
    const k = l.slice(0, i).trim().toLowerCase();
    (headers[k] ??= []).push(l.slice(i + 1).trim());
  }
  return { status, headers, body: '' };
}

/** Send an HTTP upgrade request for SPDY/3.1 and, on 101, start a client SPDY connection. */
export async function spdyUpgrade(
  url: string,
  protocols: string[],
  o: { method?: string; upgrade?: string; connOptions?: Partial<SpdyConnectionOptions> } = {},
): Promise<SpdyUpgrade> {
  const u = new URL(url);
  const socket = net.connect(Number(u.port), u.hostname);
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const lines = [
    `${o.method ?? 'POST'} ${u.pathname}${u.search} HTTP/1.1`,
    `Host: ${u.host}`,
    'Connection: Upgrade',
    `Upgrade: ${o.upgrade ?? 'SPDY/3.1'}`,
    ...protocols.map((p) => `X-Stream-Protocol-Version: ${p}`),
    'Content-Length: 0',
  ];
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  let buf = Buffer.alloc(0);
  const head = await new Promise<string>((resolve, reject) => {
    const onData = (b: Buffer): void => {
      buf = Buffer.concat([buf, b]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      const rest = buf.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(buf.subarray(0, end).toString('latin1'));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('socket closed before the HTTP answer')));
  });
  const answer = parseHead(head);
  if (answer.status !== 101) {
    socket.resume();
    answer.body = (await readAll(socket)).toString('utf8');
    socket.destroy();
    return { ok: false, ...answer };
  }
  const conn = new SpdyConnection(socket, { role: 'client', ...o.connOptions });
  socket.resume();
  return { ok: true, conn, protocol: answer.headers['x-stream-protocol-version']?.[0] ?? '', ...answer };
}

export interface RemoteCommandStreams {
  error: SpdyStream;
  stdin?: SpdyStream;
  stdout?: SpdyStream;
  stderr?: SpdyStream;
  resize?: SpdyStream;
}

/** Open the streams the way client-go does (error first; stderr not with tty; resize for tty on v3+). */
export async function openRemoteCommandStreams(
  conn: SpdyConnection,
  o: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean; resize: boolean },
): Promise<RemoteCommandStreams> {
  const open = (type: string): Promise<SpdyStream> => conn.openStream(headersFrom({ streamtype: type }));
  const error = await open('error');
  const out: RemoteCommandStreams = { error };
  if (o.stdin) out.stdin = await open('stdin');
  if (o.stdout) out.stdout = await open('stdout');
  if (o.stderr && !o.tty) out.stderr = await open('stderr');
  if (o.tty && o.resize) out.resize = await open('resize');
  return out;
}

export interface RemoteCommandResult {
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
  /** Everything the server wrote on the error stream. */
  error: string;
}

/** A whole non-interactive session: send `stdin` (then close it), collect the outputs. */
export async function spdyRemoteCommand(
  conn: SpdyConnection,
  o: { stdin?: Buffer | string; stdout?: boolean; stderr?: boolean },
): Promise<RemoteCommandResult> {
  const s = await openRemoteCommandStreams(conn, {
    stdin: o.stdin !== undefined,
    stdout: o.stdout ?? true,
    stderr: o.stderr ?? true,
    tty: false,
    resize: false,
  });
  const [stdout, stderr, error] = [s.stdout, s.stderr, s.error].map((x) => (x ? readAll(x) : Promise.resolve(Buffer.alloc(0))));
  if (s.stdin) s.stdin.end(o.stdin);
  const [out, err, e] = await Promise.all([stdout!, stderr!, error!]);
  return { stdout: out.toString('utf8'), stderr: err.toString('utf8'), stdoutBytes: out, error: e.toString('utf8') };
}

/** One forwarded connection over SPDY: an error stream (closed for writing at once, as
 * client-go does) and a data stream, paired by requestid. */
export async function spdyPortForwardPair(
  conn: SpdyConnection,
  port: number,
  requestId: string,
): Promise<{ data: SpdyStream; error: Promise<string> }> {
  const h = (type: string): Map<string, string[]> => headersFrom({ streamtype: type, port: String(port), requestid: requestId });
  const errorStream = await conn.openStream(h('error'));
  errorStream.end();
  const error = readAll(errorStream).then((b) => b.toString('utf8'));
  const data = await conn.openStream(h('data'));
  return { data, error };
}

// ---- WebSocket ----

export interface WsAnswer {
  ok: boolean;
  status: number;
  protocol: string;
  client?: WsChannelClient;
  body: string;
}

/** A WebSocket speaking the Kubernetes channel framing. */
export class WsChannelClient {
  readonly received = new Map<number, Buffer[]>();
  /** Raw messages in arrival order (channel, payload). */
  readonly log: Array<{ channel: number; data: Buffer }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private listeners: Array<() => void> = [];

  constructor(
    readonly ws: WebSocket,
    readonly base64: boolean,
  ) {
    ws.on('message', (raw) => {
      let b = rawToBuffer(raw as Buffer);
      let channel = b[0]!;
      if (base64) {
        channel -= 0x30;
        b = Buffer.concat([Buffer.from([channel]), Buffer.from(b.subarray(1).toString('latin1'), 'base64')]);
      }
      const data = b.subarray(1);
      this.log.push({ channel, data });
      const list = this.received.get(channel) ?? [];
      list.push(data);
      this.received.set(channel, list);
      for (const l of this.listeners) l();
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  text(channel: number): string {
    return Buffer.concat(this.received.get(channel) ?? []).toString('utf8');
  }

  bytes(channel: number): Buffer {
    return Buffer.concat(this.received.get(channel) ?? []);
  }

  send(channel: number, data: Buffer | string): void {
    this.ws.send(encodeChannelMessage(channel, Buffer.from(data), this.base64), { binary: !this.base64 });
  }

  /** v5: tell the server this channel will carry no more data. */
  closeChannel(channel: number): void {
    this.ws.send(Buffer.from([255, channel]), { binary: true });
  }

  /** Resolve when `pred` holds over the messages received so far. */
  waitFor(pred: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (pred()) {
          this.listeners = this.listeners.filter((l) => l !== check);
          resolve();
        }
      };
      this.listeners.push(check);
      void this.closed.then(() => {
        if (!pred()) reject(new Error(`WebSocket closed while waiting for ${what}`));
      });
      check();
    });
  }
}

export function wsConnect(url: string, protocols: string[]): Promise<WsAnswer> {
  const wsUrl = url.replace(/^http/, 'ws');
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, protocols, { perMessageDeflate: false });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => (body += s));
      res.on('end', () => {
        resolve({ ok: false, status: res.statusCode ?? 0, protocol: '', body });
        ws.terminate();
      });
    });
    ws.once('open', () => {
      const client = new WsChannelClient(ws, ws.protocol.includes('base64'));
      resolve({ ok: true, status: 101, protocol: ws.protocol, client, body: '' });
    });
    ws.once('error', (err) => reject(err));
  });
}
