import { lstat, mkdir, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { mountOf, parseMountInfo } from '../../util/mount.js';
import { errnoCode, invalidArgument, isNotFoundErrno } from '../../util/errors.js';
import type { HostProbes } from './inputs.js';
import type { LinuxDevice } from './spec-types.js';

/** Major and minor number of a Linux dev_t (the kernel's new_encode_dev layout). */
export function splitDevT(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

const S_IFMT = 0o170000n;
const S_IFBLK = 0o060000n;
const S_IFCHR = 0o020000n;
const S_IFIFO = 0o010000n;

/** The device node at `path` (not following a final symlink), or undefined if it is not one. */
export async function deviceAt(path: string): Promise<LinuxDevice | undefined> {
  const st = await lstat(path, { bigint: true });
  const fmt = st.mode & S_IFMT;
  const type = fmt === S_IFBLK ? 'b' : fmt === S_IFCHR ? 'c' : fmt === S_IFIFO ? 'p' : undefined;
  if (!type) return undefined;
  const { major, minor } = splitDevT(st.rdev);
  return { path, type, major, minor, fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) };
}

/** Directories under /dev that hold no device nodes worth copying (or hold mounts). */
const SKIP_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

async function walkDevices(dir: string, containerDir: string): Promise<LinuxDevice[]> {
  const out: LinuxDevice[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const hostPath = join(dir, entry.name);
    const containerPath = containerDir ? join(containerDir, entry.name) : '';
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) out.push(...(await walkDevices(hostPath, containerPath)));
      continue;
    }
    if (entry.name === 'console') continue;
    let dev: LinuxDevice | undefined;
    try {
      dev = await deviceAt(hostPath);
    } catch (err) {
      if (isNotFoundErrno(err)) continue;
      throw err;
    }
    if (!dev || dev.type === 'p') continue;
    out.push(containerPath ? { ...dev, path: containerPath } : dev);
  }
  return out;
}

async function lookupDevices(hostPath: string, containerPath: string): Promise<LinuxDevice[]> {
  const real = await realpath(hostPath);
  const st = await stat(real);
  if (st.isDirectory()) return walkDevices(real, containerPath);
  const dev = await deviceAt(real);
  if (!dev) throw invalidArgument(`${hostPath} is not a device node`);
  return [{ ...dev, path: containerPath || hostPath }];
}

/**
 * Propagation of the mount that holds `path` according to a mountinfo text: the entry
 * with the longest mount point that is `path` or a parent of it (the last one wins when
 * mounts are stacked).
 */
export function propagationFromMountinfo(mountinfo: string, path: string): 'shared' | 'slave' | 'private' {
  const m = mountOf(path, parseMountInfo(mountinfo));
  if (!m) return 'private';
  if (m.optional.some((o) => o.startsWith('shared:'))) return 'shared';
  if (m.optional.some((o) => o.startsWith('master:'))) return 'slave';
  return 'private';
}

async function mountPropagation(path: string): Promise<'shared' | 'slave' | 'private'> {
  const real = await realpath(path);
  return propagationFromMountinfo(await readFile('/proc/self/mountinfo', 'utf8'), real);
}

/** A missing bind source becomes an empty directory (as Docker and containerd do); symlinks are resolved. */
async function prepareMountSource(hostPath: string): Promise<string> {
  try {
    await stat(hostPath);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    await mkdir(hostPath, { recursive: true, mode: 0o755 });
  }
  return realpath(hostPath);
}

/** The real host. */
export const defaultHostProbes: HostProbes = {
  lookupDevices,
  hostDevices: () => walkDevices('/dev', ''),
  mountPropagation,
  prepareMountSource,
  readFile: (path) => readFile(path, 'utf8'),
};
