import { describe, expect, it } from 'vitest';
import { AuthorityRewriter, rewriteHeaderBlock, replacementAuthority } from '../../../src/cri/transport/authority-filter.js';
import { huffmanDecode, readString, walkHeaderBlock, writeInt } from '../../../src/cri/transport/hpack.js';
import { HUFFMAN_CODES } from '../../../src/cri/transport/huffman-table.js';

/** Test-side Huffman encoder (RFC 7541 §5.2): codes MSB first, padded with 1 bits. */
function huffmanEncode(s: string): Buffer {
  let acc = 0n;
  let bits = 0n;
  for (const ch of Buffer.from(s, 'latin1')) {
    acc = (acc << BigInt(HUFFMAN_CODES[ch * 2 + 1]!)) | BigInt(HUFFMAN_CODES[ch * 2]!);
    bits += BigInt(HUFFMAN_CODES[ch * 2 + 1]!);
  }
  const pad = (8n - (bits % 8n)) % 8n;
  acc = (acc << pad) | ((1n << pad) - 1n);
  const n = Number((bits + pad) / 8n);
  const out = Buffer.alloc(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(acc & 0xffn);
    acc >>= 8n;
  }
  return out;
}
const str = (s: string, huffman = false) => {
  const raw = huffman ? huffmanEncode(s) : Buffer.from(s, 'latin1');
  return Buffer.concat([writeInt(raw.length, 7, huffman ? 0x80 : 0), raw]);
};
/** Decode every literal of a block into [name-or-index, value] pairs. */
const literals = (block: Buffer) => {
  const out: [string | number, string][] = [];
  walkHeaderBlock(block, (f) => out.push([f.name ? f.name.toString() : f.nameIndex, f.value.value.toString('latin1')]));
  return out;
};

const SOCK = '/run/berth/berth.sock';

describe('HPACK primitives', () => {
  it('round-trips Huffman strings through our decoder', () => {
    for (const s of [SOCK, 'localhost', 'application/grpc', 'a', '']) {
      expect(huffmanDecode(huffmanEncode(s)).toString('latin1')).toBe(s);
    }
  });
  it('rejects bad Huffman padding', () => {
    expect(() => huffmanDecode(Buffer.from([0x00]))).toThrow(/padding/); // '0' code then 0-bits padding
  });
  it('reads multi-byte integers', () => {
    const b = writeInt(1337, 5, 0);
    expect([...b]).toEqual([31, 154, 10]); // the RFC 7541 C.1.2 example
    expect(readString(Buffer.concat([writeInt(3, 7, 0), Buffer.from('abc')]), 0).value.toString()).toBe('abc');
  });
});

describe('rewriteHeaderBlock', () => {
  it('rewrites a plain literal :authority (indexed name) keeping its length', () => {
    const block = Buffer.concat([Buffer.from([0x83]), Buffer.from([0x41]), str(SOCK), Buffer.from([0x86])]);
    const out = rewriteHeaderBlock(block);
    expect(literals(out)).toEqual([[1, replacementAuthority(SOCK.length).toString()]]);
    expect(replacementAuthority(SOCK.length).length).toBe(SOCK.length);
    expect(out[0]).toBe(0x83);
    expect(out[out.length - 1]).toBe(0x86);
  });
  it('rewrites a Huffman-coded value, as Go clients (crictl) send it', () => {
    const block = Buffer.concat([Buffer.from([0x41]), str(SOCK, true)]);
    expect(literals(rewriteHeaderBlock(block))).toEqual([[1, 'localhostxxxxxxxxxxxx']]);
  });
  it('rewrites never-indexed literals with a literal name', () => {
    const block = Buffer.concat([Buffer.from([0x10]), str(':authority'), str('/x.sock')]);
    expect(literals(rewriteHeaderBlock(block))).toEqual([[':authority', 'localho']]);
  });
  it('leaves valid authorities and other headers untouched (same buffer)', () => {
    const block = Buffer.concat([Buffer.from([0x41]), str('localhost:1234', true), Buffer.from([0x40]), str('x-path'), str('/a/b')]);
    expect(rewriteHeaderBlock(block)).toBe(block);
  });
});

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
}
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

async function filter(chunks: Buffer[]): Promise<Buffer> {
  const f = new AuthorityRewriter();
  const out: Buffer[] = [];
  f.on('data', (d: Buffer) => out.push(d));
  const done = new Promise((r) => f.on('end', r));
  for (const c of chunks) f.write(c);
  f.end();
  await done;
  return Buffer.concat(out);
}

describe('AuthorityRewriter (HTTP/2 frames)', () => {
  const block = Buffer.concat([Buffer.from([0x83, 0x41]), str(SOCK, true), Buffer.from([0x40]), str('te'), str('trailers')]);
  const settings = frame(0x4, 0, 0, Buffer.alloc(0));
  const data = frame(0x0, 0x1, 1, Buffer.from('hello'));

  it('rewrites a header block split over HEADERS (padded, with priority) + CONTINUATION', async () => {
    const priority = Buffer.from([0, 0, 0, 0, 15]);
    const first = Buffer.concat([Buffer.from([3]), priority, block.subarray(0, 5), Buffer.alloc(3)]);
    const input = Buffer.concat([
      PREFACE,
      settings,
      frame(0x1, 0x8 | 0x20, 1, first),
      frame(0x9, 0x4, 1, block.subarray(5)),
      data,
    ]);
    // byte-by-byte delivery must give the same result as one chunk
    const whole = await filter([input]);
    const bytewise = await filter([...input].map((b) => Buffer.from([b])));
    expect(bytewise.equals(whole)).toBe(true);

    expect(whole.subarray(0, PREFACE.length).equals(PREFACE)).toBe(true);
    let pos = PREFACE.length;
    const frames: { type: number; flags: number; payload: Buffer }[] = [];
    while (pos < whole.length) {
      const len = whole.readUIntBE(pos, 3);
      frames.push({ type: whole[pos + 3]!, flags: whole[pos + 4]!, payload: whole.subarray(pos + 9, pos + 9 + len) });
      pos += 9 + len;
    }
    expect(frames.map((f) => f.type)).toEqual([0x4, 0x1, 0x0]);
    const headers = frames[1]!;
    expect(headers.flags & 0x4).toBe(0x4); // END_HEADERS
    expect(headers.flags & 0x8).toBe(0); // padding dropped
    expect(headers.flags & 0x20).toBe(0x20); // priority kept
    expect(headers.payload.subarray(0, 5).equals(priority)).toBe(true);
    expect(literals(headers.payload.subarray(5))).toEqual([
      [1, 'localhostxxxxxxxxxxxx'],
      ['te', 'trailers'],
    ]);
    expect(frames[2]!.payload.toString()).toBe('hello');
  });

  it('passes non-HTTP/2 bytes through untouched', async () => {
    const junk = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await filter([junk])).equals(junk)).toBe(true);
  });
});
