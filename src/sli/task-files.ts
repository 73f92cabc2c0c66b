/**
 * Per-thread /proc/<tid>/schedstat reads for the schedstat collector, over descriptors cached
 * by thread id (numeric keys: no path string is built or hashed for a thread read before).
 * A thread not read during the last `keepSweeps` sweeps has exited or belongs to an idle
 * container, and its descriptor is closed; a read that fails (ESRCH: the thread exited, and
 * its id may be reused later) closes it at once.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { nthUint } from '../cgroups/lean-parse.js';

interface Entry {
  fd: number;
  gen: number;
}

export class TaskSchedFiles {
  private readonly open = new Map<number, Entry>();
  private readonly buf = Buffer.allocUnsafe(256);
  private gen = 0;

  constructor(
    private readonly procRoot = '/proc',
    private readonly maxOpen = 2048,
    private readonly keepSweeps = 2,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** The thread's cumulative run-queue wait in ns (second schedstat field), or undefined when it is gone. */
  waitNs(tid: number): number | undefined {
    const e = this.open.get(tid);
    if (e) {
      e.gen = this.gen;
      try {
        return nthUint(this.buf, readSync(e.fd, this.buf, 0, this.buf.length, 0), 1);
      } catch {
        this.drop(tid);
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
    if (this.open.size < this.maxOpen) this.open.set(tid, { fd, gen: this.gen });
    else closeSync(fd);
    return wait;
  }

  private drop(tid: number): void {
    const e = this.open.get(tid);
    if (!e) return;
    this.open.delete(tid);
    try {
      closeSync(e.fd);
    } catch {
      /* already closed */
    }
  }

  /** Call after each pass. */
  sweep(): void {
    this.gen++;
    for (const [tid, e] of this.open) if (this.gen - e.gen > this.keepSweeps) this.drop(tid);
  }

  close(): void {
    for (const tid of [...this.open.keys()]) this.drop(tid);
  }
}
