/**
 * A crash-safe keyed store of JSON records: one file per record under a directory, each
 * write atomic (write, fsync, rename, fsync dir), all records loaded at start. Callers
 * keep the in-memory objects; `save` persists the current value.
 */
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic, syncDir } from '../util/atomic.js';
import { logger } from '../util/log.js';

const ID_RE = /^[a-f0-9]{64}$/;

export class RecordStore<T extends { id: string }> {
  private readonly items = new Map<string, T>();
  private readonly log;

  constructor(
    readonly dir: string,
    private readonly kind: string,
    private readonly revive: (raw: unknown) => T = (raw) => raw as T,
  ) {
    this.log = logger('store', { kind });
  }

  /** Load every record on disk; unreadable ones are logged and moved aside, never fatal. */
  async load(): Promise<T[]> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json')) {
        if (name.startsWith('.')) await rm(join(this.dir, name), { force: true }); // temp leftovers
        continue;
      }
      const id = name.slice(0, -5);
      if (!ID_RE.test(id)) continue;
      try {
        const rec = this.revive(JSON.parse(await readFile(join(this.dir, name), 'utf8')));
        this.items.set(id, rec);
      } catch (err) {
        this.log.error({ err, file: name }, `unreadable ${this.kind} record kept aside as ${name}.bad`);
        await rm(join(this.dir, `${name}.bad`), { force: true });
        await rename(join(this.dir, name), join(this.dir, `${name}.bad`)).catch(() => {});
      }
    }
    return [...this.items.values()];
  }

  get(id: string): T | undefined {
    return this.items.get(id);
  }

  all(): T[] {
    return [...this.items.values()];
  }

  /** Persist `rec` (and make it visible in memory). */
  async save(rec: T): Promise<void> {
    this.items.set(rec.id, rec);
    await writeJsonAtomic(join(this.dir, `${rec.id}.json`), rec, 0o600);
  }

  async delete(id: string): Promise<void> {
    this.items.delete(id);
    await rm(join(this.dir, `${id}.json`), { force: true });
    await syncDir(this.dir);
  }

  /** Find ids by unique prefix, as crictl users type them. */
  matchPrefix(prefix: string): T[] {
    if (this.items.has(prefix)) return [this.items.get(prefix)!];
    if (!prefix) return [];
    return this.all().filter((r) => r.id.startsWith(prefix));
  }
}
