import { describe, expect, it } from 'vitest';
import { CounterWindow, ratesBetween, type CounterPoint } from '../../../src/sli/window.js';

const pt = (atMs: number, x: Partial<CounterPoint> = {}): CounterPoint => ({ atMs, source: '/a', ...x });

describe('counter window rates', () => {
  it('derives cores, throttling ratio, PSI fractions, wait and event counts', () => {
    const r = ratesBetween(
      pt(0, { cpuNs: 0, periods: 100, throttledPeriods: 10, cpuSomeUs: 0, memorySomeUs: 0, ioSomeUs: 5, schedWaitNs: 0, oomKills: 1, memoryHigh: 0 }),
      pt(2000, { cpuNs: 1.5e9, periods: 120, throttledPeriods: 20, cpuSomeUs: 400_000, memorySomeUs: 0, ioSomeUs: 5, schedWaitNs: 2e8, oomKills: 3, memoryHigh: 4 }),
    )!;
    expect(r.spanSeconds).toBe(2);
    expect(r.cpuCores).toBeCloseTo(0.75);
    expect(r.cpuThrottledRatio).toBeCloseTo(0.5);
    expect(r.cpuPressure).toBeCloseTo(0.2);
    expect(r.memoryPressure).toBe(0);
    expect(r.ioPressure).toBe(0);
    expect(r.schedWaitRatio).toBeCloseTo(0.1);
    expect(r.oomKills).toBe(2);
    expect(r.memoryHighEvents).toBe(4);
  });

  it('leaves out what is missing or went backwards, and no periods means no throttling', () => {
    const r = ratesBetween(pt(0, { cpuNs: 5e9, periods: 7, throttledPeriods: 0 }), pt(1000, { cpuNs: 1e9, periods: 7, throttledPeriods: 0 }))!;
    expect(r.cpuCores).toBeUndefined();
    expect(r.cpuThrottledRatio).toBe(0);
    expect(r.cpuPressure).toBeUndefined();
    expect(ratesBetween(pt(5), pt(5))).toBeUndefined();
  });

  it('keeps one base point at or before the window start, and restarts when the cgroup changes', () => {
    const w = new CounterWindow(10_000);
    expect(w.rates('c')).toBeUndefined();
    for (let t = 0; t <= 30_000; t += 1000) w.push('c', pt(t, { cpuNs: t * 1e6 })); // 1 core
    const r = w.rates('c')!;
    expect(r.spanSeconds).toBe(10);
    expect(r.cpuCores).toBeCloseTo(1);
    w.push('c', pt(29_000, { cpuNs: 0 })); // out of order: ignored
    expect(w.rates('c')!.cpuCores).toBeCloseTo(1);
    w.push('c', { atMs: 31_000, source: '/b', cpuNs: 0 });
    expect(w.rates('c')).toBeUndefined();
    w.retain(new Set());
    expect(w.rates('c')).toBeUndefined();
  });

  it('takes each counter from the oldest point that has it (collectors on other intervals fill in later)', () => {
    const w = new CounterWindow(60_000);
    w.push('c', pt(0, { cpuNs: 0 }));
    w.push('c', pt(1000, { cpuNs: 1e9, schedWaitNs: 0 }));
    expect(w.rates('c')!.schedWaitRatio).toBeUndefined();
    w.push('c', pt(3000, { cpuNs: 3e9, schedWaitNs: 1e9 }));
    const r = w.rates('c')!;
    expect(r.cpuCores).toBeCloseTo(1);
    expect(r.schedWaitRatio).toBeCloseTo(0.5);
  });
});
