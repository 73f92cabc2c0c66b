/**
 * CpuSlicer (src/util/yield.ts): long synchronous work pauses only once its budget is spent, and
 * a pause leaves the CPU (the thread is on a CPU for far less than the time the pause takes).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CpuSlicer } from '../../src/util/yield.js';

/** This thread's time on a CPU (ns), from the kernel's schedstat. */
const threadCpuNs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
const spin = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('CpuSlicer', () => {
  it('returns at once within its budget, without letting other callbacks run', async () => {
    const s = new CpuSlicer(1000);
    let ran = false;
    setImmediate(() => (ran = true));
    for (let i = 0; i < 10; i++) await s.pause();
    expect(ran).toBe(false);
    expect(s.pauses).toBe(0);
  });

  it('pauses once the budget is spent', async () => {
    const s = new CpuSlicer(2);
    for (let i = 0; i < 20; i++) {
      spin(0.5);
      await s.pause();
    }
    // 20 × 0.5 ms of work with a 2 ms budget: a pause about every fourth call (more often when
    // the thread is preempted mid-spin; 20 without a budget).
    expect(s.pauses).toBeGreaterThanOrEqual(3);
    expect(s.pauses).toBeLessThanOrEqual(10);
  });

  it('leaves the CPU while it pauses', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    // A pause after every stretch: 40 of them, so the time paused outweighs the main thread's
    // own noise (JIT, GC: up to ~5 ms of CPU in a run like this).
    const s = new CpuSlicer(0.5);
    let pausedMs = 0;
    // The kernel's count of a running thread's CPU is brought up to date when it leaves the CPU:
    // read it just after a sleep, at both ends.
    await sleep(5);
    const c0 = threadCpuNs();
    for (let i = 0; i < 40; i++) {
      spin(0.5);
      const t0 = performance.now();
      await s.pause();
      pausedMs += performance.now() - t0;
    }
    await sleep(5);
    const cpuMs = (threadCpuNs() - c0) / 1e6;
    expect(s.pauses).toBeGreaterThanOrEqual(35);
    // A 1 ms timer is due at the next whole millisecond of the event loop's clock, so one pause
    // lasts anywhere from a few µs to just over 1 ms.
    expect(pausedMs).toBeGreaterThan(5);
    // Spinning through the pauses would have cost 20 ms + pausedMs.
    expect(cpuMs).toBeGreaterThanOrEqual(19);
    expect(cpuMs).toBeLessThan(20 + pausedMs / 2);
  });

  it('starts a new stretch on restart()', async () => {
    const s = new CpuSlicer(5);
    spin(6);
    s.restart();
    await s.pause();
    expect(s.pauses).toBe(0);
  });
});
