import * as fs from 'node:fs';
import { CREATE_FLAGS, writeAll } from './fsops.js';

/** What to do with a regular file once its data is written (all fd-based). */
export interface FileMeta {
  /** Permission bits incl. setuid/setgid/sticky. */
  mode: number;
  /** Set ownership (null: the creator's ownership is already right). */
  owner: { uid: number; gid: number } | null;
  /** Whether open()'s mode (after umask and a possible chown) needs correcting. */
  chmod: boolean;
  mtime: number;
}

export interface SinkLimits {
  /** Bytes handed to write(2) but not yet written. */
  maxBytesInFlight: number;
  /** Files with data writes still in flight. */
  maxOpenFiles: number;
}

export const DEFAULT_LIMITS: SinkLimits = { maxBytesInFlight: 16 << 20, maxOpenFiles: 16 };

/**
 * Writes regular files. Metadata syscalls (open O_EXCL|O_NOFOLLOW, fchown, fchmod, futimes,
 * close) are synchronous: they are microseconds and a threadpool round trip each doubled the
 * unpack time on a 7 000-file layer. Data goes through async positional writes so large files
 * never block the event loop; a few files' writes overlap with parsing of the next entries,
 * bounded by SinkLimits. The file's metadata is applied after its last write. The first
 * background failure is re-thrown by check() / settle().
 */
export class FileSink {
  private readonly pending = new Set<Promise<void>>();
  private bytesInFlight = 0;
  private roomWaiters: Array<() => void> = [];
  private failure: { err: unknown } | null = null;

  constructor(private readonly limits: SinkLimits = DEFAULT_LIMITS) {}

  /** Throw the first background failure, if any. */
  check(): void {
    if (this.failure) throw this.failure.err;
  }

  /**
   * Create `path` (must not exist) and stream `next()` chunks into it. Returns once all data
   * has been handed over; writes and metadata may still be in flight.
   */
  async write(path: string, meta: FileMeta, next: () => Promise<Buffer | null>): Promise<void> {
    this.check();
    while (this.pending.size >= this.limits.maxOpenFiles) await Promise.race(this.pending);
    this.check();
    const fd = fs.openSync(path, CREATE_FLAGS, meta.mode & 0o777);
    let chain: Promise<void> | null = null;
    let pos = 0;
    try {
      for (;;) {
        const chunk = await next();
        if (chunk === null) break;
        chain = this.queueWrite(chain, fd, chunk, pos);
        pos += chunk.length;
        if (this.bytesInFlight > this.limits.maxBytesInFlight) await this.room();
        if (this.failure) break;
      }
    } catch (err) {
      // The stream failed mid-file: let queued writes end, then close; report the stream error.
      this.track((chain ?? Promise.resolve()).finally(() => fs.closeSync(fd)));
      throw err;
    }
    if (chain === null) {
      finalize(fd, meta);
      return;
    }
    this.track(
      chain.then(
        () => finalize(fd, meta),
        (err: unknown) => {
          fs.closeSync(fd);
          throw err;
        },
      ),
    );
  }

  /** Wait for every background write; throws the first failure. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    this.check();
  }

  /** Wait for every background write, ignoring failures (the error path). */
  async quiesce(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /**
   * Append one positional write to the file's chain. The accounting runs even when an
   * earlier write failed (the rejection skips the write but not the finally), and a failure
   * is recorded at once so the producer stops feeding this file.
   */
  private queueWrite(chain: Promise<void> | null, fd: number, chunk: Buffer, at: number): Promise<void> {
    const len = chunk.length;
    this.bytesInFlight += len;
    return (chain ?? Promise.resolve())
      .then(() =>
        writeAll(fd, chunk, at).catch((err: unknown) => {
          this.failure ??= { err };
          throw err;
        }),
      )
      .finally(() => {
        this.bytesInFlight -= len;
        this.wake();
      });
  }

  private track(p: Promise<void>): void {
    const tracked = p.then(
      () => undefined,
      (err: unknown) => {
        this.failure ??= { err };
        this.wake();
      },
    );
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  private room(): Promise<void> {
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private wake(): void {
    if (this.bytesInFlight > this.limits.maxBytesInFlight && !this.failure) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
  }
}

/** Owner, then mode (chown clears setuid/setgid), then times; always close. */
function finalize(fd: number, meta: FileMeta): void {
  try {
    if (meta.owner) fs.fchownSync(fd, meta.owner.uid, meta.owner.gid);
    if (meta.chmod) fs.fchmodSync(fd, meta.mode);
    fs.futimesSync(fd, meta.mtime, meta.mtime);
  } finally {
    fs.closeSync(fd);
  }
}
