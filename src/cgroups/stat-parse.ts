/**
 * Pure parsers of the stats files the fast reader (stats-reader.ts) reads, built on the lean
 * parsers: only the keys a CgroupStats snapshot carries are looked up. Same meanings as
 * readStats() in stats.ts.
 */
import { firstKeyed, keyedValue, needle, type Needle } from './lean-parse.js';
import { parseFlatKeyed } from './parse.js';
import type { CpuStats, MemoryStats } from './stats.js';

/** USER_HZ (ticks per second of cpuacct.stat) is 100 on every mainstream architecture. */
const NS_PER_USER_HZ_TICK = 10_000_000;

const n2 = (a: string, b: string): readonly Needle[] => [needle(a), needle(b)];

type MemKeys = Record<'rss' | 'cache' | 'mapped' | 'inactiveFile' | 'activeFile' | 'swap' | 'pgfault' | 'pgmajfault', readonly Needle[]>;

/** v1: the hierarchical total_* key, else the local one (a leaf has the same value in both). */
const MEM_V1: MemKeys = {
  rss: n2('total_rss', 'rss'),
  cache: n2('total_cache', 'cache'),
  mapped: n2('total_mapped_file', 'mapped_file'),
  inactiveFile: n2('total_inactive_file', 'inactive_file'),
  activeFile: n2('total_active_file', 'active_file'),
  swap: n2('total_swap', 'swap'),
  pgfault: n2('total_pgfault', 'pgfault'),
  pgmajfault: n2('total_pgmajfault', 'pgmajfault'),
};
const MEM_V2: MemKeys = {
  rss: [needle('anon')],
  cache: [needle('file')],
  mapped: [needle('file_mapped')],
  inactiveFile: [needle('inactive_file')],
  activeFile: [needle('active_file')],
  swap: [],
  pgfault: [needle('pgfault')],
  pgmajfault: [needle('pgmajfault')],
};

const CPU = {
  usageUsec: needle('usage_usec'),
  userUsec: needle('user_usec'),
  systemUsec: needle('system_usec'),
  periods: needle('nr_periods'),
  throttled: needle('nr_throttled'),
  throttledNs: needle('throttled_time'),
  throttledUsec: needle('throttled_usec'),
  bursts: needle('nr_bursts'),
  burstNs: needle('burst_time'),
  burstUsec: needle('burst_usec'),
};

/** The memory.stat values a snapshot carries; `stat` holds them under the kernel's key names. */
export interface MemStatValues {
  stat: Record<string, number>;
  rss?: number;
  cache?: number;
  mapped?: number;
  inactiveFile?: number;
  activeFile?: number;
  swap?: number;
  pgfault?: number;
  pgmajfault?: number;
}

export function memStatValues(text: string | undefined, v2: boolean): MemStatValues {
  const stat: Record<string, number> = {};
  if (text === undefined) return { stat };
  const k = v2 ? MEM_V2 : MEM_V1;
  const pick = (n: readonly Needle[]) => firstKeyed(text, n, stat);
  return {
    stat,
    rss: pick(k.rss),
    cache: pick(k.cache),
    mapped: pick(k.mapped),
    inactiveFile: pick(k.inactiveFile),
    activeFile: pick(k.activeFile),
    swap: pick(k.swap),
    pgfault: pick(k.pgfault),
    pgmajfault: pick(k.pgmajfault),
  };
}

/** CFS bandwidth counters. */
export type CfsValues = Pick<CpuStats, 'periods' | 'throttledPeriods' | 'throttledNs' | 'bursts' | 'burstNs'>;

/** v1 cpu.stat: nr_periods, nr_throttled, throttled_time (ns), nr_bursts and burst_time (ns) where the kernel has them. */
export function cfsValuesV1(text: string): CfsValues {
  const c: CfsValues = { periods: keyedValue(text, CPU.periods), throttledPeriods: keyedValue(text, CPU.throttled), throttledNs: keyedValue(text, CPU.throttledNs) };
  const bursts = keyedValue(text, CPU.bursts);
  if (bursts !== undefined) {
    c.bursts = bursts;
    c.burstNs = keyedValue(text, CPU.burstNs);
  }
  return c;
}

/** v2 cpu.stat usage_usec, in ns. */
export function usageNsV2(text: string): number | undefined {
  const usec = keyedValue(text, CPU.usageUsec);
  return usec === undefined ? undefined : usec * 1000;
}

/** v2 cpu.stat: usage and its user/system split, and CFS counters when the cpu controller is enabled. */
export function cpuStatsV2(text: string): CpuStats | undefined {
  const usage = keyedValue(text, CPU.usageUsec);
  if (usage === undefined) return undefined;
  const us = (n: Needle) => {
    const v = keyedValue(text, n);
    return v === undefined ? undefined : v * 1000;
  };
  const out: CpuStats = { usageNs: usage * 1000, userNs: us(CPU.userUsec), systemNs: us(CPU.systemUsec) };
  const periods = keyedValue(text, CPU.periods);
  if (periods !== undefined) {
    out.periods = periods;
    out.throttledPeriods = keyedValue(text, CPU.throttled);
    out.throttledNs = us(CPU.throttledUsec);
  }
  const bursts = keyedValue(text, CPU.bursts);
  if (bursts !== undefined) {
    out.bursts = bursts;
    out.burstNs = us(CPU.burstUsec);
  }
  return out;
}

/** v1 cpuacct.stat user/system ticks, in ns. */
export function cpuSplitV1(text: string): { userNs: number; systemNs: number } {
  const t = parseFlatKeyed(text);
  return { userNs: (t.user ?? 0) * NS_PER_USER_HZ_TICK, systemNs: (t.system ?? 0) * NS_PER_USER_HZ_TICK };
}

/** v1 memory.oom_control: OOM kills in the cgroup and whether it is under OOM now. */
export function oomControlV1(text: string): { oomKills?: number; underOom: boolean } {
  const o = parseFlatKeyed(text);
  return { oomKills: o.oom_kill, underOom: o.under_oom === 1 };
}

/** v2 memory.events. */
export function memoryEventsV2(text: string): NonNullable<MemoryStats['events']> {
  const ev = parseFlatKeyed(text);
  return { low: ev.low ?? 0, high: ev.high ?? 0, max: ev.max ?? 0, oom: ev.oom ?? 0, oomKill: ev.oom_kill ?? 0 };
}

/** A quarter of the soft "Max open files" of /proc/self/limits, within [64, 8192]; 1024 when the text does not say. */
export function maxOpenFromLimits(limits: string | undefined): number {
  const m = limits === undefined ? null : /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  const soft = !m ? 4096 : m[1] === 'unlimited' ? Infinity : Number(m[1]);
  return Math.max(64, Math.min(8192, Math.floor(soft / 4)));
}
