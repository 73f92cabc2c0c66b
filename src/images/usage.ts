/**
 * Where the image store lives, for CRI ImageFsInfo: the mount point of the filesystem that
 * holds `<root>`, from /proc/self/mountinfo (the longest mount point that contains the path).
 */
import { readFile, realpath } from 'node:fs/promises';

/** Undo mountinfo's octal escapes ("\040" is a space). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points listed in a mountinfo text (field 5). */
export function mountPoints(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f.length >= 5) out.push(unescape(f[4]));
  }
  return out;
}

export function mountpointOf(path: string, mountinfo: string): string {
  let best = '/';
  for (const mp of mountPoints(mountinfo)) {
    const inside = mp === '/' || path === mp || path.startsWith(mp.endsWith('/') ? mp : mp + '/');
    if (inside && mp.length > best.length) best = mp;
  }
  return best;
}

export async function fsMountpoint(path: string): Promise<string> {
  const real = await realpath(path);
  return mountpointOf(real, await readFile('/proc/self/mountinfo', 'utf8'));
}
