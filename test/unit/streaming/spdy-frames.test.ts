import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  parseGoAway, parsePing, parseRstStream, parseSettings, parseStreamHeaders, parseSynStream, parseWindowUpdate,
  pingPayload, settingsPayload, streamHeadersPayload, synStreamPayload, twoWordPayload,
} from '../../../src/streaming/spdy/control.js';
import { SPDY3_HEADER_DICTIONARY } from '../../../src/streaming/spdy/dictionary.js';
import {
  encodeControlFrame, encodeDataFrame, FLAG_FIN, FrameFormatError, FrameSplitter, FrameType, type RawFrame,
} from '../../../src/streaming/spdy/frames.js';
import { decodeHeaderBlock, encodeHeaderBlock, headersFrom, headerValue } from '../../../src/streaming/spdy/header-block.js';
import { HeaderCodec } from '../../../src/streaming/spdy/header-zlib.js';

/**
 * What crictl 1.26 (Go spdystream) sent after the upgrade for `crictl exec -i ctr1 cat` with
 * "hi\n" on stdin, captured on this machine: four SYN_STREAMs (error, stdin, stdout, stderr)
 * whose header blocks share one zlib stream, stdin data, stdin FIN, then two RST_STREAMs.
 */
const CRICTL_CAPTURE = Buffer.from(
  '80030001000000290000000100000000000078f9e3c6a7c26260606004a7b392a2d4c45c6851c29a0a0a6800000000ff' +
    'ff800300010000001700000003000000000000c22e555c92929907000000ffff80030001000000190000000500000000' +
    '0000c22ac5565c92925f5a02000000ffff800300010000001500000007000000000000c229975a5404000000ffff0000' +
    '00030000000368690a000000030100000080030003000000080000000100000005800300030000000800000005000000' +
    '05',
  'hex',
);

describe('SPDY/3 header dictionary', () => {
  it('is the 1423 bytes of the spec, whose zlib dictionary id is 0xe3c6a7c2', () => {
    expect(SPDY3_HEADER_DICTIONARY.length).toBe(1423);
    // zlib writes the adler-32 of the preset dictionary (DICTID) after the 2-byte header
    const z = zlib.deflateSync(Buffer.from('x'), { dictionary: SPDY3_HEADER_DICTIONARY });
    expect(z.readUInt32BE(2).toString(16)).toBe('e3c6a7c2');
  });
});

describe('frame splitting', () => {
  it('parses the frames crictl sent, whatever the chunking, and decompresses their headers', async () => {
    for (const chunk of [1, 7, 64, CRICTL_CAPTURE.length]) {
      const splitter = new FrameSplitter();
      const frames: RawFrame[] = [];
      for (let i = 0; i < CRICTL_CAPTURE.length; i += chunk) frames.push(...splitter.push(CRICTL_CAPTURE.subarray(i, i + chunk)));
      expect(frames.map((f) => (f.control ? `c${f.type}` : `d${f.streamId}`))).toEqual(['c1', 'c1', 'c1', 'c1', 'd3', 'd3', 'c3', 'c3']);
      const codec = new HeaderCodec();
      const types: string[] = [];
      for (const f of frames.slice(0, 4)) {
        if (!f.control) throw new Error('expected a control frame');
        const syn = parseSynStream(f.payload);
        types.push(`${syn.streamId}:${headerValue(decodeHeaderBlock(await codec.decompress(syn.compressedHeaders)), 'streamtype')}`);
      }
      codec.close();
      expect(types).toEqual(['1:error', '3:stdin', '5:stdout', '7:stderr']);
      const [data, fin, rst] = [frames[4]!, frames[5]!, frames[6]!];
      expect(!data.control && data.payload.toString()).toBe('hi\n');
      expect(!fin.control && fin.flags).toBe(FLAG_FIN);
      expect(rst.control && parseRstStream(rst.payload)).toEqual({ streamId: 1, status: 5 });
    }
  });

  it('round-trips control and data frames', () => {
    const frames = [
      encodeControlFrame(FrameType.Ping, 0, pingPayload(7)),
      encodeDataFrame(5, FLAG_FIN, Buffer.from('abc')),
      encodeControlFrame(FrameType.WindowUpdate, 0, twoWordPayload(3, 4096)),
    ];
    const out = new FrameSplitter().push(Buffer.concat(frames));
    expect(out).toHaveLength(3);
    const [ping, data, wu] = out;
    expect(ping!.control && ping!.version === 3 && parsePing(ping!.payload)).toBe(7);
    expect(data!.control === false && [data!.streamId, data!.flags, data!.payload.toString()]).toEqual([5, FLAG_FIN, 'abc']);
    expect(wu!.control && parseWindowUpdate(wu!.payload)).toEqual({ streamId: 3, delta: 4096 });
  });

  it('rejects a frame longer than the limit before buffering it', () => {
    const splitter = new FrameSplitter(1024);
    expect(() => splitter.push(encodeDataFrame(1, 0, Buffer.alloc(2048)).subarray(0, 8))).toThrow(FrameFormatError);
  });
});

