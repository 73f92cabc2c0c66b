/**
 * Pod network namespaces: created with unshare(1) and kept alive by a bind mount of the
 * nsfs file at <state>/netns/<podId>, removed by unmounting it. The loopback interface is
 * brought up at creation (CNI's loopback plugin does the same when it runs).
 */
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../util/exec.js';
import { internal } from '../util/errors.js';
import { unmount } from '../util/mount.js';

export function netnsPath(stateDir: string, podId: string): string {
  return join(stateDir, 'netns', podId);
}

export async function createNetns(path: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o711 });
  const fh = await open(path, 'w', 0o444); // the bind-mount target must exist
  await fh.close();
  const r = await runCommand('unshare', [`--net=${path}`, 'ip', 'link', 'set', 'lo', 'up'], {
    what: `creating network namespace ${path}`,
    timeoutMs: 15_000,
  });
  if (r.code !== 0) {
    await removeNetns(path).catch(() => {});
    throw internal(`creating network namespace ${path}: ${r.stderr || `unshare exited ${r.code ?? r.signal}`}`);
  }
}

/** Idempotent: unmount (if mounted) and remove the file. */
export async function removeNetns(path: string): Promise<void> {
  await unmount(path, `removing network namespace ${path}`);
  await rm(path, { force: true });
}
