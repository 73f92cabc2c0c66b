/**
 * Cheap repeated reads of kernel pseudo-files: /proc for the collectors (node /proc/stat,
 * meminfo, PSI; per-thread schedstat; pod net/dev), cgroup knob files for the QoS executor's
 * check of every managed knob each step. Each file is opened once and re-read with pread at
 * offset 0, which makes the kernel generate fresh content (seq_file restarts at 0). One
 * syscall per read instead of open+read+close: ~1-3 µs instead of ~8 µs (net/dev through
 * readFileSync: ~20-30 µs; a cgroup v1 knob file ~10 µs against ~2.5 µs kept). Cgroup stat
 * files have their own reader (src/cgroups/stats-reader.ts).
 *
 * Descriptors not read during the last `keepSweeps` sweeps are closed at sweep() (a collector
 * sweeps after each pass; forgetDir() closes a directory's at once), and at most `maxOpen`
 * stay open (beyond that, files are read the plain way). A cached descriptor that fails
 * (process gone: ESRCH) is closed and the file opened afresh once, so a path that names a new
 * file since is read correctly; errors are thrown as Node errors with their `code`, like
 * readFileSync's.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { KeptFds } from './kept-fds.js';
import { PreadBuffer } from './pread.js';

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
