/**
 * Handles items strictly in arrival order where some need asynchronous work first (SPDY
 * header frames wait for decompression): while one is pending, later ones queue behind it.
 */
export class OrderedInbox<T> {
  private readonly queue: T[] = [];
  private busy = false;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  /** `handle` returns a promise when the item needs async work; a rejection goes to onError
   * and stops the inbox. */
  constructor(
    private readonly handle: (item: T) => Promise<void> | undefined,
    private readonly onError: (err: Error) => void,
  ) {}

  push(items: Iterable<T>): void {
    for (const i of items) this.queue.push(i);
    this.drain();
  }

  /** Run `fn` once everything queued so far has been handled (at once if idle). */
  whenIdle(fn: () => void): void {
    if (this.idle) fn();
    else this.idleWaiters.push(fn);
  }

  /** Drop what is queued and handle nothing more; idle waiters run now. */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.busy = false;
    this.runIdleWaiters();
  }

  get idle(): boolean {
    return !this.busy && (this.queue.length === 0 || this.stopped);
  }

  private drain(): void {
    while (!this.busy && !this.stopped && this.queue.length > 0) {
      const item = this.queue.shift()!;
      let pending: Promise<void> | undefined;
      try {
        pending = this.handle(item);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      if (pending) {
        this.busy = true;
        pending.then(
          () => {
            this.busy = false;
            this.drain();
          },
          (err: Error) => this.fail(err),
        );
      }
    }
    if (this.idle) this.runIdleWaiters();
  }

  private fail(err: Error): void {
    this.stop();
    this.onError(err);
  }

  private runIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
