import { describe, expect, it } from 'vitest';
import { advanceWait, detectSchedstat } from '../../../src/sli/schedstat.js';
import { parseSchedStat } from '../../../src/sli/proc.js';

const reader = (files: Record<string, string>) => ({
  read(path: string) {
    const v = files[path];
    if (v === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return v;
  },
});

describe('schedstat', () => {
  it('parses "<run ns> <wait ns> <slices>"', () => {
    expect(parseSchedStat('113000 92969 2\n')).toEqual({ runNs: 113000, waitNs: 92969, slices: 2 });
    expect(parseSchedStat('1 2')).toBeUndefined();
    expect(parseSchedStat('a b c')).toBeUndefined();
  });

  it('is available when our own schedstat has numbers, and notes a missing sysctl', () => {
    const a = detectSchedstat(reader({ '/p/self/schedstat': '5 6 7\n' }), '/p', { available: false, reason: 'no sysctl' });
    expect(a.available).toBe(true);
    expect(a.reason).toMatch(/no sysctl/);
  });

  it('is unavailable, with the reason, when the file reads zeros or is missing', () => {
    const zeros = detectSchedstat(reader({ '/p/self/schedstat': '0 0 0\n' }), '/p');
    expect(zeros).toMatchObject({ available: false });
    expect(zeros.reason).toMatch(/zeros/);
    const none = detectSchedstat(reader({}), '/p');
    expect(none.available).toBe(false);
    expect(none.reason).toMatch(/CONFIG_SCHED_INFO/);
  });

  it('accumulates per-thread wait into a monotonic counter as threads come and go', () => {
    let c = advanceWait(undefined, new Map([[1, 100], [2, 50]]));
    expect(c).toMatchObject({ totalNs: 150, tasks: 2 });
    c = advanceWait(c, new Map([[1, 130], [3, 20]])); // 2 exited, 3 is new
    expect(c.totalNs).toBe(200);
    c = advanceWait(c, new Map([[1, 120]])); // a reading going backwards adds nothing
    expect(c.totalNs).toBe(200);
    c = advanceWait(c, new Map());
    expect(c).toMatchObject({ totalNs: 200, tasks: 0 });
  });
});
