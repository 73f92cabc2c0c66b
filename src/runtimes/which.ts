import { access, constants } from 'node:fs/promises';
import { delimiter, join, isAbsolute } from 'node:path';

/** Resolve a binary like the shell does: absolute paths as-is, names through PATH. */
export async function which(bin: string, path = process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'): Promise<string | undefined> {
  const candidates = isAbsolute(bin) || bin.includes('/') ? [bin] : path.split(delimiter).filter(Boolean).map((d) => join(d, bin));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  return undefined;
}
