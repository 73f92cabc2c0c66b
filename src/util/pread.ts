/**
 * Re-reading small kernel pseudo-files (cgroupfs, /proc) through a kept descriptor: one
 * positioned read from offset 0 into a buffer that grows when a file outgrows it.
 */
import { readSync } from 'node:fs';

/**
 * Below half a page. seq_file returns less than asked before EOF only when its page-sized
 * buffer filled up (a record would not fit), so a first read this short is the whole file and
 * the read that would return 0 can be skipped: one syscall saved for nearly every file.
 */
const SHORT_READ_IS_EOF = 2048;

export class PreadBuffer {
  private b: Buffer;

  constructor(initialBytes = 16 * 1024) {
    this.b = Buffer.allocUnsafe(initialBytes);
  }

  /** The buffer the last read filled (its first `n` bytes, n as read() returned). */
  get bytes(): Buffer {
    return this.b;
  }

  /** Read the whole file behind `fd` from offset 0; its length in bytes. Throws what readSync throws. */
  read(fd: number): number {
    let len = 0;
    for (;;) {
      if (len === this.b.length) {
        const bigger = Buffer.allocUnsafe(this.b.length * 2);
        this.b.copy(bigger, 0, 0, len);
        this.b = bigger;
      }
      const n = readSync(fd, this.b, len, this.b.length - len, len);
      len += n;
      if (n === 0 || (len === n && n < SHORT_READ_IS_EOF)) return len;
    }
  }

  text(n: number): string {
    return this.b.toString('latin1', 0, n);
  }
}
