import { failedPrecondition, internal } from '../../util/errors.js';
import { execWithInput } from './helpers-exec.js';
import { END_OF_ARCHIVE, encodeEntryHeader } from './tar-writer.js';
import type { SpecialNode } from './tree.js';

export interface PendingSpecial {
  /** Path relative to dest, clean (no "..", no leading "/"), parents are real directories. */
  path: string;
  node: SpecialNode;
}

/**
 * Encode fifos, devices and overlay whiteouts (char 0:0) as a tar stream for GNU tar.
 * Node cannot mknod(2); one `tar -x` creates any number of nodes with their mode, owner and
 * mtime in a single process instead of one `mknod` + `chown` + `touch` per node.
 */
export function encodeSpecials(items: readonly PendingSpecial[]): Buffer {
  const parts: Buffer[] = [];
  for (const { path, node } of items) {
    parts.push(
      encodeEntryHeader({
        name: path,
        type: node.type,
        mode: node.mode,
        uid: node.uid,
        gid: node.gid,
        mtime: node.mtime,
        devmajor: node.major,
        devminor: node.minor,
      }),
    );
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

/** Create all pending special files under `dest` with one GNU tar process. */
export async function createSpecials(dest: string, items: readonly PendingSpecial[], signal?: AbortSignal): Promise<void> {
  if (items.length === 0) return;
  const args = [
    '--extract',
    '--file=-',
    '--numeric-owner',
    '--same-owner',
    '--preserve-permissions',
    '--no-overwrite-dir',
    '--no-recursion',
    '--warning=no-unknown-keyword',
  ];
  let res;
  try {
    res = await execWithInput('tar', args, dest, encodeSpecials(items), signal);
  } catch (err) {
    throw internal(`cannot run tar to create ${items.length} device/fifo/whiteout node(s) in ${dest}: ${String(err)}`, err);
  }
  if (res.code === 0) return;
  const detail = res.stderr.trim().split('\n').slice(0, 5).join('; ');
  if (/Operation not permitted/.test(res.stderr)) {
    throw failedPrecondition(
      `cannot create device/whiteout nodes in ${dest} (mknod needs root with CAP_MKNOD outside a user namespace): ${detail}`,
    );
  }
  throw internal(`tar failed creating ${items.length} device/fifo/whiteout node(s) in ${dest} (exit ${res.code ?? res.signal}): ${detail}`);
}
