import { describe, expect, it } from 'vitest';
import { firstKeyed, keyedValue, needle, nthUint, uintAt, uintFile, uintList } from '../../../src/cgroups/lean-parse.js';
import {
  cfsValuesV1,
  cpuSplitV1,
  cpuStatsV2,
  maxOpenFromLimits,
  memoryEventsV2,
  memStatValues,
  oomControlV1,
  usageNsV2,
} from '../../../src/cgroups/stat-parse.js';
import { parseFlatKeyed } from '../../../src/cgroups/parse.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('lean parsers (bytes)', () => {
  it('reads one unsigned integer file, rejecting anything else', () => {
    expect(uintFile(b('123456789012\n'), 13)).toBe(123456789012);
    expect(uintFile(b('0\n'), 2)).toBe(0);
    expect(uintFile(b('max\n'), 4)).toBeUndefined();
    expect(uintFile(b('-1\n'), 3)).toBeUndefined();
    expect(uintFile(b('\n'), 1)).toBeUndefined();
    expect(uintFile(b('12 34\n'), 6)).toBeUndefined();
    // Only the first `len` bytes count (the buffer is reused).
    expect(uintFile(b('42\n999999'), 3)).toBe(42);
    // Exact below 2^53, like Number().
    expect(uintFile(b('9007199254740991\n'), 17)).toBe(Number('9007199254740991'));
    expect(uintAt(b('  77 x'), 0, 6)).toBe(77);
    expect(uintAt(b('x'), 0, 1)).toBeUndefined();
  });

  it('lists ids and picks the nth field', () => {
    expect(uintList(b('12\n345\n6\n'), 9)).toEqual([12, 345, 6]);
    expect(uintList(b(''), 0)).toEqual([]);
    expect(uintList(b('7\n8\n'), 2)).toEqual([7]);
    const sched = b('113000 92969 2\n');
    expect(nthUint(sched, sched.length, 0)).toBe(113000);
    expect(nthUint(sched, sched.length, 1)).toBe(92969);
    expect(nthUint(sched, sched.length, 2)).toBe(2);
    expect(nthUint(sched, sched.length, 3)).toBeUndefined();
  });
});

describe('lean parsers (keyed text)', () => {
  const text = 'cache 10\nrss 20\nmapped_file 3\ntotal_cache 110\ntotal_rss 120\n';

  it('finds a key on the first or a later line, never a key that merely ends with it', () => {
    expect(keyedValue(text, needle('cache'))).toBe(10);
    expect(keyedValue(text, needle('rss'))).toBe(20);
    expect(keyedValue(text, needle('total_rss'))).toBe(120);
    expect(keyedValue(text, needle('file'))).toBeUndefined(); // "mapped_file" is another key
    expect(keyedValue('a x\n', needle('a'))).toBeUndefined();
  });

  it('takes the first of several keys that is present and records it', () => {
    const out: Record<string, number> = {};
    expect(firstKeyed(text, [needle('total_cache'), needle('cache')], out)).toBe(110);
    expect(firstKeyed(text, [needle('total_mapped_file'), needle('mapped_file')], out)).toBe(3);
    expect(firstKeyed(text, [needle('total_swap'), needle('swap')], out)).toBeUndefined();
    expect(out).toEqual({ total_cache: 110, mapped_file: 3 });
  });
});

// Shapes as the kernel prints them (v1 memory.stat of a leaf cgroup, abridged; v2 cpu.stat).
const MEMORY_STAT_V1 = [
  'cache 4096', 'rss 1048576', 'rss_huge 0', 'shmem 0', 'mapped_file 8192', 'dirty 0', 'writeback 0', 'swap 0',
  'pgpgin 500', 'pgpgout 100', 'pgfault 900', 'pgmajfault 1', 'inactive_anon 1000', 'active_anon 2000',
  'inactive_file 4096', 'active_file 0', 'unevictable 0', 'hierarchical_memory_limit 9223372036854771712',
  'total_cache 8192', 'total_rss 2097152', 'total_mapped_file 8192', 'total_swap 0', 'total_pgfault 1800',
  'total_pgmajfault 2', 'total_inactive_file 6000', 'total_active_file 2192', '',
].join('\n');

