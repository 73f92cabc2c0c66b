import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  FrameDecoder,
  FrameType,
  FramingError,
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
} from '../../../src/runtimes/shim/ttrpc/frame.js';

const body = (n: number, seed = 7) => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed) & 0xff));

describe('ttrpc framing', () => {
  it('encodes the 10-byte header: length, stream id, type, flags (big-endian)', () => {
    const f = encodeFrame(0x01020305, FrameType.RESPONSE, Buffer.from('abc'), 0x40);
    expect([...f.subarray(0, HEADER_LENGTH)]).toEqual([0, 0, 0, 3, 1, 2, 3, 5, 2, 0x40]);
    expect(f.subarray(HEADER_LENGTH).toString()).toBe('abc');
  });

  it('decodes a frame delivered one byte at a time', () => {
    const wire = encodeFrame(9, FrameType.REQUEST, body(300));
    const d = new FrameDecoder();
    const got = [];
    for (let i = 0; i < wire.length; i++) got.push(...d.push(wire.subarray(i, i + 1)));
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ streamId: 9, type: FrameType.REQUEST, flags: 0 });
    expect(got[0]!.body.equals(body(300))).toBe(true);
    expect(d.pending).toBe(0);
  });

  it('decodes several frames merged into one chunk, plus a trailing partial one', () => {
    const a = encodeFrame(1, FrameType.RESPONSE, body(5));
    const b = encodeFrame(3, FrameType.RESPONSE, Buffer.alloc(0));
    const c = encodeFrame(5, FrameType.RESPONSE, body(40, 3));
    const d = new FrameDecoder();
    const first = d.push(Buffer.concat([a, b, c.subarray(0, 12)]));
    expect(first.map((f) => f.streamId)).toEqual([1, 3]);
    expect(first[1]!.body.length).toBe(0);
    expect(d.pending).toBe(12);
    const rest = d.push(c.subarray(12));
    expect(rest.map((f) => f.streamId)).toEqual([5]);
    expect(rest[0]!.body.equals(body(40, 3))).toBe(true);
  });

  it('splits inside the header', () => {
    const wire = Buffer.concat([encodeFrame(1, 2, body(3)), encodeFrame(7, 2, body(4))]);
    const d = new FrameDecoder();
    expect(d.push(wire.subarray(0, 17))).toHaveLength(1); // 13 bytes of frame 1, 4 of frame 2's header
    expect(d.push(wire.subarray(17, 19))).toHaveLength(0);
    const last = d.push(wire.subarray(19));
    expect(last).toHaveLength(1);
    expect(last[0]!.streamId).toBe(7);
  });

  it('round-trips a message at the 4 MiB limit in 64 KiB chunks', () => {
    const big = body(MAX_MESSAGE_LENGTH, 13);
    const wire = encodeFrame(11, FrameType.RESPONSE, big);
    const d = new FrameDecoder();
    const got = [];
    for (let off = 0; off < wire.length; off += 65536) got.push(...d.push(wire.subarray(off, off + 65536)));
    expect(got).toHaveLength(1);
    expect(got[0]!.body.length).toBe(MAX_MESSAGE_LENGTH);
    expect(got[0]!.body.equals(big)).toBe(true);
  });

  it('refuses to encode a body over the limit', () => {
    expect(() => encodeFrame(1, FrameType.REQUEST, Buffer.alloc(MAX_MESSAGE_LENGTH + 1))).toThrow(FramingError);
  });

  it('rejects a header announcing more than the limit, before the body arrives', () => {
    const header = Buffer.alloc(HEADER_LENGTH);
    header.writeUInt32BE(MAX_MESSAGE_LENGTH + 1, 0);
    header.writeUInt32BE(1, 4);
    header[8] = 2;
    expect(() => new FrameDecoder().push(header)).toThrow(/over the 4194304-byte limit/);
  });

  it('honours a smaller configured limit', () => {
    const d = new FrameDecoder(16);
    expect(() => d.push(encodeFrame(1, 2, body(17)))).toThrow(FramingError);
    expect(new FrameDecoder(16).push(encodeFrame(1, 2, body(16)))).toHaveLength(1);
  });

  it('rejects stream ids that do not fit in 32 bits', () => {
    expect(() => encodeFrame(2 ** 32, FrameType.REQUEST, Buffer.alloc(0))).toThrow(FramingError);
    expect(() => encodeFrame(-1, FrameType.REQUEST, Buffer.alloc(0))).toThrow(FramingError);
  });
});
