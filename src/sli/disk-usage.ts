/** Bytes and inodes under a directory (a container's writable layer), without following links. */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface DiskUsage {
  bytes: number;
  inodes: number;
}

/** Walk `dir`; hard-linked files count once. Vanishing entries are skipped. */
export async function diskUsage(dir: string): Promise<DiskUsage> {
  const seen = new Set<string>();
  let bytes = 0;
  let inodes = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    let names: string[];
    try {
      names = await readdir(d);
    } catch {
      continue;
    }
    for (const n of names) {
      const p = join(d, n);
      const st = await lstat(p).catch(() => undefined);
      if (!st) continue;
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1) {
        if (seen.has(key)) continue;
        seen.add(key);
      }
      inodes++;
      bytes += st.blocks * 512;
      if (st.isDirectory()) stack.push(p);
    }
  }
  return { bytes, inodes };
}
