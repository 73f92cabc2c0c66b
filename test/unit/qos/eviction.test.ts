/** Eviction order, how many to evict, the memory phase machine and the squeeze target. */
import { describe, expect, it } from 'vitest';
import { evictionOrder, memoryPhase, pickEvictions, squeezeBytes } from '../../../src/qos/math/eviction.js';

const MiB = 1024 * 1024;
const c = (id: string, priority: number, wsMiB: number, created = '1') => ({ podId: `p-${id}`, containerId: id, name: id, priority, workingSetBytes: wsMiB * MiB, createdAtNs: created });

describe('eviction order', () => {
  it('goes by priority (lowest first), then working set (largest first), then newest', () => {
    const order = evictionOrder([c('a', 10, 100), c('b', 0, 50), c('c', 0, 200), c('d', 0, 50, '5'), c('e', -5, 1)]);
    expect(order.map((x) => x.containerId)).toEqual(['e', 'c', 'd', 'b', 'a']);
  });

  it('evicts only as many as bring usage under the threshold', () => {
    const total = 1000 * MiB;
    const picked = pickEvictions(800 * MiB, total, 70, [c('small', 0, 30), c('big', 0, 80), c('vip', 100, 500)]);
    expect(picked.map((x) => x.containerId)).toEqual(['big', 'small']);
    expect(pickEvictions(600 * MiB, total, 70, [c('x', 0, 10)])).toEqual([]);
  });

  it('evicts everything in order when the threshold cannot be reached', () => {
    const picked = pickEvictions(900 * MiB, 1000 * MiB, 1, [c('hi', 5, 10), c('lo', 1, 10)]);
    expect(picked.map((x) => x.containerId)).toEqual(['lo', 'hi']);
  });
});

describe('memory phase', () => {
  it('squeezes on the first step above, evicts from the second, releases below threshold − release', () => {
    let s = { stepsAbove: 0 };
    const step = (pct: number) => {
      const r = memoryPhase(pct, 70, 5, s);
      s = r.next;
      return r.phase;
    };
    expect(step(60)).toBe('normal');
    expect(step(75)).toBe('squeeze');
    expect(step(75)).toBe('evict');
    expect(step(68)).toBe('squeeze');
    expect(step(64)).toBe('normal');
    expect(step(71)).toBe('squeeze');
  });

  it('squeezes to the working set plus slack, page aligned, within the own limit', () => {
    expect(squeezeBytes(100 * MiB, 300 * MiB, undefined, 4096)).toBe(104 * MiB);
    expect(squeezeBytes(100 * MiB, 300 * MiB, 50 * MiB, 4096)).toBe(50 * MiB);
    expect(squeezeBytes(1 * MiB, 1 * MiB, undefined, 4096)).toBe(5 * MiB);
    expect(squeezeBytes(100 * MiB + 123, 200 * MiB, undefined, 4096) % 4096).toBe(0);
  });
});