describe('control payloads', () => {
  it('round-trips SYN_STREAM, SYN_REPLY, SETTINGS and GOAWAY', () => {
    expect(parseSynStream(synStreamPayload(9, 1, 3, Buffer.from('hdr')))).toEqual({
      streamId: 9,
      associatedTo: 1,
      priority: 3,
      compressedHeaders: Buffer.from('hdr'),
    });
    expect(parseStreamHeaders(streamHeadersPayload(4, Buffer.from('h')), 'SYN_REPLY')).toEqual({ streamId: 4, compressedHeaders: Buffer.from('h') });
    expect(parseSettings(settingsPayload([{ id: 7, flags: 1, value: 1 << 20 }]))).toEqual([{ id: 7, flags: 1, value: 1 << 20 }]);
    expect(parseGoAway(twoWordPayload(11, 2))).toEqual({ lastGoodStreamId: 11, status: 2 });
  });

  it('refuses truncated payloads', () => {
    expect(() => parseRstStream(Buffer.alloc(4))).toThrow(/RST_STREAM frame payload is 4 bytes/);
    expect(() => parseSettings(Buffer.from([0, 0, 0, 5]))).toThrow(/claims 5 entries/);
  });
});

describe('header blocks', () => {
  it('round-trips names (lower-cased) and NUL-joined values', () => {
    const block = encodeHeaderBlock(headersFrom({ StreamType: 'data', port: ['80', '81'] }));
    const h = decodeHeaderBlock(block);
    expect([...h.entries()]).toEqual([
      ['streamtype', ['data']],
      ['port', ['80', '81']],
    ]);
  });

  it('refuses truncated or trailing bytes', () => {
    const block = encodeHeaderBlock(headersFrom({ a: 'b' }));
    expect(() => decodeHeaderBlock(block.subarray(0, block.length - 1))).toThrow(/truncated/);
    expect(() => decodeHeaderBlock(Buffer.concat([block, Buffer.from([0])]))).toThrow(/trailing/);
  });

  it('compresses blocks as one zlib stream that a fresh inflater follows in order', async () => {
    const a = new HeaderCodec();
    const b = new HeaderCodec();
    const blocks = ['error', 'stdin', 'stdout', 'error'].map((t) => encodeHeaderBlock(headersFrom({ streamtype: t })));
    const compressed = await Promise.all(blocks.map((x) => a.compress(x)));
    expect(compressed[3]!.length).toBeLessThan(compressed[0]!.length); // the context remembers
    for (let i = 0; i < blocks.length; i++) expect(await b.decompress(compressed[i]!)).toEqual(blocks[i]);
    a.close();
    b.close();
  });

  it('fails a header block that inflates beyond the limit', async () => {
    const big = encodeHeaderBlock(headersFrom({ x: 'y'.repeat(5000) }));
    const c = await new HeaderCodec().compress(big);
    await expect(new HeaderCodec(1024).decompress(c)).rejects.toThrow(/exceeds 1024 bytes/);
  });
});
