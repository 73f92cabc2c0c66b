/**
 * Pure decoding of tar header blocks and PAX records (POSIX ustar, pax, GNU and v7 forms).
 *
 * We parse tar ourselves instead of using tar-stream's extractor because tar-stream decodes
 * PAX record values as UTF-8, which corrupts binary values such as the
 * `SCHILY.xattr.security.capability` record that images use to grant file capabilities.
 * Here every PAX value stays a Buffer until its consumer decides how to read it.
 */

export const BLOCK = 512;

/** Raised for malformed archives; the caller turns it into dataLoss naming the layer. */
export class TarFormatError extends Error {
  override name = 'TarFormatError';
}

export type TypeFlag =
  | 'file'
  | 'hardlink'
  | 'symlink'
  | 'char'
  | 'block'
  | 'dir'
  | 'fifo'
  | 'pax'
  | 'pax-global'
  | 'gnu-longname'
  | 'gnu-longlink'
  | 'gnu-sparse'
  | 'unknown';

export interface RawHeader {
  name: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (may carry a fraction when a PAX mtime was given). */
  mtime: number;
  type: TypeFlag;
  /** The raw typeflag character, for messages about unknown types. */
  flag: string;
  devmajor: number;
  devminor: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** A NUL-terminated string field. */
function str(block: Buffer, off: number, len: number): string {
  let end = off;
  const max = off + len;
  while (end < max && block[end] !== 0) end++;
  if (end === off) return '';
  // Fast path: pure ASCII needs no UTF-8 decoder.
  let ascii = true;
  for (let i = off; i < end; i++) {
    if (block[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  return ascii ? block.toString('latin1', off, end) : utf8.decode(block.subarray(off, end));
}

/**
 * A numeric field: octal text (NUL/space padded) or GNU base-256 (high bit of the first
 * byte set). Negative base-256 values (only meaningful for mtime) come back negative.
 */
export function parseNumeric(block: Buffer, off: number, len: number, what: string): number {
  const first = block[off]!;
  if (first & 0x80) {
    // Big-endian two's complement; the marker bit of the first byte is not part of the value.
    const inv = first & 0x40 ? 0xff : 0;
    let value = 0;
    for (let i = 0; i < len; i++) {
      let c = block[off + i]! ^ inv;
      if (i === 0) c &= 0x7f;
      value = value * 256 + c;
      if (value > Number.MAX_SAFE_INTEGER) throw new TarFormatError(`tar header ${what} field overflows`);
    }
    return inv ? -(value + 1) : value;
  }
  let i = off;
  const end = off + len;
  while (i < end && (block[i] === 0x20 || block[i] === 0)) i++;
  let value = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = block[i]!;
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) throw new TarFormatError(`tar header ${what} field is not octal`);
    value = value * 8 + (c - 0x30);
    digits++;
  }
  if (digits === 0) return 0;
  return value;
}

function typeOf(flag: number): TypeFlag {
  switch (flag) {
    case 0:
    case 0x30: // '0'
    case 0x37: // '7' contiguous file
      return 'file';
    case 0x31:
      return 'hardlink';
    case 0x32:
      return 'symlink';
    case 0x33:
      return 'char';
    case 0x34:
      return 'block';
    case 0x35:
      return 'dir';
    case 0x36:
      return 'fifo';
    case 0x78: // 'x'
      return 'pax';
    case 0x67: // 'g'
      return 'pax-global';
    case 0x4c: // 'L'
      return 'gnu-longname';
    case 0x4b: // 'K'
      return 'gnu-longlink';
    case 0x53: // 'S'
      return 'gnu-sparse';
    default:
      return 'unknown';
  }
}

function checksumOk(block: Buffer): boolean {
  const stored = parseNumeric(block, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b >= 0x80 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/**
 * Decode one 512-byte header block. Returns null for an all-zero block (end-of-archive
 * marker). Throws TarFormatError for a bad checksum or malformed numbers.
 */
export function decodeHeader(block: Buffer): RawHeader | null {
  if (block.length !== BLOCK) throw new TarFormatError('short tar header block');
  if (isZeroBlock(block)) return null;
  if (!checksumOk(block)) throw new TarFormatError('tar header checksum mismatch (corrupt or not a tar stream)');

  const flagByte = block[156]!;
  let type = typeOf(flagByte);
  let name = str(block, 0, 100);
  // "ustar\0" + "00" is POSIX (has the 155-byte prefix); "ustar  \0" is GNU (no prefix field).
  const posix = block[257] === 0x75 && block.toString('latin1', 257, 263) === 'ustar\0';
  if (posix) {
    const prefix = str(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  // Old tars mark directories only by a trailing slash on a regular-file entry.
  if (type === 'file' && flagByte !== 0x37 && name.endsWith('/')) type = 'dir';

  return {
    name,
    linkname: str(block, 157, 100),
    mode: parseNumeric(block, 100, 8, 'mode') & 0o7777,
    uid: parseNumeric(block, 108, 8, 'uid'),
    gid: parseNumeric(block, 116, 8, 'gid'),
    size: parseNumeric(block, 124, 12, 'size'),
    mtime: parseNumeric(block, 136, 12, 'mtime'),
    type,
    flag: flagByte === 0 ? '\\0' : String.fromCharCode(flagByte),
    devmajor: parseNumeric(block, 329, 8, 'devmajor'),
    devminor: parseNumeric(block, 337, 8, 'devminor'),
  };
}

/**
 * Parse PAX extended-header records ("<len> <key>=<value>\n"). Values stay raw bytes:
 * xattr values are binary. Later records for the same key win.
 */
export function parsePaxRecords(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    // Trailing NUL padding ends the records.
    if (data[pos] === 0) break;
    const space = data.indexOf(0x20, pos);
    if (space < 0 || space - pos > 20) throw new TarFormatError('malformed PAX record length');
    const len = Number(data.toString('latin1', pos, space));
    if (!Number.isInteger(len) || len <= space - pos + 1 || pos + len > data.length) {
      throw new TarFormatError('malformed PAX record length');
    }
    const end = pos + len; // points just past the '\n'
    if (data[end - 1] !== 0x0a) throw new TarFormatError('PAX record does not end in a newline');
    const eq = data.indexOf(0x3d, space + 1);
    if (eq < 0 || eq >= end - 1) throw new TarFormatError('PAX record has no "="');
    const key = utf8.decode(data.subarray(space + 1, eq));
    out.set(key, data.subarray(eq + 1, end - 1));
    pos = end;
  }
  return out;
}

/** A PAX decimal integer (size, uid, gid). */
export function paxInt(value: Buffer, key: string): number {
  const s = value.toString('latin1', 0, value.length);
  if (!/^[0-9]{1,16}$/.test(s)) throw new TarFormatError(`PAX ${key} is not a decimal integer: ${JSON.stringify(s)}`);
  return Number(s);
}

/** A PAX time ("1700000000.123456789", possibly negative). */
export function paxTime(value: Buffer, key: string): number {
  const s = value.toString('latin1', 0, value.length);
  if (!/^-?[0-9]{1,19}(\.[0-9]*)?$/.test(s)) throw new TarFormatError(`PAX ${key} is not a time: ${JSON.stringify(s)}`);
  return Number(s);
}

/** Decode a UTF-8 string value (path, linkpath); GNU long names are NUL-terminated. */
export function textValue(value: Buffer): string {
  let end = value.indexOf(0);
  if (end < 0) end = value.length;
  return utf8.decode(value.subarray(0, end));
}
