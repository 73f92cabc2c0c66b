/**
 * Terminal resize events: clients send a JSON object {"Width":W,"Height":H} per event (Go's
 * json.Encoder, so usually newline-separated, but any concatenation of objects is accepted).
 */
import type { Readable } from 'node:stream';
import type { TerminalSize } from './runtime.js';

/** Splits a byte stream into top-level JSON objects (pure, incremental). */
export class JsonObjectSplitter {
  private buf = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;
  private scanned = 0;

  /** Feed text; returns the complete objects' text. Caps a runaway object at 64 KiB. */
  push(text: string): string[] {
    this.buf += text;
    const out: string[] = [];
    for (let i = this.scanned; i < this.buf.length; i++) {
      const c = this.buf[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (c === '"' && this.depth > 0) this.inString = true;
      else if (c === '{') {
        if (this.depth === 0) this.start = i;
        this.depth++;
      } else if (c === '}' && this.depth > 0) {
        this.depth--;
        if (this.depth === 0) out.push(this.buf.slice(this.start, i + 1));
      }
    }
    if (this.depth === 0) {
      this.buf = '';
      this.scanned = 0;
    } else {
      this.buf = this.buf.slice(this.start);
      this.start = 0;
      this.scanned = this.buf.length;
      if (this.buf.length > 64 * 1024) {
        this.buf = '';
        this.scanned = 0;
        this.depth = 0;
        this.inString = false;
      }
    }
    return out;
  }
}

/** A resize event from one JSON object, or undefined if it is not one. */
export function parseTerminalSize(json: string): TerminalSize | undefined {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const width = o.Width ?? o.width;
  const height = o.Height ?? o.height;
  if (typeof width !== 'number' || typeof height !== 'number') return undefined;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0 || width > 0xffff || height > 0xffff) return undefined;
  return { width, height };
}

/** A push-fed async iterable of sizes; ends when end() is called. Holds at most 32 unread
 * sizes, dropping the oldest (a terminal only cares about the last one). */
export class ResizeQueue implements AsyncIterable<TerminalSize> {
  private readonly queue: TerminalSize[] = [];
  private ended = false;
  private wake: (() => void) | undefined;
  private readonly splitter = new JsonObjectSplitter();

  push(size: TerminalSize): void {
    if (this.ended) return;
    this.queue.push(size);
    if (this.queue.length > 32) this.queue.shift();
    this.wake?.();
  }

  /** Feed raw bytes from a resize stream / channel. */
  pushBytes(data: Buffer): void {
    for (const obj of this.splitter.push(data.toString('utf8'))) {
      const size = parseTerminalSize(obj);
      if (size) this.push(size);
    }
  }

  /** Read a resize stream until it ends. */
  feedFrom(stream: Readable): void {
    stream.on('data', (b: Buffer) => this.pushBytes(b));
    stream.on('close', () => this.end());
    stream.on('end', () => this.end());
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TerminalSize> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}
