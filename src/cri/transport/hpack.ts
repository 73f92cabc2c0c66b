/**
 * The small part of HPACK (RFC 7541) that berth needs to fix up client header blocks:
 * integer and string primitives, Huffman decoding, and a walk over a header block's field
 * representations. No dynamic-table bookkeeping is needed because rewrites keep every
 * decoded length unchanged (see authority-filter.ts).
 */
import { HUFFMAN_CODES } from './huffman-table.js';

interface HuffNode {
  sym?: number;
  zero?: HuffNode;
  one?: HuffNode;
}

let huffRoot: HuffNode | undefined;
function huffTree(): HuffNode {
  if (huffRoot) return huffRoot;
  const root: HuffNode = {};
  for (let sym = 0; sym < 256; sym++) {
    const code = HUFFMAN_CODES[sym * 2]!;
    const len = HUFFMAN_CODES[sym * 2 + 1]!;
    let node = root;
    for (let bit = len - 1; bit >= 0; bit--) {
      const key = (code >>> bit) & 1 ? 'one' : 'zero';
      node = node[key] ??= {};
    }
    node.sym = sym;
  }
  huffRoot = root;
  return root;
}

/** Decode a Huffman-coded string; throws on invalid padding or codes. */
export function huffmanDecode(buf: Uint8Array): Buffer {
  const root = huffTree();
  const out: number[] = [];
  let node = root;
  let pendingBits = 0;
  let pendingAllOnes = true;
  for (const byte of buf) {
    for (let bit = 7; bit >= 0; bit--) {
      const b = (byte >> bit) & 1;
      const next = b ? node.one : node.zero;
      if (!next) throw new Error('invalid HPACK Huffman code');
      pendingBits++;
      pendingAllOnes &&= b === 1;
      if (next.sym !== undefined) {
        out.push(next.sym);
        node = root;
        pendingBits = 0;
        pendingAllOnes = true;
      } else {
        node = next;
      }
    }
  }
  if (pendingBits > 7 || !pendingAllOnes) throw new Error('invalid HPACK Huffman padding');
  return Buffer.from(out);
}

/** Read an HPACK integer with an N-bit prefix at `pos`. */
export function readInt(buf: Uint8Array, pos: number, prefixBits: number): { value: number; next: number } {
  const max = (1 << prefixBits) - 1;
  if (pos >= buf.length) throw new Error('truncated HPACK integer');
  let value = buf[pos]! & max;
  let next = pos + 1;
  if (value < max) return { value, next };
  let shift = 0;
  for (;;) {
    if (next >= buf.length) throw new Error('truncated HPACK integer');
    const b = buf[next++]!;
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) break;
    if (shift > 28) throw new Error('HPACK integer too large');
  }
  return { value, next };
}

/** Encode an HPACK integer; `flags` are the high bits of the first octet. */
export function writeInt(value: number, prefixBits: number, flags: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([flags | value]);
  const bytes = [flags | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

export interface HpackString {
  start: number; // offset of the length octet
  end: number; // offset after the string bytes
  value: Buffer; // decoded
}

export function readString(buf: Uint8Array, pos: number): HpackString {
  const huffman = (buf[pos]! & 0x80) !== 0;
  const { value: len, next } = readInt(buf, pos, 7);
  if (next + len > buf.length) throw new Error('truncated HPACK string');
  const raw = buf.subarray(next, next + len);
  return { start: pos, end: next + len, value: huffman ? huffmanDecode(raw) : Buffer.from(raw) };
}

/** A plain (non-Huffman) HPACK string literal. */
export function writeString(value: Buffer): Buffer {
  return Buffer.concat([writeInt(value.length, 7, 0), value]);
}

/** One literal field of a header block whose name is given by static index or literal. */
export interface LiteralField {
  nameIndex: number; // 0 when the name is a literal
  name?: Buffer; // literal name
  value: HpackString;
}

/**
 * Walk the representations of a header block, calling `onLiteral` for each literal field.
 * Indexed fields and table size updates are skipped (their bytes are left untouched).
 */
export function walkHeaderBlock(block: Uint8Array, onLiteral: (f: LiteralField) => void): void {
  let pos = 0;
  while (pos < block.length) {
    const b = block[pos]!;
    if (b & 0x80) {
      pos = readInt(block, pos, 7).next; // indexed field
    } else if ((b & 0xe0) === 0x20) {
      pos = readInt(block, pos, 5).next; // dynamic table size update
    } else {
      const prefix = (b & 0xc0) === 0x40 ? 6 : 4; // incremental indexing : without / never indexed
      const idx = readInt(block, pos, prefix);
      pos = idx.next;
      let name: Buffer | undefined;
      if (idx.value === 0) {
        const n = readString(block, pos);
        name = n.value;
        pos = n.end;
      }
      const value = readString(block, pos);
      pos = value.end;
      onLiteral({ nameIndex: idx.value, name, value });
    }
  }
}
