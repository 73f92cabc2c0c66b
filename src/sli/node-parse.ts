/**
 * Pure parsers for the node-wide /proc files the node collector reads, and the derived rates.
 * Units: CPU times in USER_HZ ticks as the kernel prints them (converted by the caller),
 * memory in bytes, counters as numbers.
 */

/** One "cpu"/"cpuN" line of /proc/stat, in ticks. */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

export interface ProcStat {
  total: CpuTimes;
  /** Per core, indexed by the kernel's cpu number (offline cores are absent). */
  cores: Map<number, CpuTimes>;
  contextSwitches?: number;
  processesCreated?: number;
  procsRunning?: number;
  procsBlocked?: number;
}

function cpuTimes(fields: string[]): CpuTimes {
  const n = (i: number) => Number(fields[i] ?? 0) || 0;
  // guest and guest_nice are already included in user and nice.
  return { user: n(0), nice: n(1), system: n(2), idle: n(3), iowait: n(4), irq: n(5), softirq: n(6), steal: n(7) };
}

export function parseProcStat(text: string): ProcStat | undefined {
  let total: CpuTimes | undefined;
  const cores = new Map<number, CpuTimes>();
  const out: Omit<ProcStat, 'total' | 'cores'> = {};
  for (const line of text.split('\n')) {
    // Skip the long lines (intr, softirq: hundreds of numbers) without splitting them.
    const c = line.charCodeAt(0);
    if (c !== 99 /* c */ && c !== 112 /* p */) continue;
    const f = line.trim().split(/\s+/);
    const key = f[0];
    if (!key) continue;
    if (key === 'cpu') total = cpuTimes(f.slice(1));
    else if (key.startsWith('cpu')) {
      const i = Number(key.slice(3));
      if (Number.isInteger(i)) cores.set(i, cpuTimes(f.slice(1)));
    } else if (key === 'ctxt') out.contextSwitches = Number(f[1]);
    else if (key === 'processes') out.processesCreated = Number(f[1]);
    else if (key === 'procs_running') out.procsRunning = Number(f[1]);
    else if (key === 'procs_blocked') out.procsBlocked = Number(f[1]);
  }
  return total ? { total, cores, ...out } : undefined;
}

const busyOf = (t: CpuTimes) => t.user + t.nice + t.system + t.irq + t.softirq + t.steal;
const allOf = (t: CpuTimes) => busyOf(t) + t.idle + t.iowait;

/** Fraction of time busy between two readings (0..1), or undefined when no time passed. */
export function cpuUtilisation(prev: CpuTimes, cur: CpuTimes): number | undefined {
  const dt = allOf(cur) - allOf(prev);
  if (dt <= 0) return undefined;
  return Math.min(1, Math.max(0, (busyOf(cur) - busyOf(prev)) / dt));
}

/** /proc/meminfo → bytes per key ("MemAvailable: 123 kB" → 125952). */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const f = line.slice(colon + 1).trim().split(/\s+/);
    const v = Number(f[0]);
    if (Number.isNaN(v)) continue;
    out[line.slice(0, colon)] = f[1] === 'kB' ? v * 1024 : v;
  }
  return out;
}

/** /proc/vmstat and other "key value" files. */
export function parseKeyValue(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const v = Number(line.slice(sp + 1));
    if (!Number.isNaN(v)) out[line.slice(0, sp)] = v;
  }
  return out;
}

/** Reclaim and OOM counters from /proc/vmstat, summed over zones and reclaimers. */
export interface VmCounters {
  /** Pages scanned / reclaimed, by reclaimer (kswapd, direct, khugepaged, proactive). */
  pgscan: Record<string, number>;
  pgsteal: Record<string, number>;
  /** Direct-reclaim stalls (allocstall_*), summed over zones. */
  allocstall?: number;
  compactStall?: number;
  oomKill?: number;
  pgmajfault?: number;
}

const RECLAIM_KEY = /^(pgscan|pgsteal)_(kswapd|direct|khugepaged|proactive)(_[a-z0-9]+)?$/;

/** The /proc/vmstat keys vmCounters uses (the file has ~180). */
export function parseVmstat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const c = line.charCodeAt(0);
    if (c !== 112 /* p */ && c !== 97 /* a */ && c !== 99 /* c */ && c !== 111 /* o */) continue;
    if (!(line.startsWith('pgscan') || line.startsWith('pgsteal') || line.startsWith('allocstall') || line.startsWith('compact_stall ') || line.startsWith('oom_kill ') || line.startsWith('pgmajfault '))) continue;
    const sp = line.indexOf(' ');
    const v = Number(line.slice(sp + 1));
    if (sp > 0 && !Number.isNaN(v)) out[line.slice(0, sp)] = v;
  }
  return out;
}

export function vmCounters(v: Record<string, number>): VmCounters {
  const out: VmCounters = { pgscan: {}, pgsteal: {} };
  let allocstall: number | undefined;
  for (const [k, n] of Object.entries(v)) {
    const m = RECLAIM_KEY.exec(k);
    // pgscan_direct_throttle counts throttling events, not pages.
    if (m && k !== 'pgscan_direct_throttle') {
      const table = out[m[1] as 'pgscan' | 'pgsteal'];
      table[m[2]!] = (table[m[2]!] ?? 0) + n;
    } else if (k === 'allocstall' || k.startsWith('allocstall_')) allocstall = (allocstall ?? 0) + n;
  }
  if (allocstall !== undefined) out.allocstall = allocstall;
  if (v.compact_stall !== undefined) out.compactStall = v.compact_stall;
  if (v.oom_kill !== undefined) out.oomKill = v.oom_kill;
  if (v.pgmajfault !== undefined) out.pgmajfault = v.pgmajfault;
  return out;
}

export interface LoadAvg {
  load1: number;
  load5: number;
  load15: number;
  running: number;
  tasks: number;
}

/** /proc/loadavg: "0.50 0.40 0.30 2/345 12345". */
export function parseLoadavg(text: string): LoadAvg | undefined {
  const f = text.trim().split(/\s+/);
  const [r, t] = (f[3] ?? '').split('/');
  const out = { load1: Number(f[0]), load5: Number(f[1]), load15: Number(f[2]), running: Number(r), tasks: Number(t) };
  return Object.values(out).every(Number.isFinite) ? out : undefined;
}
