/**
 * The collectors' kernel-file helpers: KernelFiles (kept descriptors, src/util/kernel-files.ts)
 * and cpuMark, the calling thread's own CPU time.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';

export { KernelFiles, type KernelFilesOptions } from '../util/kernel-files.js';

let threadStat: { fd: number } | null | undefined;
const statBuf = Buffer.allocUnsafe(128);

/**
 * CPU time of the calling thread in ns: the first field of /proc/thread-self/schedstat (read
 * over a cached descriptor, right after getrusage has brought it up to date), so that the
 * collectors' own CPU does not include what V8's compiler and GC threads do meanwhile. Falls
 * back to the process's CPU time (getrusage) when the kernel keeps no per-task scheduler
 * statistics (the file reads zeros). Costs two syscalls.
 */
export function cpuMark(): number {
  if (threadStat === undefined) {
    threadStat = null;
    try {
      const fd = openSync('/proc/thread-self/schedstat', constants.O_RDONLY);
      const run = readRun(fd);
      if (run > 0) threadStat = { fd };
      else closeSync(fd);
    } catch {
      /* no procfs: process CPU */
    }
  }
  // getrusage (process.cpuUsage) brings the calling thread's runtime up to now; without it the
  // file shows the runtime as of the last scheduler tick or switch (a short pass reads as ~0).
  const u = process.cpuUsage();
  if (threadStat) {
    try {
      return readRun(threadStat.fd);
    } catch {
      threadStat = null;
    }
  }
  return (u.user + u.system) * 1000;
}

function readRun(fd: number): number {
  const n = readSync(fd, statBuf, 0, statBuf.length, 0);
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = statBuf[i]! - 48;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
  }
  return v;
}

/** CPU time (ns) the calling thread used since `mark` (a cpuMark() value). */
export function cpuNsSince(mark: number): bigint {
  return BigInt(Math.max(0, cpuMark() - mark));
}
