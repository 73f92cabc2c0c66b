/**
 * The image index persisted in `<root>/images.json` (crash-safe: write + fsync + rename via
 * util/atomic.ts). Reads are from memory; mutations are serialised and written before the
 * mutation's promise resolves. Reloaded at start; unreadable records are skipped with a
 * warning rather than failing the daemon.
 */
import { readFile } from 'node:fs/promises';
import { writeJsonAtomic } from '../../util/atomic.js';
import { isNotFoundErrno } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { ImageIndex } from './image-index.js';
import type { ImageRecord } from './image-record.js';

interface FileShape {
  version: 1;
  images: ImageRecord[];
}

function looksLikeRecord(r: unknown): r is ImageRecord {
  const x = r as ImageRecord;
  return (
    typeof x === 'object' && x !== null && typeof x.id === 'string' && Array.isArray(x.repoTags) && Array.isArray(x.repoDigests) &&
    Array.isArray(x.layers) && Array.isArray(x.blobs) && typeof x.config === 'object'
  );
}

export class ImageStore {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly path: string,
    readonly index: ImageIndex,
  ) {}

  static async open(path: string, log?: Logger): Promise<ImageStore> {
    let records: ImageRecord[] = [];
    try {
      const doc = JSON.parse(await readFile(path, 'utf8')) as Partial<FileShape>;
      for (const r of doc.images ?? []) {
        if (looksLikeRecord(r)) records.push(r);
        else log?.warn({ record: r }, 'skipping unreadable image record');
      }
    } catch (err) {
      if (!isNotFoundErrno(err)) {
        log?.error({ err, path }, 'image metadata unreadable; starting with no images');
        records = [];
      }
    }
    return new ImageStore(path, new ImageIndex(records));
  }

  /** Run `fn` on the index, then persist; serialised with other mutations. */
  mutate<T>(fn: (index: ImageIndex) => T): Promise<T> {
    const run = this.queue.then(async () => {
      const result = fn(this.index);
      const doc: FileShape = { version: 1, images: this.index.all() };
      await writeJsonAtomic(this.path, doc);
      return result;
    });
    this.queue = run.catch(() => {});
    return run;
  }
}
