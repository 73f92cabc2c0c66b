/**
 * Cheap repeated reads of /proc files for the collectors (node /proc/stat, meminfo, PSI;
 * per-thread schedstat; pod net/dev): each file is opened once and re-read with pread at
 * offset 0, which makes the kernel generate fresh content (seq_file restarts at 0). One
 * syscall per read instead of open+read+close: ~1-3 µs instead of ~8 µs (net/dev through
 * readFileSync: ~20-30 µs). Cgroup files are read through src/cgroups (CgroupStatsReader).
 *
 * Descriptors not read during the last `keepSweeps` sweeps are closed at sweep() (a collector
 * sweeps after each pass; forgetDir() closes a directory's at once), and at most `maxOpen`
 * stay open (beyond that, files are read the plain way). A cached descriptor that fails
 * (process gone: ESRCH) is closed and the file opened afresh once, so a path that names a new
 * file since is read correctly; errors are thrown as Node errors with their `code`, like
 * readFileSync's.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { KeptFds } from '../util/kept-fds.js';
import { PreadBuffer } from '../util/pread.js';

export interface KernelFilesOptions {
  /** Most descriptors kept open at once (default 4096). */
  maxOpen?: number;
  /** A descriptor not read during this many sweeps is closed (default 12). */
  keepSweeps?: number;
}

const dirOf = (path: string) => path.slice(0, path.lastIndexOf('/'));

export class KernelFiles {
  private readonly fds: KeptFds<string>;
  private readonly pread = new PreadBuffer();

  constructor(opts: KernelFilesOptions = {}) {
    this.fds = new KeptFds(opts.maxOpen ?? 4096, Math.max(1, opts.keepSweeps ?? 12));
  }

  /** Number of descriptors currently cached. */
  get size(): number {
    return this.fds.size;
  }

  /** The whole file as text (latin1: kernel files are ASCII). */
  read(path: string): string {
    const cached = this.fds.get(path);
    if (cached !== undefined) {
      try {
        return this.readFd(cached);
      } catch {
        this.fds.drop(path);
        // Fall through: the path may name a new file now (reused pid).
      }
    }
    const fd = openSync(path, constants.O_RDONLY);
    let keep = false;
    try {
      const text = this.readFd(fd);
      keep = this.fds.keep(path, fd);
      return text;
    } finally {
      if (!keep) closeSync(fd);
    }
  }

  private readFd(fd: number): string {
    return this.pread.text(this.pread.read(fd));
  }

  /** Call after each pass: closes descriptors not read during the last `keepSweeps` passes. */
  sweep(): void {
    this.fds.sweep();
  }

  /** Close descriptors of files directly in directories ending with `suffix` ("/proc/123/net"). */
  forgetDir(suffix: string): void {
    this.fds.dropWhere((path) => dirOf(path).endsWith(suffix));
  }

  close(): void {
    this.fds.close();
  }
}

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
