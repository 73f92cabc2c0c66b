import { failedPrecondition, internal } from '../../util/errors.js';
import { execWithInput } from './helpers-exec.js';

/** One file's extended attributes; path relative to dest, parents are real directories. */
export interface XattrTarget {
  path: string;
  attrs: Map<string, Buffer>;
}

export const OPAQUE_XATTR = 'trusted.overlay.opaque';

/** Bytes a `getfattr --dump` name may hold unescaped; everything else becomes \ooo. */
function isPlain(b: number): boolean {
  return (
    (b >= 0x30 && b <= 0x39) || // 0-9
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x61 && b <= 0x7a) || // a-z
    b === 0x2e || // .
    b === 0x2f || // /
    b === 0x5f || // _
    b === 0x2d || // -
    b === 0x2b // +
  );
}

/** Escape a path or attribute name the way setfattr --restore unescapes it (octal). */
export function escapeDumpName(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  let out = '';
  for (const b of bytes) out += isPlain(b) ? String.fromCharCode(b) : '\\' + b.toString(8).padStart(3, '0');
  return out;
}

/**
 * The `getfattr --dump` text setfattr --restore reads: a "# file:" line per path, then one
 * name=0s<base64> line per attribute (base64 keeps binary values such as
 * security.capability exact).
 */
export function encodeXattrDump(targets: readonly XattrTarget[]): string {
  let out = '';
  for (const t of targets) {
    if (t.attrs.size === 0) continue;
    out += `# file: ${escapeDumpName(t.path === '' ? '.' : t.path)}\n`;
    for (const [name, value] of t.attrs) out += `${escapeDumpName(name)}=0s${value.toString('base64')}\n`;
    out += '\n';
  }
  return out;
}

/**
 * Apply xattrs with one `setfattr -h --restore=-` process (-h: never follow a symlink).
 * `required` batches (the overlay opaque markers) fail hard; for archive xattrs a
 * filesystem that does not support them is only worth a warning (containerd does the same).
 */
export async function applyXattrs(
  dest: string,
  targets: readonly XattrTarget[],
  opts: { required: boolean; signal?: AbortSignal; warn: (msg: string) => void },
): Promise<void> {
  const dump = encodeXattrDump(targets);
  if (dump === '') return;
  let res;
  try {
    res = await execWithInput('setfattr', ['-h', '--restore=-'], dest, Buffer.from(dump, 'utf8'), opts.signal);
  } catch (err) {
    const hint = (err as NodeJS.ErrnoException).code === 'ENOENT' ? ' (install the Debian package "attr")' : '';
    throw failedPrecondition(`cannot run setfattr to set xattrs in ${dest}${hint}: ${String(err)}`, err);
  }
  if (res.code === 0) return;
  const lines = res.stderr.trim().split('\n').filter(Boolean);
  const detail = lines.slice(0, 5).join('; ');
  if (opts.required) {
    throw failedPrecondition(
      `cannot set ${OPAQUE_XATTR} in ${dest} (overlay snapshots need a filesystem with trusted.* xattrs and root): ${detail}`,
    );
  }
  if (lines.length > 0 && lines.every((l) => /Operation not supported/.test(l))) {
    opts.warn(`ignored xattrs the filesystem under ${dest} does not support: ${detail}`);
    return;
  }
  throw internal(`setfattr failed applying layer xattrs in ${dest} (exit ${res.code ?? res.signal}): ${detail}`);
}
