/**
 * Mounts through mount(8)/umount(8) (Node has no mount syscall), and mount-table queries
 * from /proc/self/mountinfo.
 */
import { readFile } from 'node:fs/promises';
import { run, runCommand } from './exec.js';
import { internal } from './errors.js';

export async function mount(source: string, target: string, fstype: string, options: string[], what: string): Promise<void> {
  const args = ['-t', fstype];
  if (options.length) args.push('-o', options.join(','));
  await run('mount', [...args, source, target], { what, timeoutMs: 30_000 });
}

export async function bindMount(source: string, target: string, what: string): Promise<void> {
  await run('mount', ['--bind', source, target], { what, timeoutMs: 30_000 });
}

/** Unmount `target`; a path that is not mounted (or does not exist) is fine. Lazy detach as a last resort. */
export async function unmount(target: string, what: string): Promise<void> {
  const r = await runCommand('umount', [target], { what, timeoutMs: 30_000 });
  if (r.code === 0) return;
  if (/not mounted|no mount point|No such file|not found/i.test(r.stderr)) return;
  const lazy = await runCommand('umount', ['-l', target], { what, timeoutMs: 30_000 });
  if (lazy.code !== 0 && !/not mounted|No such file/i.test(lazy.stderr)) {
    throw internal(`${what}: umount ${target}: ${r.stderr || lazy.stderr}`);
  }
}

export interface MountInfo {
  mountId: number;
  parentId: number;
  /** The root of the mount within its filesystem. */
  root: string;
  mountPoint: string;
  optional: string[];
  fsType: string;
  source: string;
  superOptions: string;
}

/** Octal escapes (\040 for space …) as the kernel writes them in mountinfo. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const parts = line.split(' ');
    const dash = parts.indexOf('-');
    if (dash < 6) continue;
    out.push({
      mountId: Number(parts[0]),
      parentId: Number(parts[1]),
      root: unescapeMountPath(parts[3]!),
      mountPoint: unescapeMountPath(parts[4]!),
      optional: parts.slice(6, dash),
      fsType: parts[dash + 1]!,
      source: unescapeMountPath(parts[dash + 2] ?? ''),
      superOptions: parts[dash + 3] ?? '',
    });
  }
  return out;
}

/** The mount that holds `path`: the longest mount point covering it (the last one when stacked). */
export function mountOf(path: string, mounts: MountInfo[]): MountInfo | undefined {
  let best: MountInfo | undefined;
  for (const m of mounts) {
    const mp = m.mountPoint;
    const covers = mp === '/' || path === mp || path.startsWith(mp.endsWith('/') ? mp : mp + '/');
    if (covers && (!best || mp.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

export async function mountTable(): Promise<MountInfo[]> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

/** Mount points at or under `dir`, deepest first (the order to unmount them). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  return (await mountTable())
    .map((m) => m.mountPoint)
    .filter((p) => p === dir || p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

export async function isMountPoint(path: string): Promise<boolean> {
  return (await mountTable()).some((m) => m.mountPoint === path);
}
