import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../../util/log.js';
import { mkfifo, openFifoReader } from './fifo.js';

type Level = 'debug' | 'info' | 'warn' | 'error';

/**
 * logrus text line ("time=… level=warning msg=…") → pino level. Pure. The shim's info lines
 * (plugin loading, signal loop) are start-up chatter: they go to debug.
 */
export function levelOfShimLine(line: string): Level {
  const m = /(?:^|\s)level=(\w+)/.exec(line);
  switch (m?.[1]) {
    case 'trace':
    case 'debug':
    case 'info':
      return 'debug';
    case 'warning':
    case 'warn':
      return 'warn';
    case 'error':
    case 'fatal':
    case 'panic':
      return 'error';
    default:
      return 'info'; // not a logrus line (e.g. a Go panic trace): keep it visible
  }
}

const TAIL_LINES = 20;

/**
 * Reader of a bundle's `log` fifo. A runc v2 shim opens <bundle>/log for writing at start-up
 * and blocks (then exits) if nobody holds the read end, so this must be open before the shim
 * starts and kept open as long as the shim lives. Lines go to our pino log; the last few are
 * kept for error messages.
 */
export class ShimLog {
  private readonly tail: string[] = [];
  private partial = '';

  private constructor(
    readonly path: string,
    private readonly socket: Socket,
    private readonly log: Logger,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('end', () => this.flush());
    socket.on('error', (err) => log.debug({ err, path }, 'shim log fifo error'));
  }

  /** Make <bundle>/log (a fifo) if needed and start reading it. */
  static async open(bundle: string, log: Logger): Promise<ShimLog> {
    const path = join(bundle, 'log');
    await mkfifo(path, 0o700);
    return new ShimLog(path, await openFifoReader(path), log);
  }

  /** The last lines the shim wrote, oldest first. */
  lastLines(): string[] {
    return [...this.tail];
  }

  /** Resolves when the shim closed its end (it exited) or we closed ours. */
  ended(): Promise<void> {
    if (this.socket.readableEnded || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('end', resolve);
      this.socket.once('close', resolve);
    });
  }

  close(): void {
    this.flush();
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.emit(line);
  }

  private flush(): void {
    if (this.partial) this.emit(this.partial);
    this.partial = '';
  }

  private emit(line: string): void {
    if (!line.trim()) return;
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    this.log[levelOfShimLine(line)]({ shimLog: line }, 'shim');
  }
}
