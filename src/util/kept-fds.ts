/**
 * Descriptors kept open between passes of a collector, by key (a path, a thread id). Each
 * pass ends with sweep(): a descriptor not used during the last `keepSweeps` passes is
 * closed (its file belongs to something gone or idle). At most `maxOpen` are kept.
 */
import { closeSync } from 'node:fs';

export class KeptFds<K> {
  private readonly open = new Map<K, { fd: number; gen: number }>();
  private gen = 0;

  constructor(
    private readonly maxOpen: number,
    private readonly keepSweeps: number,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** The kept descriptor for `key` (marked used this pass), or undefined. */
  get(key: K): number | undefined {
    const e = this.open.get(key);
    if (!e) return undefined;
    e.gen = this.gen;
    return e.fd;
  }

  /** Keep `fd` for `key` if there is room; false: the caller must close it. */
  keep(key: K, fd: number): boolean {
    if (this.open.size >= this.maxOpen) return false;
    this.open.set(key, { fd, gen: this.gen });
    return true;
  }

  drop(key: K): void {
    const e = this.open.get(key);
    if (!e) return;
    this.open.delete(key);
    try {
      closeSync(e.fd);
    } catch {
      /* already closed */
    }
  }

  /** Drop every key `test` accepts. */
  dropWhere(test: (key: K) => boolean): void {
    for (const key of [...this.open.keys()]) if (test(key)) this.drop(key);
  }

  /** Call after each pass. */
  sweep(): void {
    this.gen++;
    for (const [key, e] of this.open) if (this.gen - e.gen > this.keepSweeps) this.drop(key);
  }

  close(): void {
    this.dropWhere(() => true);
  }
}
