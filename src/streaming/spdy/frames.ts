/**
 * SPDY/3.1 frame layout (pure: bytes in, values out).
 *
 * Every frame has an 8-byte header. Control frames: bit 31 set, 15-bit version (3), 16-bit
 * type, then 8-bit flags and 24-bit payload length. Data frames: bit 31 clear, 31-bit stream
 * id, then 8-bit flags and 24-bit length. All integers are big-endian.
 */

export const SPDY_VERSION = 3;
export const FRAME_HEADER_LENGTH = 8;
/** Largest payload a 24-bit length can describe. */
export const MAX_FRAME_PAYLOAD = 0xffffff;

export enum FrameType {
  SynStream = 1,
  SynReply = 2,
  RstStream = 3,
  Settings = 4,
  Ping = 6,
  GoAway = 7,
  Headers = 8,
  WindowUpdate = 9,
}

/** FIN on data frames and on SYN_STREAM / SYN_REPLY / HEADERS. */
export const FLAG_FIN = 0x01;
/** SYN_STREAM only: the receiver may not send on this stream. */
export const FLAG_UNIDIRECTIONAL = 0x02;

export enum RstStatus {
  ProtocolError = 1,
  InvalidStream = 2,
  RefusedStream = 3,
  UnsupportedVersion = 4,
  Cancel = 5,
  InternalError = 6,
  FlowControlError = 7,
  StreamInUse = 8,
  StreamAlreadyClosed = 9,
  FrameTooLarge = 11,
}

export enum GoAwayStatus {
  Ok = 0,
  ProtocolError = 1,
  InternalError = 2,
}

export enum SettingId {
  MaxConcurrentStreams = 4,
  InitialWindowSize = 7,
}

export type RawFrame =
  | { control: true; version: number; type: number; flags: number; payload: Buffer }
  | { control: false; streamId: number; flags: number; payload: Buffer };

export class FrameFormatError extends Error {
  override name = 'FrameFormatError';
}

/**
 * Splits a byte stream into frames. Feed it whatever the socket delivers; it returns the
 * complete frames and keeps the remainder for the next call.
 */
export class FrameSplitter {
  private pending: Buffer[] = [];
  private pendingLength = 0;

  constructor(private readonly maxPayload = MAX_FRAME_PAYLOAD) {}

  push(chunk: Buffer): RawFrame[] {
    if (chunk.length > 0) {
      this.pending.push(chunk);
      this.pendingLength += chunk.length;
    }
    const frames: RawFrame[] = [];
    if (this.pendingLength < FRAME_HEADER_LENGTH) return frames;
    let buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingLength);
    let off = 0;
    while (buf.length - off >= FRAME_HEADER_LENGTH) {
      const length = buf.readUInt32BE(off + 4) & 0xffffff;
      if (length > this.maxPayload) {
        throw new FrameFormatError(`frame payload of ${length} bytes exceeds the limit of ${this.maxPayload}`);
      }
      if (buf.length - off < FRAME_HEADER_LENGTH + length) break;
      frames.push(decodeFrameHeader(buf, off, buf.subarray(off + 8, off + 8 + length)));
      off += FRAME_HEADER_LENGTH + length;
    }
    buf = buf.subarray(off);
    this.pending = buf.length > 0 ? [buf] : [];
    this.pendingLength = buf.length;
    return frames;
  }
}

function decodeFrameHeader(buf: Buffer, off: number, payload: Buffer): RawFrame {
  const first = buf.readUInt32BE(off);
  const flags = buf[off + 4]!;
  if (first & 0x80000000) {
    return { control: true, version: (first >>> 16) & 0x7fff, type: first & 0xffff, flags, payload };
  }
  return { control: false, streamId: first & 0x7fffffff, flags, payload };
}

export function encodeControlFrame(type: FrameType, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new FrameFormatError(`control frame payload too large: ${payload.length}`);
  const out = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + payload.length);
  out.writeUInt32BE((0x80000000 | (SPDY_VERSION << 16) | type) >>> 0, 0);
  out.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  payload.copy(out, FRAME_HEADER_LENGTH);
  return out;
}

export function encodeDataFrame(streamId: number, flags: number, data: Uint8Array): Buffer {
  if (data.length > MAX_FRAME_PAYLOAD) throw new FrameFormatError(`data frame payload too large: ${data.length}`);
  const out = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + data.length);
  out.writeUInt32BE(streamId & 0x7fffffff, 0);
  out.writeUInt32BE(((flags << 24) | data.length) >>> 0, 4);
  out.set(data, FRAME_HEADER_LENGTH);
  return out;
}
