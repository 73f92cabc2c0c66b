/** The PSI feedback controller and its signal. */
import { describe, expect, it } from 'vitest';
import { pickPressure, pressurePercent, psiStep, smoothPressure } from '../../../src/qos/math/psi.js';

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

  it('steers by the mean stall: one-second jumps around a mean under the target do not sink the factor', () => {
    // A fork-heavy LS pod: stall alternating 12 % and 24 % (mean 18 %, target 20 %), one period a second.
    const run = (windowMs: number) => {
      let f = 1;
      let mean: number | undefined;
      for (let i = 0; i < 60; i++) {
        const last = i % 2 ? 24 : 12;
        mean = smoothPressure(mean, last, 1000, windowMs);
        f = psiStep(f, mean, cfg, last).factor;
      }
      return f;
    };
    expect(run(10_000)).toBe(1);
    // Steered by single periods (window 0), the same load drives BE to the floor.
    expect(run(0)).toBe(0.05);
  });

  it('tightens at once on a period over twice the target, and on a mean above it', () => {
    expect(psiStep(1, 5, cfg, 41)).toEqual({ factor: 0.7, action: 'tighten' });
    expect(psiStep(1, 5, cfg, 39)).toEqual({ factor: 1, action: 'hold' });
    // A sustained 30 % stall from a quiet start crosses the target after about a window (as avg10 would).
    let mean: number | undefined = 2;
    const crossed: number[] = [];
    for (let i = 1; i <= 15; i++) {
      mean = smoothPressure(mean, 30, 1000, 10_000);
      if (mean! > cfg.targetPercent) crossed.push(i);
    }
    expect(crossed[0]).toBe(11);
  });

  it('weighs each period by its length against the window', () => {
    expect(smoothPressure(undefined, 30, 1000, 10_000)).toBe(30);
    expect(smoothPressure(10, 30, 1000, 0)).toBe(30);
    expect(smoothPressure(10, 30, 10_000, 10_000)).toBeCloseTo(10 + 20 * (1 - Math.exp(-1)), 6);
    expect(smoothPressure(10, undefined, 1000, 10_000)).toBeUndefined();
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