describe('stat-parse (the fast reader\'s file formats)', () => {
  it('v1 memory.stat: the hierarchical totals, the same values the general parser gives', () => {
    const m = memStatValues(MEMORY_STAT_V1, false);
    const all = parseFlatKeyed(MEMORY_STAT_V1);
    expect(m).toEqual({
      stat: { total_rss: 2097152, total_cache: 8192, total_mapped_file: 8192, total_inactive_file: 6000, total_active_file: 2192, total_swap: 0, total_pgfault: 1800, total_pgmajfault: 2 },
      rss: all.total_rss,
      cache: all.total_cache,
      mapped: all.total_mapped_file,
      inactiveFile: all.total_inactive_file,
      activeFile: all.total_active_file,
      swap: all.total_swap,
      pgfault: all.total_pgfault,
      pgmajfault: all.total_pgmajfault,
    });
    // Without total_* lines (a kernel or test tree that prints only local values): the local ones.
    expect(memStatValues('rss 5\ninactive_file 7\n', false)).toMatchObject({ rss: 5, inactiveFile: 7, stat: { rss: 5, inactive_file: 7 } });
    expect(memStatValues(undefined, false)).toEqual({ stat: {} });
  });

  it('v2 memory.stat keys', () => {
    const m = memStatValues('anon 6000000\nfile 4000000\nkernel 5\nfile_mapped 100\ninactive_file 3000000\nactive_file 1000000\npgfault 42\npgmajfault 2\n', true);
    expect(m).toMatchObject({ rss: 6000000, cache: 4000000, mapped: 100, inactiveFile: 3000000, activeFile: 1000000, pgfault: 42, pgmajfault: 2, swap: undefined });
  });

  it('cpu.stat (v1 CFS counters; v2 usage, split and CFS in µs → ns) and cpuacct.stat', () => {
    expect(cfsValuesV1('nr_periods 10\nnr_throttled 2\nthrottled_time 12345\nnr_bursts 1\nburst_time 7\n')).toEqual({ periods: 10, throttledPeriods: 2, throttledNs: 12345, bursts: 1, burstNs: 7 });
    expect(cfsValuesV1('nr_periods 0\nnr_throttled 0\nthrottled_time 0\n')).toEqual({ periods: 0, throttledPeriods: 0, throttledNs: 0 });
    const v2 = 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 3\nthrottled_usec 700\nnr_bursts 1\nburst_usec 20\n';
    expect(cpuStatsV2(v2)).toEqual({ usageNs: 1_500_000, userNs: 1_000_000, systemNs: 500_000, periods: 10, throttledPeriods: 3, throttledNs: 700_000, bursts: 1, burstNs: 20_000 });
    expect(cpuStatsV2('usage_usec 3\nuser_usec 2\nsystem_usec 1\n')).toEqual({ usageNs: 3000, userNs: 2000, systemNs: 1000 });
    expect(cpuStatsV2('nr_periods 1\n')).toBeUndefined();
    expect(usageNsV2(v2)).toBe(1_500_000);
    expect(cpuSplitV1('user 250\nsystem 50\n')).toEqual({ userNs: 2_500_000_000, systemNs: 500_000_000 });
  });

  it('OOM counters and events', () => {
    expect(oomControlV1('oom_kill_disable 0\nunder_oom 1\noom_kill 3\n')).toEqual({ oomKills: 3, underOom: true });
    expect(oomControlV1('oom_kill_disable 0\nunder_oom 0\n')).toEqual({ oomKills: undefined, underOom: false });
    expect(memoryEventsV2('low 0\nhigh 5\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n')).toEqual({ low: 0, high: 5, max: 7, oom: 1, oomKill: 1 });
  });

  it('descriptor budget from /proc/self/limits', () => {
    const limits = (soft: string) => `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                20000                files\n`;
    expect(maxOpenFromLimits(limits('20000'))).toBe(5000);
    expect(maxOpenFromLimits(limits('1024'))).toBe(256);
    expect(maxOpenFromLimits(limits('1048576'))).toBe(8192);
    expect(maxOpenFromLimits(limits('unlimited'))).toBe(8192);
    expect(maxOpenFromLimits(limits('100'))).toBe(64);
    expect(maxOpenFromLimits(undefined)).toBe(1024);
  });
});
