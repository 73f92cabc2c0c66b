/**
 * A SPDY/3.1 connection over an already-upgraded socket, for either end: the server side
 * accepts streams the client opens ('stream' event, then stream.reply()), the client side
 * opens them (openStream). Handles PING, SETTINGS, GOAWAY, RST_STREAM and flow control
 * (per-stream and, new in 3.1, per-session windows, 64 KiB each by default).
 *
 * Flow control and Go's spdystream: spdystream (crictl, kubectl, the kubelet and the API
 * server all use it) never sends WINDOW_UPDATE or SETTINGS and ignores ours. A sender that
 * honoured the initial 64 KiB window would stall against it forever. So with
 * flowControl 'when-peer-announces' (the server default) the peer's windows are enforced only
 * once the peer has sent a SETTINGS or WINDOW_UPDATE frame; until then we send like the
 * kubelet does. Our own receive windows are always advertised and acknowledged as data is
 * consumed, and a peer that overruns them is tolerated (counted in stats), with reading
 * paused while a stream has more than 1 MiB unread.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../util/log.js';
import {
  parseGoAway, parsePing, parseRstStream, parseSettings, parseStreamHeaders, parseSynStream,
  parseWindowUpdate, pingPayload, settingsPayload, streamHeadersPayload, synStreamPayload, twoWordPayload,
} from './control.js';
import {
  encodeControlFrame, encodeDataFrame, FLAG_FIN, FLAG_UNIDIRECTIONAL, FrameFormatError, FrameSplitter, FrameType,
  GoAwayStatus, RstStatus, SettingId, SPDY_VERSION, type RawFrame,
} from './frames.js';
import { DEFAULT_WINDOW, FlowControl } from './flow.js';
import { decodeHeaderBlock, encodeHeaderBlock, type SpdyHeaders } from './header-block.js';
import { HeaderCodec } from './header-zlib.js';
import { OrderedInbox } from './inbox.js';
import { FrameOutput } from './output.js';
import { resolveOptions, type SpdyConnectionOptions, type SpdyStats } from './connection-options.js';
import { SpdyStream, type StreamHost } from './stream.js';

export { DEFAULT_WINDOW };
export type { SpdyConnectionOptions, SpdyStats } from './connection-options.js';

export class SpdyConnection extends EventEmitter implements StreamHost {
  private framesIn = 0;
  private framesOut = 0;
  private readonly splitter = new FrameSplitter();
  private readonly codec = new HeaderCodec();
  private readonly out: FrameOutput;
  private readonly streams = new Map<number, SpdyStream>();
  private readonly pendingOpens = new Map<number, { resolve: (s: SpdyStream) => void; reject: (e: Error) => void }>();
  private readonly pendingPings = new Map<number, () => void>();
  private readonly inbox: OrderedInbox<RawFrame>;
  private readonly congestedStreams = new Set<SpdyStream>();
  private readonly blockedStreams = new Set<SpdyStream>();
  private socketError: Error | undefined;
  private nextStreamId: number;
  private nextPingId: number;
  private lastPeerStreamId = 0;
  private readonly flow: FlowControl;
  private readonly maxDataFrame: number;
  private goAwaySent = false;
  private closedFlag = false;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Duplex,
    private readonly opts: SpdyConnectionOptions,
  ) {
    super();
    const o = resolveOptions(opts);
    this.nextStreamId = o.firstId;
    this.nextPingId = o.firstId;
    this.flow = new FlowControl(o.initialWindow, { enforce: o.enforceFlow, acknowledge: o.sendWindowUpdates });
    this.maxDataFrame = o.maxDataFrame;
    this.out = new FrameOutput(socket);
    this.inbox = new OrderedInbox(
      (f) => {
        this.framesIn++;
        return f.control ? this.onControl(f) : this.onDataFrame(f.streamId, f.flags, f.payload);
      },
      (err) => this.protocolError(err),
    );
    socket.on('data', (chunk: Buffer) => this.onSocketData(chunk));
    // Frames already received are handled before the end is acted upon (header frames may
    // still be decompressing).
    socket.on('end', () => this.inbox.whenIdle(() => this.close()));
    socket.on('error', (err) => {
      opts.logger?.debug({ err: err.message }, 'SPDY socket error');
      this.socketError = err;
    });
    socket.on('close', () => this.inbox.whenIdle(() => this.teardown(this.socketError)));
    if (o.announceSettings) {
      this.sendControl(FrameType.Settings, 0, settingsPayload([{ id: SettingId.InitialWindowSize, flags: 0, value: this.flow.ourWindow }]));
    }
  }

  get stats(): SpdyStats {
    return { peerWindowOverrun: this.flow.overrun, framesIn: this.framesIn, framesOut: this.framesOut };
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Open a stream (client side) and wait for the peer's SYN_REPLY. */
  openStream(headers: SpdyHeaders, opts: { fin?: boolean } = {}): Promise<SpdyStream> {
    if (this.closedFlag || this.goAwaySent) return Promise.reject(new Error('SPDY connection is closed'));
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = this.addStream(id, new Map());
    if (opts.fin) stream.markFinSent();
    const p = new Promise<SpdyStream>((resolve, reject) => this.pendingOpens.set(id, { resolve, reject }));
    this.sendHeaderFrame(FrameType.SynStream, opts.fin ? FLAG_FIN : 0, headers, (c) => synStreamPayload(id, 0, 0, c));
    return p;
  }

  /** Round trip a PING; resolves with the time it took in ms. */
  ping(): Promise<number> {
    const id = this.nextPingId;
    this.nextPingId = (this.nextPingId + 2) % 0x7fffffff || (this.opts.role === 'client' ? 1 : 2);
    const start = process.hrtime.bigint();
    const p = new Promise<number>((resolve) =>
      this.pendingPings.set(id, () => resolve(Number(process.hrtime.bigint() - start) / 1e6)),
    );
    this.sendControl(FrameType.Ping, 0, pingPayload(id));
    return p;
  }

  /** Graceful close: GOAWAY, end the socket once queued frames are out, destroy after a grace period. */
  close(): void {
    if (this.closedFlag) return;
    if (!this.goAwaySent) {
      this.goAwaySent = true;
      this.sendControl(FrameType.GoAway, 0, twoWordPayload(this.lastPeerStreamId, GoAwayStatus.Ok));
    }
    this.out.endWhenFlushed();
    if (!this.closeTimer) {
      this.closeTimer = setTimeout(() => this.socket.destroy(), this.opts.closeGraceMs ?? 5000);
      this.closeTimer.unref();
    }
  }

  destroy(err?: Error): void {
    this.inbox.stop();
    this.socket.destroy();
    this.teardown(err);
  }

  // ---- StreamHost ----

  sendData(stream: SpdyStream, data: Buffer, cb: () => void): void {
    stream.outPending.push({ data, cb });
    this.pumpStream(stream);
  }

  sendFin(stream: SpdyStream, cb: () => void): void {
    stream.markFinSent();
    this.frameOut(encodeDataFrame(stream.id, FLAG_FIN, Buffer.alloc(0)), cb);
  }

  sendReply(stream: SpdyStream, headers: SpdyHeaders, fin: boolean): void {
    this.sendHeaderFrame(FrameType.SynReply, fin ? FLAG_FIN : 0, headers, (c) => streamHeadersPayload(stream.id, c));
  }

  sendReset(stream: SpdyStream, status: RstStatus): void {
    this.sendControl(FrameType.RstStream, 0, twoWordPayload(stream.id, status));
  }

  consumed(stream: SpdyStream | undefined, bytes: number): void {
    const open = stream !== undefined && !stream.remoteClosed && !stream.destroyed;
    for (const u of this.flow.consumed(stream?.id, bytes, open)) {
      this.sendControl(FrameType.WindowUpdate, 0, twoWordPayload(u.streamId, u.delta));
    }
  }

  congested(stream: SpdyStream, isCongested: boolean): void {
    if (isCongested) this.congestedStreams.add(stream);
    else this.congestedStreams.delete(stream);
    if (this.congestedStreams.size > 0) this.socket.pause();
    else if (!this.closedFlag) this.socket.resume();
  }

  forget(stream: SpdyStream): void {
    this.streams.delete(stream.id);
    this.blockedStreams.delete(stream);
    this.flow.forget(stream.id);
    const pending = this.pendingOpens.get(stream.id);
    if (pending) {
      this.pendingOpens.delete(stream.id);
      pending.reject(new Error(`SPDY stream ${stream.id} was reset before the peer replied (status ${stream.resetStatus ?? 'none'})`));
    }
  }

  // ---- output ----

  private frameOut(bytes: Buffer, cb?: () => void): void {
    if (this.closedFlag) {
      cb?.();
      return;
    }
    this.framesOut++;
    this.out.push(bytes, cb);
  }

  private sendControl(type: FrameType, flags: number, payload: Buffer): void {
    this.frameOut(encodeControlFrame(type, flags, payload));
  }

  private sendHeaderFrame(type: FrameType, flags: number, headers: SpdyHeaders, payload: (compressed: Buffer) => Buffer): void {
    if (this.closedFlag) return;
    this.framesOut++;
    const fill = this.out.reserve();
    this.codec.compress(encodeHeaderBlock(headers)).then(
      (c) => fill(encodeControlFrame(type, flags, payload(c))),
      (err: Error) => this.destroy(err),
    );
  }

  private pumpStream(stream: SpdyStream): void {
    while (stream.outPending.length > 0) {
      const head = stream.outPending[0]!;
      const allowed = this.flow.allowance(stream.sendWindow);
      if (allowed <= 0) {
        this.blockedStreams.add(stream);
        return;
      }
      const n = Math.min(head.data.length, allowed, this.maxDataFrame);
      stream.sendWindow -= n;
      this.flow.charge(n);
      const last = n === head.data.length;
      this.frameOut(encodeDataFrame(stream.id, 0, head.data.subarray(0, n)), last ? head.cb : undefined);
      if (last) stream.outPending.shift();
      else head.data = head.data.subarray(n);
    }
    this.blockedStreams.delete(stream);
  }

  private pumpBlocked(): void {
    for (const s of [...this.blockedStreams]) this.pumpStream(s);
  }

  // ---- input ----

  private onSocketData(chunk: Buffer): void {
    let frames: RawFrame[];
    try {
      frames = this.splitter.push(chunk);
    } catch (err) {
      this.protocolError(err as Error);
      return;
    }
    if (!this.closedFlag) this.inbox.push(frames);
  }

  private async headersOf(compressed: Buffer): Promise<SpdyHeaders> {
    if (compressed.length === 0) return new Map();
    return decodeHeaderBlock(await this.codec.decompress(compressed));
  }

  private onControl(f: Extract<RawFrame, { control: true }>): Promise<void> | undefined {
    if (f.version !== SPDY_VERSION) throw new FrameFormatError(`peer speaks SPDY version ${f.version}, expected ${SPDY_VERSION}`);
    switch (f.type) {
      case FrameType.SynStream:
        return this.onSynStream(f.flags, f.payload);
      case FrameType.SynReply:
      case FrameType.Headers:
        return this.onStreamHeaders(f.type, f.flags, f.payload);
      case FrameType.RstStream: {
        const { streamId, status } = parseRstStream(f.payload);
        this.streams.get(streamId)?.onReset(status);
        return undefined;
      }
      case FrameType.Settings:
        this.onSettings(f.payload);
        return undefined;
      case FrameType.Ping:
        this.onPing(parsePing(f.payload));
        return undefined;
      case FrameType.GoAway: {
        const { lastGoodStreamId, status } = parseGoAway(f.payload);
        this.emit('goaway', lastGoodStreamId, status);
        return undefined;
      }
      case FrameType.WindowUpdate:
        this.onWindowUpdate(f.payload);
        return undefined;
      default:
        return undefined; // the spec says to ignore unknown control frames
    }
  }

  private async onSynStream(flags: number, payload: Buffer): Promise<void> {
    const syn = parseSynStream(payload);
    const headers = await this.headersOf(syn.compressedHeaders); // always, to keep zlib in step
    const peerParity = this.opts.role === 'server' ? 1 : 0;
    if (syn.streamId % 2 !== peerParity || syn.streamId <= this.lastPeerStreamId) {
      this.frameOut(encodeControlFrame(FrameType.RstStream, 0, twoWordPayload(syn.streamId, RstStatus.ProtocolError)));
      return;
    }
    this.lastPeerStreamId = syn.streamId;
    if (this.goAwaySent) return; // after GOAWAY new streams are ignored
    const stream = this.addStream(syn.streamId, headers);
    if (flags & FLAG_UNIDIRECTIONAL) stream.markFinSent();
    if (flags & FLAG_FIN) stream.onRemoteFin();
    if (this.listenerCount('stream') === 0) stream.reset(RstStatus.RefusedStream);
    else this.emit('stream', stream);
  }

  private async onStreamHeaders(type: FrameType, flags: number, payload: Buffer): Promise<void> {
    const what = type === FrameType.SynReply ? 'SYN_REPLY' : 'HEADERS';
    const f = parseStreamHeaders(payload, what);
    const headers = await this.headersOf(f.compressedHeaders);
    const stream = this.streams.get(f.streamId);
    if (!stream) return;
    for (const [k, v] of headers) stream.headers.set(k, v);
    if (type === FrameType.SynReply) {
      const pending = this.pendingOpens.get(f.streamId);
      this.pendingOpens.delete(f.streamId);
      pending?.resolve(stream);
    }
    if (flags & FLAG_FIN) stream.onRemoteFin();
  }

  private onDataFrame(streamId: number, flags: number, data: Buffer): undefined {
    const stream = this.streams.get(streamId);
    this.flow.received(stream?.id, data.length);
    if (!stream) {
      this.consumed(undefined, data.length); // dropped, but it counts against the session window
      return undefined;
    }
    stream.onData(data, (flags & FLAG_FIN) !== 0);
    return undefined;
  }

  private onSettings(payload: Buffer): void {
    this.flow.peerAnnounced();
    for (const s of parseSettings(payload)) {
      if (s.id !== SettingId.InitialWindowSize) continue;
      const delta = this.flow.initialWindowChanged(s.value);
      for (const stream of this.streams.values()) stream.sendWindow += delta;
    }
    this.pumpBlocked();
  }

  private onPing(id: number): void {
    const ours = id % 2 === (this.opts.role === 'client' ? 1 : 0);
    if (!ours) {
      this.sendControl(FrameType.Ping, 0, pingPayload(id));
      return;
    }
    const done = this.pendingPings.get(id);
    this.pendingPings.delete(id);
    done?.();
  }

  private onWindowUpdate(payload: Buffer): void {
    this.flow.peerAnnounced();
    const { streamId, delta } = parseWindowUpdate(payload);
    if (streamId === 0) {
      this.flow.sessionWindowUpdate(delta);
      this.pumpBlocked();
      return;
    }
    const stream = this.streams.get(streamId);
    if (!stream) return;
    stream.sendWindow += delta;
    this.pumpStream(stream);
  }

  // ---- lifecycle ----

  private addStream(id: number, headers: SpdyHeaders): SpdyStream {
    const stream = new SpdyStream(this, id, headers, this.flow.peerInitialWindow);
    this.streams.set(id, stream);
    return stream;
  }

  private protocolError(err: Error): void {
    this.opts.logger?.warn({ err: err.message }, 'SPDY protocol error; closing the connection');
    if (!this.closedFlag && !this.goAwaySent) {
      this.goAwaySent = true;
      this.sendControl(FrameType.GoAway, 0, twoWordPayload(this.lastPeerStreamId, GoAwayStatus.ProtocolError));
    }
    this.out.endWhenFlushed();
    setTimeout(() => this.destroy(err), 100).unref();
  }

  private teardown(err?: Error): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.out.abandon();
    for (const [id, p] of this.pendingOpens) p.reject(new Error(`SPDY connection closed before stream ${id} was answered`));
    this.pendingOpens.clear();
    for (const s of [...this.streams.values()]) s.onConnectionClosed();
    this.streams.clear();
    this.codec.close();
    this.emit('close', err);
  }
}
