/**
 * ttrpc framing: every message is a 10-byte header followed by a protobuf body.
 *
 *   bytes 0..3  body length, u32 big-endian (header not included)
 *   bytes 4..7  stream id, u32 big-endian (clients use odd ids)
 *   byte  8     message type: 1 request, 2 response
 *   byte  9     flags (unused by unary calls, sent as 0)
 *
 * Pure code: no sockets here, so the decoder can be fed arbitrary chunk splits in tests.
 */

export const HEADER_LENGTH = 10;
/** Largest body ttrpc peers accept (4 MiB); bigger frames are refused on both sides. */
export const MAX_MESSAGE_LENGTH = 4 << 20;

export enum FrameType {
  REQUEST = 1,
  RESPONSE = 2,
}

export interface Frame {
  streamId: number;
  type: number;
  flags: number;
  body: Buffer;
}

/** Thrown (as the decoder's error) when the byte stream cannot be ttrpc. */
export class FramingError extends Error {
  override name = 'FramingError';
}

export function encodeFrame(streamId: number, type: FrameType, body: Uint8Array, flags = 0): Buffer {
  if (body.length > MAX_MESSAGE_LENGTH) {
    throw new FramingError(`ttrpc message of ${body.length} bytes exceeds the ${MAX_MESSAGE_LENGTH}-byte limit`);
  }
  if (!Number.isInteger(streamId) || streamId < 0 || streamId > 0xffffffff) {
    throw new FramingError(`invalid ttrpc stream id ${streamId}`);
  }
  const out = Buffer.allocUnsafe(HEADER_LENGTH + body.length);
  out.writeUInt32BE(body.length, 0);
  out.writeUInt32BE(streamId, 4);
  out.writeUInt8(type, 8);
  out.writeUInt8(flags, 9);
  out.set(body, HEADER_LENGTH);
  return out;
}

/**
 * Incremental decoder: push() arbitrary chunks, get back every complete frame. A header that
 * announces more than `maxLength` bytes makes push() throw a FramingError; the stream cannot be
 * resynchronised after that, so the caller must drop the connection.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxLength = MAX_MESSAGE_LENGTH) {}

  /** Bytes held waiting for the rest of a frame. */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Buffer): Frame[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Frame[] = [];
    while (this.buffered >= HEADER_LENGTH) {
      const header = this.peek(HEADER_LENGTH);
      const length = header.readUInt32BE(0);
      if (length > this.maxLength) {
        throw new FramingError(`ttrpc frame announces ${length} bytes, over the ${this.maxLength}-byte limit`);
      }
      if (this.buffered < HEADER_LENGTH + length) break;
      const whole = this.take(HEADER_LENGTH + length);
      frames.push({
        streamId: whole.readUInt32BE(4),
        type: whole.readUInt8(8),
        flags: whole.readUInt8(9),
        body: whole.subarray(HEADER_LENGTH),
      });
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!.subarray(0, n);
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    let out: Buffer;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }
}
