/**
 * A remotecommand client over WebSocket (v5.channel.k8s.io, falling back to v4) for the URL
 * CRI Exec returns: channel 0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize; v5 half-closes
 * stdin with [255, 0]. Resolves to the remote command's exit code, read from the
 * metav1.Status on channel 3.
 */
import type { Readable, Writable } from 'node:stream';
import { WebSocket } from 'ws';
import { failure } from '../errors.js';

export const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const RESIZE = 4;
const CLOSE = 255;

export interface TerminalSize {
  width: number;
  height: number;
}

export interface ExecIo {
  stdin?: Readable;
  stdout: Writable;
  stderr: Writable;
  /** For tty sessions: the initial size, and a way to hear of changes (returns an unsubscribe). */
  size?: TerminalSize;
  onResize?: (cb: (s: TerminalSize) => void) => () => void;
}

interface MetaStatus {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

/** The exit code a status stands for; throws for errors that are not an exit code (pure). */
export function exitCodeOfStatus(text: string): number {
  if (!text.trim()) throw failure('exec: the session ended without an exit status (the connection was lost?)');
  let s: MetaStatus;
  try {
    s = JSON.parse(text) as MetaStatus;
  } catch {
    throw failure(`exec failed: ${text.trim()}`);
  }
  if (s.status === 'Success') return 0;
  if (s.reason === 'NonZeroExitCode') {
    const cause = s.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    if (Number.isInteger(code)) return code;
  }
  throw failure(`exec failed: ${s.message ?? text.trim()}`);
}

function frame(channel: number, data: Uint8Array | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = channel;
  out.set(body, 1);
  return out;
}

function connect(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), PROTOCOLS, { perMessageDeflate: false });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => (body += s));
      res.on('end', () => reject(failure(`exec: the streaming server refused the session (HTTP ${res.statusCode}): ${body.trim()}`)));
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', (err) => reject(failure(`exec: cannot connect to the streaming server at ${url}: ${err.message}`)));
  });
}

/** Run one exec session to its end; resolves to the exit code. */
export async function execOverWebSocket(url: string, io: ExecIo): Promise<number> {
  const ws = await connect(url);
  const v5 = ws.protocol === 'v5.channel.k8s.io';
  let status = '';
  let unsubscribe: (() => void) | undefined;
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  ws.on('message', (raw: Buffer) => {
    const b = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as ArrayBuffer);
    if (b.length === 0) return;
    const data = b.subarray(1);
    if (b[0] === STDOUT && data.length) io.stdout.write(data);
    else if (b[0] === STDERR && data.length) io.stderr.write(data);
    else if (b[0] === STATUS) status += data.toString('utf8');
  });
  const send = (channel: number, data: Uint8Array | string) => {
    if (ws.readyState === ws.OPEN) ws.send(frame(channel, data));
  };
  if (io.size) send(RESIZE, JSON.stringify({ Width: io.size.width, Height: io.size.height }));
  if (io.onResize) unsubscribe = io.onResize((s) => send(RESIZE, JSON.stringify({ Width: s.width, Height: s.height })));
  const onData = (b: Buffer) => send(STDIN, b);
  const onEnd = () => {
    if (v5 && ws.readyState === ws.OPEN) ws.send(Buffer.from([CLOSE, STDIN]));
  };
  if (io.stdin) {
    io.stdin.on('data', onData);
    io.stdin.once('end', onEnd);
  }
  try {
    await closed;
  } finally {
    unsubscribe?.();
    if (io.stdin) {
      io.stdin.off('data', onData);
      io.stdin.off('end', onEnd);
      io.stdin.pause();
    }
  }
  return exitCodeOfStatus(status);
}
