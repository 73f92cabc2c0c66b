/** BE allowance maths and the demand-aware split of the allowance among BE cgroups. */
import { describe, expect, it } from 'vitest';
import { beAllowance, coresToQuota, splitAllowance, MIN_SHARE_CORES } from '../../../src/qos/math/allowance.js';

const base = { capacityCores: 2, thresholdPercent: 65, nonBeUsedCores: 0, systemUsedCores: 0, minCores: 0.5, maxIncreaseCores: 0.2 };

describe('beAllowance', () => {
  it('is capacity × threshold − non-BE − system', () => {
    const a = beAllowance({ ...base, nonBeUsedCores: 0.4, systemUsedCores: 0.1 });
    expect(a.cores).toBeCloseTo(0.8, 6);
    expect(a.rawCores).toBeCloseTo(0.8, 6);
    expect(a.limitedBy).toBe('formula');
  });

  it('is floored at cpuSuppressMinCores, even when the formula goes negative', () => {
    const a = beAllowance({ ...base, thresholdPercent: 50, nonBeUsedCores: 1, systemUsedCores: 0.3 });
    expect(a.rawCores).toBeCloseTo(-0.3, 6);
    expect(a.cores).toBe(0.5);
    expect(a.limitedBy).toBe('floor');
  });

  it('never exceeds the node, nor a floor above the node', () => {
    expect(beAllowance({ ...base, thresholdPercent: 100 }).cores).toBe(2);
    expect(beAllowance({ ...base, minCores: 8, nonBeUsedCores: 2 }).cores).toBe(2);
  });

  it('regrows by at most maxIncreaseCores per step but shrinks at once', () => {
    const up = beAllowance({ ...base, previousCores: 0.5 });
    expect(up.cores).toBeCloseTo(0.7, 6);
    expect(up.limitedBy).toBe('regrowth');
    const down = beAllowance({ ...base, nonBeUsedCores: 0.7, previousCores: 1.3 });
    expect(down.cores).toBeCloseTo(0.6, 6);
    expect(down.limitedBy).toBe('formula');
  });

  it('scales by the PSI factor before the floor', () => {
    expect(beAllowance({ ...base, factor: 0.5 }).cores).toBeCloseTo(0.65, 6);
    expect(beAllowance({ ...base, factor: 0.1 }).cores).toBe(0.5);
  });
});

describe('splitAllowance', () => {
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

  it('gives a single cgroup the whole allowance', () => {
    expect(splitAllowance(0.5, [{ id: 'a' }]).get('a')).toBe(0.5);
  });

  it('splits evenly between hungry cgroups and always sums to the allowance', () => {
    const m = splitAllowance(1, [
      { id: 'a', usageCores: 0.5, lastShareCores: 0.5 },
      { id: 'b', usageCores: 0.5, lastShareCores: 0.5 },
    ]);
    expect(m.get('a')).toBeCloseTo(0.5, 3);
    expect(sum(m)).toBeLessThanOrEqual(1);
    expect(sum(m)).toBeGreaterThan(0.995);
  });

  it('gives an idle cgroup its usage plus headroom and the rest to the hungry one', () => {
    const m = splitAllowance(1, [
      { id: 'busy', usageCores: 0.5, lastShareCores: 0.5 },
      { id: 'idle', usageCores: 0.01, lastShareCores: 0.5 },
    ]);
    expect(m.get('busy')!).toBeGreaterThan(0.85);
    expect(m.get('idle')!).toBeLessThan(0.15);
    expect(sum(m)).toBeLessThanOrEqual(1);
    expect(sum(m)).toBeGreaterThan(0.995);
  });

  it('respects each container’s own limit and spreads what it cannot take', () => {
    const m = splitAllowance(1.5, [
      { id: 'capped', limitCores: 0.2 },
      { id: 'free' },
    ]);
    expect(m.get('capped')).toBeCloseTo(0.2, 3);
    expect(m.get('free')).toBeCloseTo(1.3, 3);
  });

  it('never goes below the kernel minimum per cgroup', () => {
    const m = splitAllowance(0.01, [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    for (const v of m.values()) expect(v).toBeGreaterThanOrEqual(MIN_SHARE_CORES);
  });

  it('converts cores to a CFS quota, at least 1 ms', () => {
    expect(coresToQuota(0.5, 100_000)).toBe(50_000);
    expect(coresToQuota(0.001, 100_000)).toBe(1000);
  });
});
