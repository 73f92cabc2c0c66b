import { describe, expect, it } from 'vitest';
import { passesFor, phaseOf, planRead, unmoved } from '../../../src/sli/cadence.js';

const C = { fullEvery: 10, psiEvery: 5, slowEvery: 10 };

describe('sampler cadence', () => {
  it('a cgroup without a usable sample is read in full, slow and warm parts included', () => {
    expect(planRead(7, 3, { sample: false, psi: false }, C)).toEqual({ probeFirst: false, warm: true, slow: true });
  });

  it('a known cgroup is probed first, except on its full pass every fullEvery passes', () => {
    const plans = Array.from({ length: 20 }, (_, pass) => planRead(pass, 3, { sample: true, psi: true }, C));
    expect(plans.filter((p) => !p.probeFirst).length).toBe(2);
    expect(plans.filter((p) => p.warm).length).toBe(4);
    expect(plans.filter((p) => p.slow).length).toBe(2);
    expect(plans.findIndex((p) => !p.probeFirst)).toBe(7); // (7 + 3) % 10 === 0
    // Without PSI read yet, the warm parts are read now.
    expect(planRead(1, 3, { sample: true, psi: false }, C).warm).toBe(true);
  });

  it('phases spread the full passes of many cgroups over the passes', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `${i}`.padStart(64, 'c0ffee'));
    const fullAt = new Map<number, number>();
    for (const id of ids) {
      const pass = Array.from({ length: 10 }, (_, p) => p).find((p) => !planRead(p, phaseOf(id), { sample: true, psi: true }, C).probeFirst)!;
      fullAt.set(pass, (fullAt.get(pass) ?? 0) + 1);
    }
    expect(fullAt.size).toBeGreaterThan(5);
    expect(Math.max(...fullAt.values())).toBeLessThan(40);
    expect(phaseOf('abc')).toBe(phaseOf('abc'));
  });

  it('passes for a duration, at least one', () => {
    expect(passesFor(10_000, 1000)).toBe(10);
    expect(passesFor(10_000, 500)).toBe(20);
    expect(passesFor(10_000, 60_000)).toBe(1);
    expect(passesFor(10_000, 0)).toBe(10_000);
  });

  it('unmoved: same CPU and same memory usage; an unreadable CPU counter is never idle', () => {
    expect(unmoved({ cpuNs: 5, memoryBytes: 7 }, { cpuNs: 5, memoryBytes: 7 })).toBe(true);
    expect(unmoved({ cpuNs: 6, memoryBytes: 7 }, { cpuNs: 5, memoryBytes: 7 })).toBe(false);
    expect(unmoved({ cpuNs: 5, memoryBytes: 8 }, { cpuNs: 5, memoryBytes: 7 })).toBe(false);
    expect(unmoved({ cpuNs: 5 }, { cpuNs: 5 })).toBe(true); // no memory controller
    expect(unmoved({}, {})).toBe(false);
  });
});
