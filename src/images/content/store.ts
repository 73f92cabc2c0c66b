/**
 * Content-addressed blob store: `<root>/content/blobs/sha256/<hex>`.
 *
 * Writes go to `<root>/content/ingest/` (same filesystem), are hashed and counted while they
 * stream, checked against the expected size and digest, fsynced, then renamed into place —
 * a blob is never visible half-written, and a failed write leaves nothing behind. Presence and
 * sizes are kept in memory (loaded once at open), so lookups and usage are O(1).
 * A blob being deleted is awaited before it is written again (no delete/rename race).
 */
import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { syncDir } from '../../util/atomic.js';
import { BerthError, dataLoss, errnoCode, internal, resourceExhausted, unavailable } from '../../util/errors.js';
import { cancelledError } from '../cancel.js';
import { digestHex, isSha256Digest } from '../digest.js';
import { TransportError } from '../registry/http.js';

export interface IngestOptions {
  /** Bytes written so far, called as data arrives. */
  onProgress?: (bytes: number) => void;
  /** Names the blob's origin in errors (e.g. the URL). */
  source?: string;
}

/** Map a filesystem error while storing `what` to the right status. */
export function storageError(err: unknown, what: string): BerthError {
  if (err instanceof BerthError) return err;
  const code = errnoCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return resourceExhausted(`no space left to store ${what}`, err);
  return internal(`cannot store ${what}: ${(err as Error).message}`, err);
}

export class ContentStore {
  readonly blobsDir: string;
  readonly ingestDir: string;
  private readonly sizes = new Map<string, number>();
  private readonly deleting = new Map<string, Promise<void>>();

  private constructor(readonly dir: string) {
    this.blobsDir = join(dir, 'blobs', 'sha256');
    this.ingestDir = join(dir, 'ingest');
  }

  /** Open `<root>/content`: create it, drop leftovers of interrupted writes, index the blobs. */
  static async open(dir: string): Promise<ContentStore> {
    const s = new ContentStore(dir);
    await rm(s.ingestDir, { recursive: true, force: true });
    await mkdir(s.ingestDir, { recursive: true });
    await mkdir(s.blobsDir, { recursive: true });
    for (const name of await readdir(s.blobsDir)) {
      const p = join(s.blobsDir, name);
      if (!/^[a-f0-9]{64}$/.test(name)) {
        await rm(p, { recursive: true, force: true });
        continue;
      }
      s.sizes.set(`sha256:${name}`, (await stat(p)).size);
    }
    return s;
  }

  path(digest: string): string {
    return join(this.blobsDir, digestHex(digest));
  }

  has(digest: string): boolean {
    return this.sizes.has(digest);
  }

  size(digest: string): number | undefined {
    return this.sizes.get(digest);
  }

  list(): string[] {
    return [...this.sizes.keys()];
  }

  usage(): { bytes: number; inodes: number } {
    let bytes = 0;
    for (const n of this.sizes.values()) bytes += n;
    return { bytes, inodes: this.sizes.size };
  }

  async read(digest: string): Promise<Buffer> {
    return readFile(this.path(digest));
  }

  /** Store small bytes already in memory (manifests, configs) after checking their digest. */
  async put(digest: string, data: Buffer): Promise<void> {
    await this.ingest({ digest, size: data.length }, Readable.from([data]));
  }

