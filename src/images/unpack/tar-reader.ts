import type { ByteSource } from './byte-source.js';
import {
  BLOCK,
  TarFormatError,
  decodeHeader,
  parsePaxRecords,
  paxInt,
  paxTime,
  textValue,
  type TypeFlag,
} from './tar-header.js';

/** Entry kinds a layer may contain (metadata pseudo-entries are consumed by the reader). */
export type EntryType = Extract<TypeFlag, 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo' | 'unknown'>;

export interface TarEntry {
  /** Path as written in the archive (PAX path / GNU long name / ustar prefix+name). */
  name: string;
  linkname: string;
  type: EntryType;
  /** Raw typeflag, for messages about unknown entry types. */
  flag: string;
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of file data that follow the header (0 for header-only types). */
  size: number;
  /** Seconds since the epoch, possibly fractional. */
  mtime: number;
  devmajor: number;
  devminor: number;
  /** Extended attributes from SCHILY.xattr.* / LIBARCHIVE.xattr.* PAX records; raw values. */
  xattrs: Map<string, Buffer> | null;
}

/** PAX and GNU long-name headers larger than this are refused (memory safety). */
const MAX_META = 1 << 20;

const HEADER_ONLY: ReadonlySet<TypeFlag> = new Set(['hardlink', 'symlink', 'char', 'block', 'dir', 'fifo']);

/** uid/gid that chown(2) accepts (-1 = 0xffffffff means "unchanged"). */
function validId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id < 0xffffffff;
}

function padding(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

function xattrsFromPax(pax: Map<string, Buffer>): Map<string, Buffer> | null {
  let out: Map<string, Buffer> | null = null;
  for (const [key, value] of pax) {
    if (key.startsWith('SCHILY.xattr.')) {
      (out ??= new Map()).set(key.slice('SCHILY.xattr.'.length), value);
    } else if (key.startsWith('LIBARCHIVE.xattr.')) {
      // bsdtar: URL-encoded name, base64 value
      let name: string;
      try {
        name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
      } catch {
        throw new TarFormatError(`malformed PAX key ${JSON.stringify(key)}`);
      }
      (out ??= new Map()).set(name, Buffer.from(value.toString('latin1', 0, value.length), 'base64'));
    }
  }
  return out;
}

/**
 * Streaming tar reader. Call next() for each entry; read its data with readBody() (whatever
 * is not read is skipped by the following next()).
 */
export class TarReader {
  private remaining = 0;
  private pad = 0;
  private finished = false;

  constructor(private readonly src: ByteSource) {}

  /** The next real entry, or null at the end of the archive. */
  async next(): Promise<TarEntry | null> {
    if (this.finished) return null;
    if (this.remaining + this.pad > 0) {
      await this.src.skip(this.remaining + this.pad);
      this.remaining = 0;
      this.pad = 0;
    }
    let pax: Map<string, Buffer> | null = null;
    let longName: string | null = null;
    let longLink: string | null = null;
    for (;;) {
      const block = await this.src.readExact(BLOCK);
      if (block === null) {
        if (pax || longName !== null || longLink !== null) {
          throw new TarFormatError('archive ends after an extended header, before its entry');
        }
        this.finished = true;
        return null;
      }
      const h = decodeHeader(block);
      if (h === null) {
        // End-of-archive marker. Whatever follows (the second zero block, record padding)
        // is drained and hashed by the caller.
        this.finished = true;
        return null;
      }
      switch (h.type) {
        case 'pax':
          pax = parsePaxRecords(await this.readMeta(h.size, 'PAX header'));
          continue;
        case 'pax-global':
          await this.src.skip(h.size + padding(h.size));
          continue;
        case 'gnu-longname':
          longName = textValue(await this.readMeta(h.size, 'GNU long name'));
          continue;
        case 'gnu-longlink':
          longLink = textValue(await this.readMeta(h.size, 'GNU long link name'));
          continue;
        case 'gnu-sparse':
          throw new TarFormatError(`sparse file ${JSON.stringify(longName ?? h.name)} is not supported in image layers`);
      }
      const entry: TarEntry = {
        name: longName ?? h.name,
        linkname: longLink ?? h.linkname,
        type: h.type as EntryType,
        flag: h.flag,
        mode: h.mode,
        uid: h.uid,
        gid: h.gid,
        size: h.size,
        mtime: h.mtime,
        devmajor: h.devmajor,
        devminor: h.devminor,
        xattrs: null,
      };
      if (pax) this.applyPax(entry, pax);
      if (entry.size < 0) throw new TarFormatError(`negative size for ${JSON.stringify(entry.name)}`);
      if (!validId(entry.uid) || !validId(entry.gid)) {
        throw new TarFormatError(`invalid owner ${entry.uid}:${entry.gid} for ${JSON.stringify(entry.name)}`);
      }
      // Header-only types carry no data whatever their size field says (as Go's archive/tar).
      const dataSize = HEADER_ONLY.has(entry.type) ? 0 : entry.size;
      if (entry.type !== 'file') entry.size = 0;
      this.remaining = dataSize;
      this.pad = padding(dataSize);
      return entry;
    }
  }

  /** Next piece of the current entry's data (at most `max` bytes), or null when done. */
  async readBody(max = 1 << 20): Promise<Buffer | null> {
    if (this.remaining === 0) return null;
    const chunk = await this.src.readSome(Math.min(max, this.remaining));
    this.remaining -= chunk.length;
    return chunk;
  }

  private async readMeta(size: number, what: string): Promise<Buffer> {
    if (size > MAX_META) throw new TarFormatError(`${what} of ${size} bytes exceeds the ${MAX_META}-byte limit`);
    const data = size === 0 ? Buffer.alloc(0) : await this.src.readExact(size);
    if (data === null) throw new TarFormatError(`archive ends inside a ${what}`);
    await this.src.skip(padding(size));
    // Copy: the slice may pin a large stream chunk, and we keep it until the entry.
    return Buffer.from(data);
  }

  private applyPax(entry: TarEntry, pax: Map<string, Buffer>): void {
    for (const key of pax.keys()) {
      if (key.startsWith('GNU.sparse.')) {
        throw new TarFormatError(`sparse file ${JSON.stringify(entry.name)} is not supported in image layers`);
      }
    }
    const path = pax.get('path');
    if (path) entry.name = textValue(path);
    const linkpath = pax.get('linkpath');
    if (linkpath) entry.linkname = textValue(linkpath);
    const size = pax.get('size');
    if (size) entry.size = paxInt(size, 'size');
    const uid = pax.get('uid');
    if (uid) entry.uid = paxInt(uid, 'uid');
    const gid = pax.get('gid');
    if (gid) entry.gid = paxInt(gid, 'gid');
    const mtime = pax.get('mtime');
    if (mtime) entry.mtime = paxTime(mtime, 'mtime');
    entry.xattrs = xattrsFromPax(pax);
  }
}
