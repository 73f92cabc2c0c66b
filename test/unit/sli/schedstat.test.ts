import { describe, expect, it } from 'vitest';
import { advanceWait, detectSchedstat, threadsToRead } from '../../../src/sli/schedstat.js';
import { parseNetDev, parseSchedStat } from '../../../src/sli/proc.js';

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

  it('reads every thread on a container\'s first pass, then new threads from their second pass on', () => {
    expect(threadsToRead([1, 2], undefined)).toEqual({ read: [1, 2], pending: new Set() });
    let c = advanceWait(undefined, new Map([[1, 100], [2, 50]]));
    let t = threadsToRead([1, 2, 3], c); // 3 is new: not read yet
    expect(t).toEqual({ read: [1, 2], pending: new Set([3]) });
    c = advanceWait(c, new Map([[1, 110], [2, 50]]), undefined, t.pending);
    expect(c).toMatchObject({ totalNs: 160, tasks: 3 });
    t = threadsToRead([1, 3, 4], c); // 3 listed again: read, with its whole wait; 4 is new
    expect(t).toEqual({ read: [1, 3], pending: new Set([4]) });
    c = advanceWait(c, new Map([[1, 120], [3, 30]]), undefined, t.pending);
    expect(c.totalNs).toBe(200);
    t = threadsToRead([1], c); // 4 lived for one pass only: never read
    expect(t.read).toEqual([1]);
  });
});

describe('/proc/<pid>/net/dev', () => {
  it('parses every interface\'s receive/transmit bytes and errors', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo: 10135414294  410169    0    0    0     0          0         0 10135414294  410169    0    0    0     0       0          0',
      '  eth0:    4096      10    3    0    0     0          0         0     8192      12    1    0    0     0       0          0',
      '  bad: 1 2 3',
      '',
    ].join('\n');
    expect(parseNetDev(text)).toEqual([
      { name: 'lo', rxBytes: 10135414294, rxErrors: 0, txBytes: 10135414294, txErrors: 0 },
      { name: 'eth0', rxBytes: 4096, rxErrors: 3, txBytes: 8192, txErrors: 1 },
    ]);
    expect(parseNetDev('')).toEqual([]);
  });
});