  /**
   * Stream `source` into the store as `expected.digest`. Throws DATA_LOSS on a digest or size
   * mismatch or a truncated source, UNAVAILABLE when the source stalled, RESOURCE_EXHAUSTED on
   * ENOSPC. Nothing is left behind on failure.
   */
  async ingest(expected: { digest: string; size: number }, source: Readable, opts: IngestOptions = {}): Promise<void> {
    const { digest, size } = expected;
    if (!isSha256Digest(digest)) throw internal(`refusing to store non-sha256 digest ${digest}`);
    await this.deleting.get(digest);
    if (this.sizes.has(digest)) {
      source.destroy();
      return;
    }
    const from = opts.source ? ` from ${opts.source}` : '';
    const tmp = join(this.ingestDir, `${digestHex(digest)}-${randomBytes(6).toString('hex')}`);
    const hash = createHash('sha256');
    let n = 0;
    let fh: FileHandle | undefined;
    try {
      fh = await open(tmp, 'wx', 0o644);
    } catch (err) {
      source.destroy();
      throw storageError(err, `blob ${digest}`);
    }
    try {
      try {
        const report = (bytes: number) => {
          n = bytes;
          opts.onProgress?.(bytes);
        };
        n = await copyHashed(source, fh, hash, size, report, () =>
          dataLoss(`blob ${digest}${from}: got more than the ${size} bytes its descriptor says`),
        );
      } catch (err) {
        throw streamError(err, digest, from, n, size);
      }
      if (n !== size) throw dataLoss(`blob ${digest}${from}: truncated, got ${n} of ${size} bytes`);
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== digest) throw dataLoss(`blob ${digest}${from}: content does not match its digest (got ${got})`);
      await fh.sync();
      await fh.close();
      fh = undefined;
      await rename(tmp, this.path(digest));
      await syncDir(this.blobsDir);
      this.sizes.set(digest, size);
    } catch (err) {
      await fh?.close().catch(() => {});
      await rm(tmp, { force: true });
      throw storageError(err, `blob ${digest}`);
    }
  }

  async delete(digest: string): Promise<void> {
    if (!this.sizes.has(digest) || this.deleting.has(digest)) return this.deleting.get(digest);
    this.sizes.delete(digest);
    const p = rm(this.path(digest), { force: true }).finally(() => this.deleting.delete(digest));
    this.deleting.set(digest, p);
    return p;
  }
}

/** Write `source` to `fh` in ~1 MiB batches, hashing as it goes; returns the byte count. */
async function copyHashed(
  source: Readable,
  fh: FileHandle,
  hash: Hash,
  limit: number,
  onProgress: (bytes: number) => void,
  tooMuch: () => Error,
): Promise<number> {
  let n = 0;
  let batch: Buffer[] = [];
  let batched = 0;
  const flush = async () => {
    if (batched === 0) return;
    const bufs = batch;
    batch = [];
    batched = 0;
    let off = 0;
    const total = bufs.reduce((a, b) => a + b.length, 0);
    while (off < total) {
      const { bytesWritten } = await fh.writev(off === 0 ? bufs : [Buffer.concat(bufs).subarray(off)]);
      off += bytesWritten;
    }
  };
  try {
    for await (const chunk of source) {
      const buf = chunk as Buffer;
      n += buf.length;
      if (n > limit) throw tooMuch();
      hash.update(buf);
      batch.push(buf);
      batched += buf.length;
      if (batched >= 1 << 20) await flush();
      onProgress(n);
    }
    await flush();
  } catch (err) {
    source.destroy();
    throw err;
  }
  return n;
}

/** errnos that mean our disk failed, not the download. */
const FS_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EIO', 'EROFS', 'EMFILE', 'ENFILE', 'ENOENT', 'EISDIR', 'ENOTDIR', 'EBADF', 'EFBIG']);

function streamError(err: unknown, digest: string, from: string, n: number, size: number): BerthError {
  if (err instanceof BerthError) return err;
  if (err instanceof TransportError && err.kind === 'timeout') return unavailable(`blob ${digest}${from}: ${err.message} (after ${n} of ${size} bytes)`, err);
  if ((err instanceof TransportError && err.kind === 'aborted') || (err as { name?: string })?.name === 'AbortError') {
    return cancelledError(`download of blob ${digest}${from}`, err);
  }
  const code = errnoCode(err);
  if (code && FS_ERRORS.has(code)) return storageError(err, `blob ${digest}`);
  return dataLoss(`blob ${digest}${from}: download truncated after ${n} of ${size} bytes (${(err as Error).message})`, err);
}
