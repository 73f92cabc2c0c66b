import { describe, expect, it } from 'vitest';
import { expandCpuList, normalizeCpuList, parseCpuList } from '../../../src/cgroups/cpuset.js';
import { BerthError, Code } from '../../../src/util/errors.js';

describe('cpuset lists', () => {
  it('normalises to the kernel form', () => {
    expect(normalizeCpuList('0,1')).toBe('0-1');
    expect(normalizeCpuList('3,1,2,0')).toBe('0-3');
    expect(normalizeCpuList('0-2,4,6-7,5')).toBe('0-2,4-7');
    expect(normalizeCpuList('0-3,2-5')).toBe('0-5');
    expect(normalizeCpuList('7')).toBe('7');
    expect(normalizeCpuList('\n')).toBe('');
    expect(normalizeCpuList(' 0 , 2 ')).toBe('0,2');
  });
  it('expands lists', () => {
    expect(expandCpuList('0-2,5')).toEqual([0, 1, 2, 5]);
    expect(parseCpuList('')).toEqual([]);
  });
  it('rejects bad syntax with INVALID_ARGUMENT', () => {
    for (const bad of ['a', '1-', '3-1', '1,,2', '-1', '0-99999999']) {
      try {
        normalizeCpuList(bad, 'cpusetCpus');
        expect.fail(`accepted ${bad}`);
      } catch (e) {
        expect((e as BerthError).code).toBe(Code.INVALID_ARGUMENT);
        expect((e as Error).message).toContain('cpusetCpus');
      }
    }
  });
});
