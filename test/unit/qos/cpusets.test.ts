/** Exclusive CPU allocation for LSE/LSR and the BE cpuset. */
import { describe, expect, it } from 'vitest';
import { allocateExclusive, beCpuset, exclusiveCpuCount, formatCpus } from '../../../src/qos/math/cpusets.js';

describe('allocateExclusive', () => {
  const online = [0, 1, 2, 3];

  it('takes the highest free CPUs and keeps the shared pool minimum', () => {
    const a = allocateExclusive(online, [{ key: 'a', cpus: 2 }, { key: 'b', cpus: 2 }], new Map(), 1);
    expect(a.assigned.get('a')).toEqual([2, 3]);
    expect(a.assigned.has('b')).toBe(false);
    expect(a.refused[0]!.key).toBe('b');
    expect(a.shared).toEqual([0, 1]);
  });

  it('keeps previous assignments so incumbents never move', () => {
    const prev = new Map([['b', [1]]]);
    const a = allocateExclusive(online, [{ key: 'a', cpus: 1 }, { key: 'b', cpus: 1 }], prev, 1);
    expect(a.assigned.get('b')).toEqual([1]);
    expect(a.assigned.get('a')).toEqual([3]);
    expect(a.shared).toEqual([0, 2]);
  });

  it('honours CPUs the kubelet pinned, and refuses overlapping pins', () => {
    const a = allocateExclusive(online, [{ key: 'p', cpus: 1, pinned: [2] }, { key: 'q', cpus: 1, pinned: [2] }], new Map(), 1);
    expect(a.assigned.get('p')).toEqual([2]);
    expect(a.refused.map((r) => r.key)).toEqual(['q']);
  });

  it('derives the CPU count from the limit, else shares', () => {
    expect(exclusiveCpuCount(150_000, 100_000, undefined)).toBe(2);
    expect(exclusiveCpuCount(100_000, 100_000, undefined)).toBe(1);
    expect(exclusiveCpuCount(undefined, undefined, 2048)).toBe(2);
    expect(exclusiveCpuCount(undefined, undefined, undefined)).toBe(1);
  });
});

describe('BE cpuset', () => {
  it('uses the whole CPUs the allowance covers (rounded down, at least one), from the high end', () => {
    expect(beCpuset([0, 1, 2, 3], 0.5)).toEqual([3]);
    expect(beCpuset([0, 1, 2, 3], 1)).toEqual([3]);
    expect(beCpuset([0, 1, 2, 3], 2.2)).toEqual([2, 3]);
    expect(beCpuset([0, 1, 2, 3], 2.9999999)).toEqual([1, 2, 3]);
    expect(beCpuset([0, 1], 9)).toEqual([0, 1]);
    expect(beCpuset([], 1)).toEqual([]);
  });

  it('formats lists like the kernel', () => {
    expect(formatCpus([3, 0, 1, 2, 5])).toBe('0-3,5');
    expect(formatCpus([1])).toBe('1');
  });
});
