/**
 * Per-thread /proc/<tid>/schedstat reads for the schedstat collector, over descriptors cached
 * by thread id (numeric keys: no path string is built or hashed for a thread read before).
 * A thread not read during the last `keepSweeps` sweeps has exited or belongs to an idle
 * container, and its descriptor is closed; a read that fails (ESRCH: the thread exited, and
 * its id may be reused later) closes it at once.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { nthUint } from '../cgroups/lean-parse.js';
import { KeptFds } from '../util/kept-fds.js';

export class TaskSchedFiles {
  private readonly fds: KeptFds<number>;
  private readonly buf = Buffer.allocUnsafe(256);

  constructor(
    private readonly procRoot = '/proc',
    maxOpen = 2048,
    keepSweeps = 2,
  ) {
    this.fds = new KeptFds(maxOpen, keepSweeps);
  }

  get size(): number {
    return this.fds.size;
  }

  /** The thread's cumulative run-queue wait in ns (second schedstat field), or undefined when it is gone. */
  waitNs(tid: number): number | undefined {
    const kept = this.fds.get(tid);
    if (kept !== undefined) {
      try {
        return nthUint(this.buf, readSync(kept, this.buf, 0, this.buf.length, 0), 1);
      } catch {
        this.fds.drop(tid);
        return undefined;
      }
    }
    let fd: number;
    try {
      fd = openSync(`${this.procRoot}/${tid}/schedstat`, constants.O_RDONLY);
    } catch {
      return undefined; // exited between the list and the read
    }
    let wait: number | undefined;
    try {
      wait = nthUint(this.buf, readSync(fd, this.buf, 0, this.buf.length, 0), 1);
    } catch {
      closeSync(fd);
      return undefined;
    }
    if (!this.fds.keep(tid, fd)) closeSync(fd);
    return wait;
  }

  /** Call after each pass. */
  sweep(): void {
    this.fds.sweep();
  }

  close(): void {
    this.fds.close();
  }
}
