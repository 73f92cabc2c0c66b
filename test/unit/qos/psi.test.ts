/** The PSI feedback controller and its signal. */
import { describe, expect, it } from 'vitest';
import { pickPressure, pressurePercent, psiStep } from '../../../src/qos/math/psi.js';

const cfg = { targetPercent: 20, tightenFactor: 0.7, relaxPercent: 10, minFactor: 0.05 };

describe('psiStep', () => {
  it('tightens multiplicatively while pressure is above target, down to minFactor', () => {
    let f = 1;
    const seen: number[] = [];
    for (let i = 0; i < 12; i++) {
      const s = psiStep(f, 35, cfg);
      expect(s.action).toBe('tighten');
      f = s.factor;
      seen.push(f);
    }
    expect(seen[0]).toBeCloseTo(0.7, 6);
    expect(seen[1]).toBeCloseTo(0.49, 6);
    expect(f).toBe(0.05);
  });

  it('relaxes additively below half the target, holds in between, stops at 1', () => {
    expect(psiStep(0.5, 5, cfg)).toEqual({ factor: 0.6, action: 'relax' });
    expect(psiStep(0.5, 15, cfg)).toEqual({ factor: 0.5, action: 'hold' });
    expect(psiStep(0.95, 0, cfg)).toEqual({ factor: 1, action: 'relax' });
    expect(psiStep(1, 0, cfg)).toEqual({ factor: 1, action: 'hold' });
  });

  it('holds without a signal', () => {
    expect(psiStep(0.4, undefined, cfg)).toEqual({ factor: 0.4, action: 'no-signal' });
  });

  it('turns PSI totals into a stall percentage over the interval', () => {
    expect(pressurePercent(1_000_000, 1_250_000, 1000)).toBeCloseTo(25, 6);
    expect(pressurePercent(undefined, 5, 1000)).toBeUndefined();
    expect(pressurePercent(10, 5, 1000)).toBe(0);
    expect(pressurePercent(0, 5_000_000, 1000)).toBe(100);
  });

  it('steers by LS pods where per-cgroup PSI exists, else by the node', () => {
    expect(pickPressure('auto', true, [3, 30, 7], 50)).toEqual({ value: 30, from: 'pods' });
    expect(pickPressure('auto', true, [], 50)).toEqual({ value: 0, from: 'pods' });
    expect(pickPressure('auto', false, [30], 50)).toEqual({ value: 50, from: 'node' });
    expect(pickPressure('pods', false, [30], 50)).toEqual({ from: 'none' });
    expect(pickPressure('node', true, [30], undefined)).toEqual({ from: 'none' });
  });
});
