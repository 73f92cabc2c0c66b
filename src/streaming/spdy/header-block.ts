/**
 * SPDY/3 name/value header blocks, before compression (pure).
 *
 * Layout: u32 count, then per header u32 name length, name (lower case), u32 value length,
 * value; several values of one name are joined with NUL bytes. All integers big-endian.
 */
import { FrameFormatError } from './frames.js';

/** Header names (lower case) to their values; most Kubernetes headers carry one value. */
export type SpdyHeaders = Map<string, string[]>;

export const MAX_HEADER_COUNT = 1000;
export const MAX_HEADER_FIELD = 1 << 20;

export function headersFrom(record: Record<string, string | string[]>): SpdyHeaders {
  const out: SpdyHeaders = new Map();
  for (const [name, value] of Object.entries(record)) out.set(name.toLowerCase(), Array.isArray(value) ? value : [value]);
  return out;
}

/** The first value of a header, or undefined. Names are compared in lower case. */
export function headerValue(headers: SpdyHeaders, name: string): string | undefined {
  return headers.get(name.toLowerCase())?.[0];
}

export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32BE(headers.size);
  parts.push(count);
  for (const [name, values] of headers) {
    for (const field of [name.toLowerCase(), values.join('\0')]) {
      const bytes = Buffer.from(field, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(bytes.length);
      parts.push(len, bytes);
    }
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  let off = 0;
  const u32 = (what: string): number => {
    if (off + 4 > block.length) throw new FrameFormatError(`header block truncated while reading ${what}`);
    const v = block.readUInt32BE(off);
    off += 4;
    return v;
  };
  const field = (what: string): string => {
    const len = u32(`the length of ${what}`);
    if (len > MAX_HEADER_FIELD) throw new FrameFormatError(`header ${what} of ${len} bytes exceeds ${MAX_HEADER_FIELD}`);
    if (off + len > block.length) throw new FrameFormatError(`header block truncated inside ${what}`);
    const s = block.toString('utf8', off, off + len);
    off += len;
    return s;
  };
  const count = u32('the header count');
  if (count > MAX_HEADER_COUNT) throw new FrameFormatError(`header block claims ${count} headers (limit ${MAX_HEADER_COUNT})`);
  const headers: SpdyHeaders = new Map();
  for (let i = 0; i < count; i++) {
    const name = field('a name').toLowerCase();
    const values = field(`the value of "${name}"`).split('\0');
    const existing = headers.get(name);
    headers.set(name, existing ? existing.concat(values) : values);
  }
  if (off !== block.length) throw new FrameFormatError(`header block has ${block.length - off} trailing bytes`);
  return headers;
}
