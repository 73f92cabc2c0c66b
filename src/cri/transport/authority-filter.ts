/**
 * crictl 1.26 and kubelets before ~1.30 send the unix socket path (e.g.
 * "/run/berth/berth.sock") as the HTTP/2 `:authority`. nghttp2 inside Node rejects a "/" in
 * that header and resets every stream, with no switch to relax it. This transform sits
 * between the accepted unix socket and grpc-js and rewrites such `:authority` values in the
 * client's HEADERS/CONTINUATION frames before nghttp2 parses them.
 *
 * The replacement has the same decoded length as the original, so the HPACK dynamic table
 * (entry size = name + value + 32) stays in step between the client's encoder and the
 * server's decoder; later indexed references to the entry resolve to the rewritten value.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { walkHeaderBlock, writeInt, writeString, readInt } from './hpack.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const FRAME_HEADERS = 0x1;
const FRAME_CONTINUATION = 0x9;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
const MAX_OUT_FRAME = 16384; // SETTINGS_MAX_FRAME_SIZE default, which grpc-js keeps
const AUTHORITY_STATIC_INDEX = 1;

/** Characters nghttp2 accepts in :authority (RFC 3986 authority, roughly). */
const AUTHORITY_OK = /^[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]*$/;

export function needsRewrite(value: Buffer): boolean {
  return !AUTHORITY_OK.test(value.toString('latin1'));
}

/** "localhost" cut or padded with "x" to exactly `len` characters: a valid reg-name. */
export function replacementAuthority(len: number): Buffer {
  return Buffer.from(('localhost' + 'x'.repeat(Math.max(0, len - 9))).slice(0, len), 'latin1');
}

/** Rewrite invalid :authority literals in one complete header block. Returns the input if unchanged. */
export function rewriteHeaderBlock(block: Buffer): Buffer {
  const edits: { start: number; end: number; repl: Buffer }[] = [];
  walkHeaderBlock(block, (f) => {
    const isAuthority = f.nameIndex === AUTHORITY_STATIC_INDEX || (f.name && f.name.toString('latin1') === ':authority');
    if (isAuthority && needsRewrite(f.value.value)) {
      edits.push({ start: f.value.start, end: f.value.end, repl: writeString(replacementAuthority(f.value.value.length)) });
    }
  });
  if (edits.length === 0) return block;
  const parts: Buffer[] = [];
  let at = 0;
  for (const e of edits) {
    parts.push(block.subarray(at, e.start), e.repl);
    at = e.end;
  }
  parts.push(block.subarray(at));
  return Buffer.concat(parts);
}

function frameHeader(len: number, type: number, flags: number, streamId: number): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(len, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId & 0x7fffffff, 5);
  return h;
}

/** Re-emit a header block as HEADERS (+ CONTINUATION) frames of at most MAX_OUT_FRAME bytes. */
function emitHeaderBlock(
  streamId: number,
  flags: number,
  priority: Buffer | undefined,
  block: Buffer,
  push: (b: Buffer) => void,
): void {
  const first = priority ? Buffer.concat([priority, block]) : block;
  let chunk = first.subarray(0, MAX_OUT_FRAME);
  let rest = first.subarray(chunk.length);
  const keep = flags & ~(FLAG_END_HEADERS | FLAG_PADDED);
  push(frameHeader(chunk.length, FRAME_HEADERS, keep | (rest.length ? 0 : FLAG_END_HEADERS), streamId));
  push(chunk);
  while (rest.length) {
    chunk = rest.subarray(0, MAX_OUT_FRAME);
    rest = rest.subarray(chunk.length);
    push(frameHeader(chunk.length, FRAME_CONTINUATION, rest.length ? 0 : FLAG_END_HEADERS, streamId));
    push(chunk);
  }
}

interface PendingBlock {
  streamId: number;
  flags: number;
  priority?: Buffer;
  fragments: Buffer[];
}

/**
 * Client→server byte stream filter. Frames other than HEADERS/CONTINUATION pass through
 * untouched; header blocks are collected until END_HEADERS, fixed, and re-framed (padding
 * dropped). A connection that does not speak HTTP/2 is passed through untouched so nghttp2
 * reports the error itself.
 */
export class AuthorityRewriter extends Transform {
  private buf: Buffer = Buffer.alloc(0);
  private prefaceSeen = false;
  private passthrough = false;
  private pending: PendingBlock | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.passthrough) return cb(null, chunk);
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    try {
      this.drainFrames();
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  private drainFrames(): void {
    if (!this.prefaceSeen) {
      if (this.buf.length < PREFACE.length) {
        if (!PREFACE.subarray(0, this.buf.length).equals(this.buf)) this.toPassthrough();
        return;
      }
      if (!this.buf.subarray(0, PREFACE.length).equals(PREFACE)) return this.toPassthrough();
      this.push(this.buf.subarray(0, PREFACE.length));
      this.buf = this.buf.subarray(PREFACE.length);
      this.prefaceSeen = true;
    }
    while (this.buf.length >= 9) {
      const len = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + len) return;
      const type = this.buf[3]!;
      const frame = this.buf.subarray(0, 9 + len);
      this.buf = this.buf.subarray(9 + len);
      if (type === FRAME_HEADERS || (type === FRAME_CONTINUATION && this.pending)) this.onHeaderFrame(frame);
      else this.push(frame);
    }
  }

  private toPassthrough(): void {
    this.passthrough = true;
    this.push(this.buf);
    this.buf = Buffer.alloc(0);
  }

  private onHeaderFrame(frame: Buffer): void {
    const type = frame[3]!;
    const flags = frame[4]!;
    const streamId = frame.readUInt32BE(5) & 0x7fffffff;
    let payload = frame.subarray(9);
    if (type === FRAME_HEADERS) {
      let priority: Buffer | undefined;
      if (flags & FLAG_PADDED) {
        const padLen = payload[0]!;
        payload = payload.subarray(1, payload.length - padLen);
      }
      if (flags & FLAG_PRIORITY) {
        priority = Buffer.from(payload.subarray(0, 5));
        payload = payload.subarray(5);
      }
      this.pending = { streamId, flags, priority, fragments: [] };
    }
    const p = this.pending!;
    p.fragments.push(Buffer.from(payload));
    if (!(flags & FLAG_END_HEADERS)) return;
    this.pending = undefined;
    const block = Buffer.concat(p.fragments);
    let fixed: Buffer;
    try {
      fixed = rewriteHeaderBlock(block);
    } catch {
      fixed = block; // malformed HPACK: let nghttp2 reject it with a proper GOAWAY
    }
    emitHeaderBlock(p.streamId, p.flags, p.priority, fixed, (b) => this.push(b));
  }
}

// Exported for tests.
export const _internal = { readInt, writeInt, frameHeader };
