import { BLOCK } from './tar-header.js';

/**
 * A minimal POSIX pax tar encoder: enough to hand fifos, devices and whiteouts to GNU tar in
 * one batch, and for tests that need exact control (binary xattr values, odd headers).
 */
export interface TarWriteEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  /** Seconds since the epoch. */
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extra PAX records (e.g. "SCHILY.xattr.security.capability" → raw bytes). */
  pax?: Map<string, Buffer>;
}

const FLAGS: Record<TarWriteEntry['type'], string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  // The length prefix counts itself.
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function octal(block: Buffer, off: number, len: number, value: number): void {
  block.write(value.toString(8).padStart(len - 1, '0') + '\0', off, len, 'latin1');
}

function fitsOctal(value: number, len: number): boolean {
  return value >= 0 && Number.isInteger(value) && value < 8 ** (len - 1);
}

function header(name: string, flag: string, e: TarWriteEntry, size: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'utf8');
  octal(block, 100, 8, (e.mode ?? 0o644) & 0o7777);
  octal(block, 108, 8, fitsOctal(e.uid ?? 0, 8) ? (e.uid ?? 0) : 0);
  octal(block, 116, 8, fitsOctal(e.gid ?? 0, 8) ? (e.gid ?? 0) : 0);
  octal(block, 124, 12, size);
  octal(block, 136, 12, Math.max(0, Math.floor(e.mtime ?? 0)));
  block.fill(0x20, 148, 156);
  block.write(flag, 156, 1, 'latin1');
  if (e.linkname && Buffer.byteLength(e.linkname) <= 100) block.write(e.linkname, 157, 100, 'utf8');
  block.write('ustar\0', 257, 6, 'latin1');
  block.write('00', 263, 2, 'latin1');
  octal(block, 329, 8, e.devmajor ?? 0);
  octal(block, 337, 8, e.devminor ?? 0);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i]!;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return block;
}

function padTo(buf: Buffer): Buffer {
  const rem = buf.length % BLOCK;
  return rem === 0 ? buf : Buffer.concat([buf, Buffer.alloc(BLOCK - rem)]);
}

/** Header block(s) for one entry (data, if any, must follow, padded with padData()). */
export function encodeEntryHeader(e: TarWriteEntry): Buffer {
  const size = e.type === 'file' ? (e.size ?? 0) : 0;
  const records: Buffer[] = [];
  const nameBytes = Buffer.byteLength(e.name);
  const ascii = nameBytes === e.name.length;
  if (nameBytes > 100 || !ascii) records.push(paxRecord('path', Buffer.from(e.name)));
  if (e.linkname && (Buffer.byteLength(e.linkname) > 100 || Buffer.byteLength(e.linkname) !== e.linkname.length)) {
    records.push(paxRecord('linkpath', Buffer.from(e.linkname)));
  }
  if (!fitsOctal(e.uid ?? 0, 8)) records.push(paxRecord('uid', Buffer.from(String(e.uid))));
  if (!fitsOctal(e.gid ?? 0, 8)) records.push(paxRecord('gid', Buffer.from(String(e.gid))));
  if (e.mtime !== undefined && !Number.isInteger(e.mtime)) records.push(paxRecord('mtime', Buffer.from(String(e.mtime))));
  for (const [k, v] of e.pax ?? []) records.push(paxRecord(k, v));

  const shortName = nameBytes > 100 || !ascii ? `PaxName${nameBytes}`.slice(0, 100) : e.name;
  const main = header(shortName, FLAGS[e.type], e, size);
  if (records.length === 0) return main;
  const paxData = Buffer.concat(records);
  const paxHeader = header('PaxHeaders/entry', 'x', { name: '', type: 'file', mode: 0o644 }, paxData.length);
  return Buffer.concat([paxHeader, padTo(paxData), main]);
}

/** Zero padding after `size` bytes of entry data. */
export function padData(size: number): Buffer {
  const rem = size % BLOCK;
  return Buffer.alloc(rem === 0 ? 0 : BLOCK - rem);
}

/** The end-of-archive marker (two zero blocks). */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

/** A whole archive in memory (tests and small batches). */
export function encodeArchive(entries: Array<TarWriteEntry & { data?: Buffer }>): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    parts.push(encodeEntryHeader({ ...e, size: e.type === 'file' ? data.length : 0 }));
    if (e.type === 'file' && data.length > 0) parts.push(data, padData(data.length));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}
