/**
 * Name reservation, as the CRI requires: the same pod/container metadata may not be used by
 * two live objects. Reserving an already reserved name for another id fails naming the holder.
 */
import { alreadyExists } from '../util/errors.js';

export class NameIndex {
  private readonly byName = new Map<string, string>();

  constructor(private readonly kind: string) {}

  reserve(name: string, id: string): void {
    const holder = this.byName.get(name);
    if (holder !== undefined && holder !== id) {
      throw alreadyExists(`${this.kind} name ${JSON.stringify(name)} is reserved by ${this.kind} ${holder}; remove it first`);
    }
    this.byName.set(name, id);
  }

  release(name: string, id?: string): void {
    if (id === undefined || this.byName.get(name) === id) this.byName.delete(name);
  }

  holder(name: string): string | undefined {
    return this.byName.get(name);
  }
}
