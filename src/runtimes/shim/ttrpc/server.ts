import { createServer, type Server, type Socket } from 'node:net';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Request, Response } from '../../../gen/ttrpc/ttrpc.js';
import { Code } from '../../../util/errors.js';
import { messageOf } from '../../../util/errors.js';
import type { Logger } from '../../../util/log.js';
import { encodeFrame, FrameDecoder, FrameType, type Frame } from './frame.js';
import { statusFromError } from './errors.js';
import { splitMethodPath, type ServerMethod } from './method.js';

export interface CallContext {
  /** Request metadata, keys lower-cased. */
  metadata: Record<string, string[]>;
  /** Deadline the client sent (epoch ms), if any. */
  deadline?: number;
}

export type Handler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res> | Res;

type RawHandler = (payload: Buffer, ctx: CallContext) => Promise<Buffer>;

/**
 * A small ttrpc server on a unix socket: unary methods only (all that shims use). Used to
 * receive shim events (Events/Forward) and by fake shims in tests.
 */
export class TtrpcServer {
  private readonly handlers = new Map<string, RawHandler>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private path: string | undefined;

  constructor(private readonly log?: Logger) {}

  /** Register one method, keyed by its path ("/<service>/<method>"). */
  register<Req, Res>(method: ServerMethod<Req, Res>, handler: Handler<Req, Res>): this {
    const { service, method: name } = splitMethodPath(method.path);
    this.handlers.set(`${service}/${name}`, async (payload, ctx) => {
      const response = await handler(method.requestDeserialize(payload), ctx);
      return method.responseSerialize(response);
    });
    return this;
  }

  /** Listen on `path` (a stale socket file there is removed first; mode 0600). */
  async listen(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await rm(path, { force: true });
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log?.error({ err, path }, 'ttrpc server error'));
    await chmod(path, 0o600);
    this.server = server;
    this.path = path;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Stop accepting, drop open connections, remove the socket file. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.path) await rm(this.path, { force: true });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    const decoder = new FrameDecoder();
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', (err) => this.log?.debug({ err }, 'ttrpc server connection error'));
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        this.log?.warn({ err: messageOf(err) }, 'dropping ttrpc connection after a bad frame');
        socket.destroy();
        return;
      }
      for (const frame of frames) void this.serve(socket, frame);
    });
  }

  private async serve(socket: Socket, frame: Frame): Promise<void> {
    const reply = (code: number, message: string, payload: Uint8Array = Buffer.alloc(0)) => {
      if (socket.destroyed) return;
      const body = Response.encode(
        Response.fromPartial({ status: { code, message, details: [] }, payload: Buffer.from(payload) }),
      ).finish();
      socket.write(encodeFrame(frame.streamId, FrameType.RESPONSE, body));
    };
    if (frame.type !== FrameType.REQUEST) return;
    if (frame.streamId % 2 !== 1) {
      reply(Code.INVALID_ARGUMENT, 'stream id must be odd for client-initiated streams');
      return;
    }
    let request: Request;
    try {
      request = Request.decode(frame.body);
    } catch (err) {
      reply(Code.INVALID_ARGUMENT, `undecodable ttrpc request: ${messageOf(err)}`);
      return;
    }
    const key = `${request.service}/${request.method}`;
    const handler = this.handlers.get(key);
    if (!handler) {
      reply(Code.UNIMPLEMENTED, `${key} is not implemented by this server`);
      return;
    }
    const metadata: Record<string, string[]> = {};
    for (const kv of request.metadata) (metadata[kv.key.toLowerCase()] ??= []).push(kv.value);
    const ctx: CallContext = { metadata };
    if (request.timeoutNano > 0n) ctx.deadline = Date.now() + Number(request.timeoutNano / 1_000_000n);
    try {
      reply(0, '', await handler(request.payload, ctx));
    } catch (err) {
      const status = statusFromError(err);
      reply(status.code, status.message);
    }
  }
}
