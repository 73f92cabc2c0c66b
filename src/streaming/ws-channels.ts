/**
 * Kubernetes channel framing over a WebSocket: every message starts with its channel number
 * (one byte), the rest is that channel's data. base64 variants send text messages whose first
 * character is the ASCII digit of the channel and whose rest is base64. Protocol v5 adds a
 * two-byte message [255, channel] from the client to half-close a channel.
 */
import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

export const CLOSE_CHANNEL_SIGNAL = 255;

export type ChannelMessage = { channel: number; data: Buffer } | { closeChannel: number } | { invalid: string };

export function encodeChannelMessage(channel: number, data: Uint8Array, base64: boolean): Buffer | string {
  if (base64) return String.fromCharCode(0x30 + channel) + Buffer.from(data).toString('base64');
  const out = Buffer.allocUnsafe(data.length + 1);
  out[0] = channel;
  out.set(data, 1);
  return out;
}

export function decodeChannelMessage(raw: Buffer, base64: boolean, closeSignal: boolean): ChannelMessage | undefined {
  if (raw.length === 0) return undefined;
  if (closeSignal && raw[0] === CLOSE_CHANNEL_SIGNAL) {
    if (raw.length !== 2) return { invalid: `close signal must carry exactly one channel byte, got ${raw.length - 1}` };
    return { closeChannel: raw[1]! };
  }
  if (!base64) return { channel: raw[0]!, data: raw.subarray(1) };
  const channel = raw[0]! - 0x30;
  if (channel < 0 || channel > 9) return { invalid: `base64 message starts with ${JSON.stringify(String.fromCharCode(raw[0]!))}, not a channel digit` };
  return { channel, data: Buffer.from(raw.subarray(1).toString('latin1'), 'base64') };
}

/** Turns a RawData from ws into one Buffer. */
export function rawToBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * One channel as a Duplex: writes become channel messages, data the peer sends on the channel
 * can be read. When reads lag, the whole socket pauses (one TCP connection carries all
 * channels), and resumes when this channel is read again.
 */
export class ChannelStream extends Duplex {
  private paused = false;

  constructor(
    private readonly ws: WebSocket,
    readonly channel: number,
    private readonly base64: boolean,
  ) {
    super({ allowHalfOpen: true });
  }

  /** Data the peer sent on this channel. */
  deliver(data: Buffer): void {
    if (this.readableEnded || this.destroyed) return;
    if (!this.push(data) && !this.paused) {
      this.paused = true;
      this.ws.pause();
    }
  }

  /** The peer will send no more on this channel. */
  endInput(): void {
    if (!this.readableEnded && !this.destroyed) this.push(null);
  }

  override _read(): void {
    if (this.paused) {
      this.paused = false;
      this.ws.resume();
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.send(chunk, cb);
  }

  /** Send one message now (also usable for empty "hello" messages). */
  send(data: Uint8Array, cb: () => void = () => {}): void {
    if (this.ws.readyState !== this.ws.OPEN) {
      cb(); // the client is gone; the session notices through the socket closing
      return;
    }
    this.ws.send(encodeChannelMessage(this.channel, data, this.base64), { binary: !this.base64 }, () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    cb(); // v4/v5 have no server-side channel close; the session ends by closing the socket
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.paused) {
      this.paused = false;
      this.ws.resume();
    }
    cb(err);
  }
}

/** Routes incoming messages of a WebSocket to its channels. */
export function routeChannels(
  ws: WebSocket,
  channels: Map<number, ChannelStream>,
  o: { base64: boolean; closeSignal: boolean; onInvalid: (why: string) => void },
): void {
  ws.on('message', (data, _isBinary) => {
    const msg = decodeChannelMessage(rawToBuffer(data), o.base64, o.closeSignal);
    if (!msg) return;
    if ('invalid' in msg) o.onInvalid(msg.invalid);
    else if ('closeChannel' in msg) channels.get(msg.closeChannel)?.endInput();
    else channels.get(msg.channel)?.deliver(msg.data);
  });
  ws.on('close', () => {
    for (const c of channels.values()) {
      c.endInput();
    }
  });
}
