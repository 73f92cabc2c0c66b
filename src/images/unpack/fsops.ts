import * as fs from 'node:fs';
import { promisify } from 'node:util';

/** Recursive removal of a directory a later entry replaces (rare; async as it may be big). */
export const rm = promisify(fs.rm);

/** Write all of `buf` at `position`, looping over short writes. */
export function writeAll(fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = 0;
    const step = (): void => {
      fs.write(fd, buf, done, buf.length - done, position + done, (err, n) => {
        if (err) return reject(err);
        done += n;
        if (done >= buf.length) resolve();
        else if (n === 0) reject(new Error('write returned 0 bytes'));
        else step();
      });
    };
    step();
  });
}

/** O_CREAT|O_EXCL|O_NOFOLLOW: never open something that is already there (or a symlink). */
export const CREATE_FLAGS =
  fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/**
 * The process umask, read from /proc (process.umask() without arguments is deprecated
 * because it briefly changes the mask). Read once per layer, not cached for the process:
 * whoever embeds us may change the umask. Unknown → 0o777, which makes callers always chmod.
 */
export function currentUmask(): number {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? parseInt(m[1]!, 8) : 0o777;
  } catch {
    return 0o777;
  }
}
