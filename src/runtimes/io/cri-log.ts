/**
 * Container logs in the CRI format the kubelet reads:
 *   <RFC3339Nano timestamp> <stdout|stderr> <P|F> <content>\n
 * Lines longer than MAX_LINE are split into P (partial) records ending in one F record.
 * stdout and stderr of a container go to one file; every record is one write, so
 * records never interleave. `reopen()` follows a rotation (the kubelet renamed the file).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { rfc3339Nano } from './clock.js';

export const MAX_LINE = 16 * 1024;

export type StreamName = 'stdout' | 'stderr';

/** Split a byte stream into CRI records; pure, so it is unit-tested on its own. */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingLen = 0;

  constructor(private readonly emit: (content: Buffer, partial: boolean) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      let piece = chunk.subarray(start, end);
      // Fill the pending line up to MAX_LINE; overflow becomes partial records.
      while (this.pendingLen + piece.length > MAX_LINE) {
        const take = MAX_LINE - this.pendingLen;
        this.pending.push(piece.subarray(0, take));
        this.flush(true);
        piece = piece.subarray(take);
      }
      if (piece.length) {
        this.pending.push(piece);
        this.pendingLen += piece.length;
      }
      if (nl === -1) return;
      this.flush(false);
      start = nl + 1;
      if (start >= chunk.length) return;
    }
  }

  /** End of stream: an unterminated last line is written as a full record. */
  end(): void {
    if (this.pendingLen) this.flush(false);
  }

  private flush(partial: boolean): void {
    const content = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingLen = 0;
    this.emit(content, partial);
  }
}

export function formatRecord(stream: StreamName, partial: boolean, content: Buffer, ts = rfc3339Nano()): Buffer {
  return Buffer.concat([Buffer.from(`${ts} ${stream} ${partial ? 'P' : 'F'} `), content, Buffer.from('\n')]);
}

export class CriLogWriter {
  private out: WriteStream | undefined;
  private readonly sources = new Set<Readable>();
  private closed = false;
  private queued: Buffer[] = []; // records that arrive while the file is being reopened

  private constructor(readonly path: string) {}

  static async open(path: string): Promise<CriLogWriter> {
    const w = new CriLogWriter(path);
    await w.openFile();
    return w;
  }

  private async openFile(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const out = createWriteStream(this.path, { flags: 'a', mode: 0o640 });
    await new Promise<void>((resolve, reject) => {
      out.once('open', () => resolve());
      out.once('error', reject);
    });
    out.on('error', () => {
      /* a vanished log dir must not crash the daemon; records are dropped until reopen */
    });
    this.out = out;
    for (const rec of this.queued.splice(0)) out.write(rec);
  }

  /** Copy a container stream into the log until it ends. Resolves at its end. */
  attach(src: Readable, stream: StreamName): Promise<void> {
    this.sources.add(src);
    const splitter = new LineSplitter((content, partial) => this.write(formatRecord(stream, partial, content)));
    return new Promise((resolve) => {
      src.on('data', (chunk: Buffer) => splitter.push(chunk));
      const done = () => {
        if (!this.sources.delete(src)) return;
        splitter.end();
        resolve();
      };
      src.once('end', done);
      src.once('close', done);
      src.once('error', done);
    });
  }

  private write(rec: Buffer): void {
    if (this.closed) return;
    if (!this.out) this.queued.push(rec);
    else if (!this.out.destroyed) this.out.write(rec);
  }

  /** Close and reopen the file at the same path (after log rotation). */
  async reopen(): Promise<void> {
    const old = this.out;
    this.out = undefined;
    if (old) await new Promise<void>((r) => old.end(r));
    await this.openFile();
  }

  async close(): Promise<void> {
    this.closed = true;
    const old = this.out;
    this.out = undefined;
    if (old) await new Promise<void>((r) => old.end(r));
  }
}
