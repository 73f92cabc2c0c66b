import { constants } from 'node:fs';
import { lstat, open, readlink } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { errnoCode, invalidArgument } from '../../util/errors.js';

/** Linux gives up after 40 symlinks in one lookup; so do we. */
const MAX_SYMLINKS = 40;
/** User databases are far smaller; a bigger file is refused rather than read into memory. */
export const MAX_USER_FILE_BYTES = 10 * 1024 * 1024;

function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * Resolve `rel` inside `root` as if `root` were `/`: every symlink is followed with
 * absolute targets re-rooted at `root` and `..` clamped at `root`, so the result never
 * leaves it. Returns undefined when a component does not exist (or is not a directory).
 * Meant for a rootfs nobody runs in yet: a concurrent writer could still swap a component
 * between our lstat and the caller's open (the caller opens with O_NOFOLLOW).
 */
export async function resolveInRoot(root: string, rel: string): Promise<string | undefined> {
  let pending = components(rel);
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = join(root, ...done, part);
    let st;
    try {
      st = await lstat(candidate);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) {
        throw invalidArgument(`too many symbolic links resolving ${JSON.stringify(rel)} in ${root}`);
      }
      const target = await readlink(candidate);
      if (target.startsWith('/')) done.length = 0;
      pending = [...components(target), ...pending];
      continue;
    }
    if (pending.length > 0 && !st.isDirectory()) return undefined;
    done.push(part);
  }
  return done.length === 0 ? root : join(root, ...done);
}

/**
 * Read a regular file at `rel` inside `root` without ever following a link out of it.
 * Returns undefined if the file does not exist; refuses non-regular files and files over
 * `maxBytes` with INVALID_ARGUMENT naming the path.
 */
export async function readFileInRoot(root: string, rel: string, maxBytes = MAX_USER_FILE_BYTES): Promise<string | undefined> {
  const path = await resolveInRoot(root, rel);
  if (path === undefined) return undefined;
  const shown = `${root.replace(/\/+$/, '')}${sep}${components(rel).join(sep)}`;
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    if (errnoCode(err) === 'ELOOP') throw invalidArgument(`${shown} changed into a symbolic link while being read`);
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw invalidArgument(`${shown} is not a regular file`);
    if (st.size > maxBytes) throw invalidArgument(`${shown} is larger than ${maxBytes} bytes`);
    const chunk = Buffer.alloc(64 * 1024);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw invalidArgument(`${shown} is larger than ${maxBytes} bytes`);
      chunks.push(Buffer.from(chunk.subarray(0, bytesRead)));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await fh.close();
  }
}
