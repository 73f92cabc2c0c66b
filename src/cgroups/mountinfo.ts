/**
 * Pure parsing of /proc/self/mountinfo (via util/mount) and /proc/cgroups into a CgroupLayout. No I/O here:
 * detect.ts reads the files and the unified root's controller lists.
 */
import type { CgroupLayout, CgroupMode } from './types.js';
import { parseMountInfo } from '../util/mount.js';

export interface MountEntry {
  /** The root of the mount within its filesystem (not "/" inside a cgroup namespace). */
  root: string;
  mountpoint: string;
  fstype: string;
  superOptions: string[];
}

/** Parse mountinfo text; malformed lines are skipped. */
export function parseMountinfo(text: string): MountEntry[] {
  return parseMountInfo(text).map((m) => ({ root: m.root, mountpoint: m.mountPoint, fstype: m.fsType, superOptions: m.superOptions.split(',') }));
}

/** Controllers named in /proc/cgroups whose "enabled" column is 1. */
export function parseProcCgroups(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split(/\s+/);
    if (f.length >= 4 && f[3] === '1') out.push(f[0]!);
  }
  return out;
}

/** Mount options of a v1 cgroup mount that are not controller names. */
const NON_CONTROLLER_OPTS = new Set(['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'clone_children', 'noprefix', 'xattr', 'cpuset_v2_mode']);

/**
 * Which hierarchies are mounted where. The first mount of each hierarchy wins (bind mounts
 * of the same hierarchy elsewhere are ignored). `resctrl` reports a resctrl mount.
 */
export function layoutFromMounts(mounts: MountEntry[]): Omit<CgroupLayout, 'v2Controllers' | 'v2SubtreeControl' | 'kernelControllers'> & {
  resctrl?: string;
} {
  const v1: Record<string, string> = {};
  const named: Record<string, string> = {};
  let unified: string | undefined;
  let resctrl: string | undefined;
  for (const m of mounts) {
    if (m.fstype === 'cgroup2') {
      unified ??= m.mountpoint;
    } else if (m.fstype === 'cgroup') {
      for (const opt of m.superOptions) {
        if (opt.startsWith('name=')) {
          named[opt.slice(5)] ??= m.mountpoint;
        } else if (!NON_CONTROLLER_OPTS.has(opt) && !opt.includes('=')) {
          v1[opt] ??= m.mountpoint;
        }
      }
    } else if (m.fstype === 'resctrl') {
      resctrl ??= m.mountpoint;
    }
  }
  const hasV1 = Object.keys(v1).length > 0;
  const mode: CgroupMode = hasV1 ? (unified ? 'hybrid' : 'v1') : 'v2';
  return { mode, unified, v1, named, resctrl };
}

/** Split a cgroup.controllers / cgroup.subtree_control line into names. */
export function parseControllerList(text: string): string[] {
  return text.split(/\s+/).filter((s) => s.length > 0);
}
