/**
 * Let the event loop run pending I/O callbacks (CRI calls, timers) before going on: for long
 * loops of synchronous work.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Cuts a long run of synchronous work (a QoS step's cgroupfs reads over every pod) into short
 * stretches on the CPU. `pause()` returns at once until `budgetMs` of wall time has passed since
 * the last pause, then waits for a timer (about 1 ms): with nothing else to do the event loop
 * blocks, so the thread leaves its CPU, and the tasks woken meanwhile run there.
 *
 * Yielding to the event loop alone (setImmediate) serves CRI calls in between but never frees
 * the CPU: the kernel saw berthd run for one 4–6 ms stretch per step (p99; ftrace, 3 pods), and a
 * task woken on that CPU waited behind it for up to the scheduler's slice (bench/colocation trace).
 */
/** berthd's periodic passes (QoS step, stats sampler): the longest stretch before a pause, ms. */
export const DEFAULT_SLICE_MS = 0.5;

export class CpuSlicer {
  private since = performance.now();
  /** Pauses taken (for tests and status). */
  pauses = 0;

  constructor(readonly budgetMs: number) {}

  /** Whether the budget is spent (the next pause() will wait). */
  due(): boolean {
    return performance.now() - this.since >= this.budgetMs;
  }

  async pause(): Promise<void> {
    if (!this.due()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
    this.pauses++;
    this.since = performance.now();
  }

  /** Start a new stretch (at the beginning of a run of work, after an idle time). */
  restart(): void {
    this.since = performance.now();
  }
}
