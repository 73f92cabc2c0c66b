/**
 * One SPDY stream as a Node Duplex. Reading yields the peer's DATA; writing sends DATA
 * within the flow-control windows; end() sends FIN. Destroying a stream that is not closed
 * in both directions resets it (RST_STREAM CANCEL).
 *
 * Receive-side flow control: incoming data waits in `inbox` until the Readable asks for
 * more; bytes handed to the Readable count as consumed and are acknowledged to the peer
 * with WINDOW_UPDATE (in batches of half the window). So the peer can have at most one
 * window in flight plus what the Readable buffers.
 */
import { Duplex } from 'node:stream';
import { RstStatus } from './frames.js';
import type { SpdyHeaders } from './header-block.js';

/** What a stream needs from its connection (implemented by SpdyConnection). */
export interface StreamHost {
  sendData(stream: SpdyStream, data: Buffer, cb: () => void): void;
  sendFin(stream: SpdyStream, cb: () => void): void;
  sendReply(stream: SpdyStream, headers: SpdyHeaders, fin: boolean): void;
  sendReset(stream: SpdyStream, status: RstStatus): void;
  consumed(stream: SpdyStream, bytes: number): void;
  congested(stream: SpdyStream, isCongested: boolean): void;
  forget(stream: SpdyStream): void;
}

/** Above this many unread bytes from a peer that ignores windows, reading the socket pauses. */
const CONGESTION_LIMIT = 1 << 20;

export class SpdyStream extends Duplex {
  /** The peer's headers: its SYN_STREAM, or its SYN_REPLY for streams we opened. */
  headers: SpdyHeaders;
  /** Bytes we may still send before the peer's next WINDOW_UPDATE. */
  sendWindow: number;
  /** Writes parked until the window opens (owned by the connection). */
  readonly outPending: Array<{ data: Buffer; cb: () => void }> = [];
  /** Set when a RST_STREAM arrived; its status code. */
  resetStatus: number | undefined;

  private readonly inbox: Buffer[] = [];
  private inboxBytes = 0;
  private remoteFin = false;
  private wantsData = false;
  private finSent = false;
  private replied = false;
  private isCongested = false;

  constructor(
    private readonly host: StreamHost,
    readonly id: number,
    headers: SpdyHeaders,
    sendWindow: number,
  ) {
    super({ allowHalfOpen: true, highWaterMark: 64 * 1024 });
    this.headers = headers;
    this.sendWindow = sendWindow;
  }

  /** Accept a stream the peer opened (SYN_REPLY). */
  reply(headers: SpdyHeaders = new Map(), fin = false): void {
    if (this.replied || this.destroyed) return;
    this.replied = true;
    if (fin) this.finSent = true;
    this.host.sendReply(this, headers, fin);
  }

  /** Abort the stream in both directions (RST_STREAM). */
  reset(status: RstStatus = RstStatus.Cancel): void {
    if (this.destroyed) return;
    if (this.resetStatus === undefined) this.host.sendReset(this, status);
    this.resetStatus ??= status;
    this.destroy();
  }

  get remoteClosed(): boolean {
    return this.remoteFin || this.resetStatus !== undefined;
  }

  get localClosed(): boolean {
    return this.finSent || this.resetStatus !== undefined;
  }

  // ---- called by the connection ----

  onData(data: Buffer, fin: boolean): void {
    if (this.destroyed || this.remoteFin) {
      // nothing reads it any more (or the peer sent DATA after FIN): drop it, but give the window back
      if (data.length > 0) this.host.consumed(this, data.length);
      return;
    }
    if (data.length > 0) {
      this.inbox.push(data);
      this.inboxBytes += data.length;
    }
    if (fin) this.remoteFin = true;
    if (this.inboxBytes > CONGESTION_LIMIT && !this.isCongested) {
      this.isCongested = true;
      this.host.congested(this, true);
    }
    if (this.wantsData) this.pump();
  }

  onRemoteFin(): void {
    this.onData(Buffer.alloc(0), true);
  }

  onReset(status: number): void {
    this.resetStatus = status;
    this.emit('reset', status);
    this.destroy();
  }

  markFinSent(): void {
    this.finSent = true;
  }

  /** The connection is gone. A stream the peer had finished keeps its unread data (it ends
   * normally once read); any other is destroyed. */
  onConnectionClosed(): void {
    for (const p of this.outPending.splice(0)) p.cb();
    if (this.remoteFin && !this.destroyed) {
      this.finSent = true;
      this.end();
    } else {
      this.resetStatus ??= RstStatus.Cancel;
      this.destroy();
    }
  }

  // ---- Duplex ----

  override _read(): void {
    this.wantsData = true;
    this.pump();
  }

  private pump(): void {
    let moved = 0;
    while (this.inbox.length > 0) {
      const chunk = this.inbox.shift()!;
      this.inboxBytes -= chunk.length;
      moved += chunk.length;
      if (!this.push(chunk)) {
        this.wantsData = false;
        break;
      }
    }
    if (moved > 0) this.host.consumed(this, moved);
    if (this.isCongested && this.inboxBytes < CONGESTION_LIMIT / 2) {
      this.isCongested = false;
      this.host.congested(this, false);
    }
    if (this.remoteFin && this.inbox.length === 0 && this.wantsData) {
      this.wantsData = false;
      this.push(null);
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.localClosed || chunk.length === 0) {
      // after our FIN or a reset there is no one to send to; dropping beats crashing the writer
      cb();
      return;
    }
    this.host.sendData(this, chunk, () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.localClosed) {
      cb();
      return;
    }
    this.host.sendFin(this, () => cb());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!(this.remoteClosed && this.localClosed) && this.resetStatus === undefined) {
      this.resetStatus = RstStatus.Cancel;
      this.host.sendReset(this, RstStatus.Cancel);
    }
    if (this.inboxBytes > 0) this.host.consumed(this, this.inboxBytes);
    this.inbox.length = 0;
    this.inboxBytes = 0;
    if (this.isCongested) {
      this.isCongested = false;
      this.host.congested(this, false);
    }
    for (const p of this.outPending.splice(0)) p.cb();
    this.host.forget(this);
    cb(err);
  }
}
