/**
 * The per-connection zlib contexts for SPDY header blocks. SPDY compresses every header
 * block of a connection (per direction) as one continuous zlib stream primed with the SPDY/3
 * dictionary, each block ending at a sync flush. So each connection owns one deflate and one
 * inflate context, and each context handles one block at a time, in frame order: a block is
 * written, then flushed with Z_SYNC_FLUSH, and the flush callback marks the end of its output.
 * (Node's *Sync helpers start a fresh context per call and cannot do this.)
 */
import zlib from 'node:zlib';
import { SPDY3_HEADER_DICTIONARY } from './dictionary.js';
import { FrameFormatError } from './frames.js';

/** Runs one block through a zlib stream at a time, in call order. */
class SerialZlib {
  private tail: Promise<unknown> = Promise.resolve();
  private failed: Error | undefined;

  constructor(
    private readonly z: zlib.Inflate | zlib.Deflate,
    private readonly maxOutput: number,
    private readonly what: string,
  ) {
    z.on('error', (err) => {
      this.failed = err;
    });
  }

  process(block: Buffer): Promise<Buffer> {
    const run = (): Promise<Buffer> => this.once(block);
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => undefined);
    return p;
  }

  private once(block: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.failed) {
        reject(new FrameFormatError(`${this.what} failed earlier on this connection: ${this.failed.message}`));
        return;
      }
      const out: Buffer[] = [];
      let size = 0;
      let settled = false;
      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        this.z.off('data', onData);
        this.z.off('error', onError);
        if (err) reject(err);
        else resolve(Buffer.concat(out, size));
      };
      const onData = (b: Buffer): void => {
        size += b.length;
        if (size > this.maxOutput) {
          this.failed = new Error(`header block exceeds ${this.maxOutput} bytes after ${this.what}`);
          finish(new FrameFormatError(this.failed.message));
          return;
        }
        out.push(b);
      };
      const onError = (err: Error): void => finish(new FrameFormatError(`${this.what}: ${err.message}`));
      this.z.on('data', onData);
      this.z.on('error', onError);
      this.z.write(block);
      this.z.flush(zlib.constants.Z_SYNC_FLUSH, () => finish());
    });
  }

  close(): void {
    this.z.destroy();
  }
}

export class HeaderCodec {
  private readonly deflater: SerialZlib;
  private readonly inflater: SerialZlib;

  constructor(maxHeaderBlock = 1 << 20) {
    // Level 9 as Go's spdystream uses; blocks are tiny, speed does not matter.
    this.deflater = new SerialZlib(
      zlib.createDeflate({ dictionary: SPDY3_HEADER_DICTIONARY, level: 9 }),
      Number.MAX_SAFE_INTEGER,
      'header compression',
    );
    this.inflater = new SerialZlib(
      zlib.createInflate({ dictionary: SPDY3_HEADER_DICTIONARY }),
      maxHeaderBlock,
      'header decompression',
    );
  }

  compress(block: Buffer): Promise<Buffer> {
    return this.deflater.process(block);
  }

  decompress(block: Buffer): Promise<Buffer> {
    return this.inflater.process(block);
  }

  close(): void {
    this.deflater.close();
    this.inflater.close();
  }
}
