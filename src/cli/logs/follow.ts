/**
 * Print a CRI log file, optionally only its last lines, and follow it (`logs -f`): new
 * records as they are appended, unfinished lines held until complete, rotation (the file
 * at the path is replaced: finish the old one, continue with the new) and truncation.
 * Following stops when the container has exited and everything it wrote was printed.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { CriRecordSplitter, LineAssembler, type CriRecord } from './cri-format.js';

export interface LogStreamOptions {
  path: string;
  /** Print only the last N lines first (undefined: everything). */
  tail?: number;
  follow: boolean;
  timestamps?: boolean;
  write(stream: CriRecord['stream'], text: string): void;
  /** Whether the container has exited (asked while idle, at most every `doneCheckMs`). */
  isDone?: () => Promise<boolean>;
  signal?: AbortSignal;
  pollMs?: number;
  doneCheckMs?: number;
}

const CHUNK = 64 * 1024;

/** The records from which the last `n` lines start (pure). */
export function lastLines(records: CriRecord[], n: number): CriRecord[] {
  if (n <= 0) return [];
  let full = 0;
  for (let i = records.length - 1; i >= 0; i--) {
    if (!records[i]!.partial) {
      full++;
      if (full === n + 1) return records.slice(i + 1);
    }
  }
  return records;
}

async function readFrom(fh: FileHandle, offset: number, onChunk: (b: Buffer) => void): Promise<number> {
  const buf = Buffer.alloc(CHUNK);
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, CHUNK, offset);
    if (bytesRead === 0) return offset;
    offset += bytesRead;
    onChunk(buf.subarray(0, bytesRead));
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

async function inodeOf(path: string): Promise<{ ino: number; size: number } | undefined> {
  try {
    const s = await stat(path);
    return { ino: s.ino, size: s.size };
  } catch {
    return undefined;
  }
}

export async function streamLog(o: LogStreamOptions): Promise<void> {
  const out = new LineAssembler(o.timestamps);
  const emit = (records: CriRecord[]) => {
    for (const r of records) o.write(r.stream, out.format(r));
  };
  const splitter = new CriRecordSplitter();
  let fh = await open(o.path, 'r');
  let ino = (await fh.stat()).ino;
  try {
    const first: CriRecord[] = [];
    let offset = await readFrom(fh, 0, (b) => first.push(...splitter.push(b)));
    emit(o.tail === undefined ? first : lastLines(first, o.tail));
    if (!o.follow) return;
    let lastDoneCheck = 0;
    let finalPass = false;
    while (!o.signal?.aborted) {
      offset = await readFrom(fh, offset, (b) => emit(splitter.push(b)));
      if (finalPass) return;
      const now = await inodeOf(o.path);
      if (now && now.ino !== ino) {
        offset = await readFrom(fh, offset, (b) => emit(splitter.push(b)));
        await fh.close();
        fh = await open(o.path, 'r');
        ino = (await fh.stat()).ino;
        offset = 0;
        splitter.reset();
        continue;
      }
      if (now && now.size < offset) {
        offset = 0;
        splitter.reset();
        continue;
      }
      if (now && now.size > offset) continue;
      if (o.isDone && Date.now() - lastDoneCheck >= (o.doneCheckMs ?? 1000)) {
        lastDoneCheck = Date.now();
        // The log copier may still be flushing the last lines: one more pass after a pause.
        if (await o.isDone()) finalPass = true;
      }
      await sleep(o.pollMs ?? 200, o.signal);
    }
  } finally {
    await fh.close();
  }
}
