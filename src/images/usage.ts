/**
 * Where the image store lives, for CRI ImageFsInfo: the mount point of the filesystem that
 * holds `<root>`, from /proc/self/mountinfo (the longest mount point that contains the path).
 */
import { readFile, realpath } from 'node:fs/promises';
import { mountOf, parseMountInfo } from '../util/mount.js';

/** Mount points listed in a mountinfo text. */
export function mountPoints(mountinfo: string): string[] {
  return parseMountInfo(mountinfo).map((m) => m.mountPoint);
}

export function mountpointOf(path: string, mountinfo: string): string {
  return mountOf(path, parseMountInfo(mountinfo))?.mountPoint ?? '/';
}

export async function fsMountpoint(path: string): Promise<string> {
  const real = await realpath(path);
  return mountpointOf(real, await readFile('/proc/self/mountinfo', 'utf8'));
}
