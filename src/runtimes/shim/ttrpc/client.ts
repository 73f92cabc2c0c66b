import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { Request, Response } from '../../../gen/ttrpc/ttrpc.js';
import { deadlineExceeded, messageOf } from '../../../util/errors.js';
import type { Logger } from '../../../util/log.js';
import { encodeFrame, FrameDecoder, FrameType } from './frame.js';
import { TtrpcClosedError, TtrpcStatusError } from './errors.js';
import { metadataPairs, socketPathOf, splitMethodPath, type ClientMethod, type Metadata } from './method.js';

export interface TtrpcClientOptions {
  /** Sent with every call (e.g. containerd-namespace-ttrpc: k8s.io). */
  metadata?: Metadata;
  /** Give up connecting after this long (default 10 s). */
  connectTimeoutMs?: number;
  log?: Logger;
}

export interface CallOptions {
  /** Local deadline, also sent to the server as timeout_nano. 0 or absent = wait forever. */
  timeoutMs?: number;
  metadata?: Metadata;
  signal?: AbortSignal;
}

interface Pending {
  method: string;
  resolve(payload: Buffer): void;
  reject(err: Error): void;
}

const MAX_STREAM_ID = 0xffffffff;

/**
 * A ttrpc client over one unix socket. Calls are multiplexed: each gets the next odd stream id,
 * responses are matched by id, so any number may be in flight. When the connection ends, every
 * pending call is rejected with TtrpcClosedError and 'close' is emitted once.
 */
export class TtrpcClient extends EventEmitter<{ close: [reason: Error] }> {
  private readonly pending = new Map<number, Pending>();
  private readonly decoder = new FrameDecoder();
  private nextStreamId = 1;
  private closeReason: Error | undefined;

  private constructor(
    readonly address: string,
    private readonly socket: Socket,
    private readonly opts: TtrpcClientOptions,
  ) {
    super();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.shutdown(new TtrpcClosedError(`ttrpc connection to ${address} failed: ${err.message}`, err)));
    socket.on('close', () => this.shutdown(new TtrpcClosedError(`ttrpc connection to ${address} was closed by the peer`)));
  }

  static connect(address: string, opts: TtrpcClientOptions = {}): Promise<TtrpcClient> {
    const path = socketPathOf(address);
    const timeoutMs = opts.connectTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(deadlineExceeded(`connecting to ttrpc socket ${path} took longer than ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new TtrpcClosedError(`cannot connect to ttrpc socket ${path}: ${err.message}`, err));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new TtrpcClient(address, socket, opts));
      });
    });
  }

  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  /** Number of calls awaiting a response. */
  get inFlight(): number {
    return this.pending.size;
  }

  async call<Req, Res>(method: ClientMethod<Req, Res>, request: Req, opts: CallOptions = {}): Promise<Res> {
    const payload = await this.callRaw(method.path, method.requestSerialize(request), opts);
    return method.responseDeserialize(payload);
  }

  /** Send one request with an already-encoded payload; resolves with the response payload. */
  callRaw(path: string, payload: Uint8Array, opts: CallOptions = {}): Promise<Buffer> {
    const { service, method } = splitMethodPath(path);
    const label = `${service}/${method}`;
    if (this.closeReason) {
      return Promise.reject(new TtrpcClosedError(`${label}: ${this.closeReason.message}`, this.closeReason));
    }
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason ?? new Error(`${label} aborted`));
    const streamId = this.allocStreamId();
    const timeoutMs = opts.timeoutMs ?? 0;
    const body = Request.encode(
      Request.fromPartial({
        service,
        method,
        payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
        timeoutNano: timeoutMs > 0 ? BigInt(timeoutMs) * 1_000_000n : 0n,
        metadata: metadataPairs(this.opts.metadata, opts.metadata),
      }),
    ).finish();
    const frame = encodeFrame(streamId, FrameType.REQUEST, body);

    return new Promise<Buffer>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => settle(() => reject(opts.signal?.reason ?? new Error(`${label} aborted`)));
      const settle = (fn: () => void) => {
        if (!this.pending.delete(streamId)) return;
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      this.pending.set(streamId, {
        method: label,
        resolve: (p) => settle(() => resolve(p)),
        reject: (e) => settle(() => reject(e)),
      });
      if (timeoutMs > 0) {
        timer = setTimeout(
          () => settle(() => reject(deadlineExceeded(`${label} on ${this.address} got no answer within ${timeoutMs} ms`))),
          timeoutMs,
        );
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.socket.write(frame);
    });
  }

  /** Close the connection; pending calls are rejected. Idempotent. */
  close(): void {
    this.shutdown(new TtrpcClosedError(`ttrpc connection to ${this.address} was closed by this client`));
  }

  private allocStreamId(): number {
    for (;;) {
      const id = this.nextStreamId;
      this.nextStreamId = id + 2 > MAX_STREAM_ID ? 1 : id + 2;
      if (!this.pending.has(id)) return id;
    }
  }

  private onData(chunk: Buffer): void {
    let frames;
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.shutdown(new TtrpcClosedError(`ttrpc connection to ${this.address} sent a bad frame: ${messageOf(err)}`, err));
      return;
    }
    for (const frame of frames) {
      if (frame.type !== FrameType.RESPONSE) {
        this.opts.log?.warn({ address: this.address, type: frame.type }, 'ignoring unexpected ttrpc frame type');
        continue;
      }
      const pending = this.pending.get(frame.streamId);
      if (!pending) continue; // timed out or aborted earlier
      let response: Response;
      try {
        response = Response.decode(frame.body);
      } catch (err) {
        pending.reject(new TtrpcClosedError(`${pending.method}: undecodable ttrpc response: ${messageOf(err)}`, err));
        continue;
      }
      const status = response.status;
      if (status && status.code !== 0) pending.reject(new TtrpcStatusError(pending.method, status.code, status.message));
      else pending.resolve(response.payload);
    }
  }

  private shutdown(reason: Error): void {
    if (this.closeReason) return;
    this.closeReason = reason;
    this.socket.destroy();
    const calls = [...this.pending.values()];
    for (const call of calls) call.reject(new TtrpcClosedError(`${call.method}: ${reason.message}`, reason));
    this.emit('close', reason);
  }
}
