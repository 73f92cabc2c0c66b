/**
 * Payloads of SPDY/3.1 control frames (pure). Header-carrying frames (SYN_STREAM, SYN_REPLY,
 * HEADERS) are parsed up to their compressed header block; decompression is the
 * connection's job because the zlib context is shared by all frames of a connection.
 */
import { FrameFormatError } from './frames.js';

export interface SynStream {
  streamId: number;
  associatedTo: number;
  priority: number;
  compressedHeaders: Buffer;
}

export interface StreamHeaders {
  streamId: number;
  compressedHeaders: Buffer;
}

export interface Setting {
  id: number;
  flags: number;
  value: number;
}

function need(payload: Buffer, bytes: number, what: string): void {
  if (payload.length < bytes) throw new FrameFormatError(`${what} frame payload is ${payload.length} bytes, expected ${bytes}`);
}

const streamIdAt = (payload: Buffer, off: number): number => payload.readUInt32BE(off) & 0x7fffffff;

export function parseSynStream(payload: Buffer): SynStream {
  need(payload, 10, 'SYN_STREAM');
  return {
    streamId: streamIdAt(payload, 0),
    associatedTo: streamIdAt(payload, 4),
    priority: payload[8]! >> 5,
    compressedHeaders: payload.subarray(10),
  };
}

/** SYN_REPLY and HEADERS share a layout: stream id, then the header block. */
export function parseStreamHeaders(payload: Buffer, what: string): StreamHeaders {
  need(payload, 4, what);
  return { streamId: streamIdAt(payload, 0), compressedHeaders: payload.subarray(4) };
}

export function parseRstStream(payload: Buffer): { streamId: number; status: number } {
  need(payload, 8, 'RST_STREAM');
  return { streamId: streamIdAt(payload, 0), status: payload.readUInt32BE(4) };
}

export function parseSettings(payload: Buffer): Setting[] {
  need(payload, 4, 'SETTINGS');
  const count = payload.readUInt32BE(0);
  if (count > (payload.length - 4) / 8) throw new FrameFormatError(`SETTINGS claims ${count} entries in ${payload.length} bytes`);
  const out: Setting[] = [];
  for (let i = 0; i < count; i++) {
    const off = 4 + i * 8;
    out.push({ flags: payload[off]!, id: payload.readUInt32BE(off) & 0xffffff, value: payload.readUInt32BE(off + 4) });
  }
  return out;
}

export function parsePing(payload: Buffer): number {
  need(payload, 4, 'PING');
  return payload.readUInt32BE(0);
}

export function parseGoAway(payload: Buffer): { lastGoodStreamId: number; status: number } {
  need(payload, 4, 'GOAWAY');
  // SPDY/3 added the status word; tolerate its absence.
  return { lastGoodStreamId: streamIdAt(payload, 0), status: payload.length >= 8 ? payload.readUInt32BE(4) : 0 };
}

export function parseWindowUpdate(payload: Buffer): { streamId: number; delta: number } {
  need(payload, 8, 'WINDOW_UPDATE');
  return { streamId: streamIdAt(payload, 0), delta: payload.readUInt32BE(4) & 0x7fffffff };
}

export function synStreamPayload(streamId: number, associatedTo: number, priority: number, compressedHeaders: Buffer): Buffer {
  const head = Buffer.alloc(10);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(associatedTo & 0x7fffffff, 4);
  head[8] = (priority & 0x7) << 5;
  return Buffer.concat([head, compressedHeaders]);
}

export function streamHeadersPayload(streamId: number, compressedHeaders: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  return Buffer.concat([head, compressedHeaders]);
}

export function twoWordPayload(a: number, b: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeUInt32BE(a >>> 0, 0);
  out.writeUInt32BE(b >>> 0, 4);
  return out;
}

export function pingPayload(id: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(id >>> 0, 0);
  return out;
}

export function settingsPayload(settings: Setting[]): Buffer {
  const out = Buffer.alloc(4 + settings.length * 8);
  out.writeUInt32BE(settings.length, 0);
  settings.forEach((s, i) => {
    out.writeUInt32BE((((s.flags & 0xff) << 24) | (s.id & 0xffffff)) >>> 0, 4 + i * 8);
    out.writeUInt32BE(s.value >>> 0, 8 + i * 8);
  });
  return out;
}
