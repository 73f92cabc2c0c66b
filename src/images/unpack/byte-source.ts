import { TarFormatError } from './tar-header.js';

/**
 * Pull-based reader over an async iterator of Buffers (the uncompressed layer stream).
 * Hands out zero-copy slices where it can; copies only when a request spans chunks.
 */
export class ByteSource {
  private chunks: Buffer[] = [];
  private head = 0; // index of the first live chunk
  private offset = 0; // read offset inside chunks[head]
  private buffered = 0;
  private ended = false;

  constructor(private readonly it: AsyncIterator<Buffer>) {}

  /** Pull one more chunk; false at end of stream. */
  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    const chunk = r.value;
    if (chunk.length === 0) return true;
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    return true;
  }

  /**
   * Exactly `n` bytes, or null when the stream ends before the first byte. A stream that
   * ends part-way through is a truncated archive.
   */
  async readExact(n: number): Promise<Buffer | null> {
    while (this.buffered < n) {
      if (!(await this.fill())) {
        if (this.buffered === 0) return null;
        throw new TarFormatError(`unexpected end of stream (needed ${n} bytes, had ${this.buffered})`);
      }
    }
    const first = this.chunks[this.head]!;
    if (first.length - this.offset >= n) {
      const out = first.subarray(this.offset, this.offset + n);
      this.advance(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    while (copied < n) {
      const c = this.chunks[this.head]!;
      const take = Math.min(n - copied, c.length - this.offset);
      c.copy(out, copied, this.offset, this.offset + take);
      copied += take;
      this.advance(take);
    }
    return out;
  }

  /** Up to `max` (> 0) bytes without copying; throws at end of stream. */
  async readSome(max: number): Promise<Buffer> {
    while (this.buffered === 0) {
      if (!(await this.fill())) throw new TarFormatError('unexpected end of stream inside an entry');
    }
    const c = this.chunks[this.head]!;
    const take = Math.min(max, c.length - this.offset);
    const out = c.subarray(this.offset, this.offset + take);
    this.advance(take);
    return out;
  }

  /** Discard exactly `n` bytes; throws at end of stream. */
  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.fill())) {
        throw new TarFormatError('unexpected end of stream while skipping entry data');
      }
      const c = this.chunks[this.head]!;
      const take = Math.min(left, c.length - this.offset);
      this.advance(take);
      left -= take;
    }
  }

  /** Consume everything that is left (so it is hashed); returns the byte count. */
  async drain(): Promise<number> {
    let n = this.buffered;
    this.chunks = [];
    this.head = 0;
    this.offset = 0;
    this.buffered = 0;
    for (;;) {
      const r = this.ended ? { done: true as const } : await this.it.next();
      if (r.done) {
        this.ended = true;
        return n;
      }
      n += r.value.length;
    }
  }

  private advance(n: number): void {
    this.offset += n;
    this.buffered -= n;
    const c = this.chunks[this.head]!;
    if (this.offset === c.length) {
      this.chunks[this.head] = undefined as unknown as Buffer;
      this.head++;
      this.offset = 0;
      if (this.head === this.chunks.length) {
        this.chunks = [];
        this.head = 0;
      }
    }
  }
}
