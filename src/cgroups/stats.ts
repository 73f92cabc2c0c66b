/**
 * Typed stats snapshots of one cgroup, for CRI ContainerStats and SLI collectors. Cheap by
 * design (called for ~100 containers per second): one synchronous read per file, only the
 * files the requested groups need, no directory listings. A cgroup that vanishes mid-read
 * yields a snapshot marked `partial`, never an exception.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, messageOf } from '../util/errors.js';
import { readKernelFile } from './fsio.js';
import {
  blkioV1ToDevices,
  parseBlkioV1,
  parseFlatKeyed,
  parseInteger,
  parseIoStat,
  parseLimit,
  parseNumberList,
  parsePressure,
  type DeviceIo,
  type Pressure,
} from './parse.js';
import type { CgroupSystem } from './detect.js';
import type { CgroupMode, Max } from './types.js';

/** Which groups of files to read; defaults: everything except per-CPU usage. */
export interface ReadStatsOptions {
  cpu?: boolean;
  perCpu?: boolean;
  memory?: boolean;
  pids?: boolean;
  io?: boolean;
  psi?: boolean;
}

export interface CpuStats {
  /** Total CPU time, nanoseconds (v1 cpuacct.usage; v2 usage_usec × 1000). */
  usageNs: number;
  /** User / system split (v1 from cpuacct.stat ticks, 10 ms resolution). */
  userNs?: number;
  systemNs?: number;
  /** CFS bandwidth periods, throttled periods and throttled time. */
  periods?: number;
  throttledPeriods?: number;
  throttledNs?: number;
  /** Periods that used burst, and burst time (kernels with CPU burst). */
  bursts?: number;
  burstNs?: number;
  /** v1 only: per-CPU usage, nanoseconds (opt-in with perCpu). */
  perCpuNs?: number[];
}

export interface MemoryStats {
  /** v1 memory.usage_in_bytes; v2 memory.current. */
  usageBytes: number;
  /** usage − inactive_file, floored at 0: the kubelet/cAdvisor eviction metric. */
  workingSetBytes: number;
  limitBytes?: number | Max;
  /** v1 memory.max_usage_in_bytes; v2 memory.peak (Linux ≥ 5.19). */
  maxUsageBytes?: number;
  /** v1 memory.failcnt: times usage hit the limit. */
  failcnt?: number;
  /** Hierarchical counters from memory.stat (v1 total_*; v2 keys). */
  rssBytes?: number;
  cacheBytes?: number;
  mappedFileBytes?: number;
  inactiveFileBytes?: number;
  activeFileBytes?: number;
  swapBytes?: number;
  pgfault?: number;
  pgmajfault?: number;
  /** OOM kills inside this cgroup (v1 oom_control oom_kill; v2 memory.events oom_kill). */
  oomKills?: number;
  /** v2 memory.events: times the cgroup hit memory.low / high / max, and OOM events. */
  events?: { low: number; high: number; max: number; oom: number; oomKill: number };
  /** v1 memory.oom_control under_oom. */
  underOom?: boolean;
  /** The raw memory.stat. */
  stat: Record<string, number>;
}

export interface PidsStats {
  current: number;
  max?: number | Max;
}

export interface IoStats {
  devices: DeviceIo[];
  readBytes: number;
  writeBytes: number;
  reads: number;
  writes: number;
}

export interface PsiStats {
  cpu?: Pressure;
  memory?: Pressure;
  io?: Pressure;
}

export interface CgroupStats {
  path: string;
  mode: CgroupMode;
  /** Wall clock when the read started, ms since the epoch. */
  timestampMs: number;
  cpu?: CpuStats;
  memory?: MemoryStats;
  pids?: PidsStats;
  io?: IoStats;
  psi?: PsiStats;
  /** Set when some files could not be read (the cgroup vanished, or a read error). */
  partial?: { reason: string };
}

/** USER_HZ (ticks per second of cpuacct.stat) is 100 on every mainstream architecture. */
const NS_PER_USER_HZ_TICK = 10_000_000;

/** The file operations readStats uses; tests substitute them to simulate a vanishing cgroup. */
export interface StatsIo {
  read(path: string): string;
  exists(path: string): boolean;
}

const kernelIo: StatsIo = { read: readKernelFile, exists: existsSync };

/** Reads files of one cgroup, turning errors into "absent" and noting why in `partial`. */
class Reader {
  partial?: { reason: string };
  private gone = false;
  constructor(
    private readonly anchor: string,
    private readonly io: StatsIo,
  ) {}

  exists(path: string): boolean {
    return this.io.exists(path);
  }

  read(dir: string | undefined, file: string): string | undefined {
    if (this.gone || dir === undefined) return undefined;
    const path = join(dir, file);
    try {
      return this.io.read(path);
    } catch (err) {
      const errno = errnoCode(err);
      if (errno === 'ENOENT' || errno === 'ENODEV') {
        if (errno === 'ENODEV' || !this.io.exists(this.anchor)) {
          this.gone = true;
          this.partial ??= { reason: `cgroup removed while reading (${path}: ${errno})` };
        }
        return undefined; // a file this kernel or hierarchy does not have
      }
      this.partial ??= { reason: `read ${path}: ${errno ?? messageOf(err)}` };
      return undefined;
    }
  }

  flat(dir: string | undefined, file: string): Record<string, number> | undefined {
    const t = this.read(dir, file);
    return t === undefined ? undefined : parseFlatKeyed(t);
  }

  int(dir: string | undefined, file: string): number | undefined {
    const t = this.read(dir, file);
    return t === undefined ? undefined : parseInteger(t);
  }
}

function cpuV1(r: Reader, cpuDir: string | undefined, acctDir: string | undefined, perCpu: boolean): CpuStats | undefined {
  const usageNs = r.int(acctDir, 'cpuacct.usage');
  if (usageNs === undefined) return undefined;
  const acct = r.flat(acctDir, 'cpuacct.stat');
  const cfs = r.flat(cpuDir, 'cpu.stat');
  const out: CpuStats = { usageNs };
  if (acct) {
    out.userNs = (acct.user ?? 0) * NS_PER_USER_HZ_TICK;
    out.systemNs = (acct.system ?? 0) * NS_PER_USER_HZ_TICK;
  }
  if (cfs) {
    out.periods = cfs.nr_periods;
    out.throttledPeriods = cfs.nr_throttled;
    out.throttledNs = cfs.throttled_time;
    if (cfs.nr_bursts !== undefined) out.bursts = cfs.nr_bursts;
    if (cfs.burst_time !== undefined) out.burstNs = cfs.burst_time;
  }
  if (perCpu) {
    const t = r.read(acctDir, 'cpuacct.usage_percpu');
    if (t !== undefined) out.perCpuNs = parseNumberList(t);
  }
  return out;
}

function cpuV2(r: Reader, dir: string): CpuStats | undefined {
  const s = r.flat(dir, 'cpu.stat');
  if (!s || s.usage_usec === undefined) return undefined;
  const us = (v: number | undefined) => (v === undefined ? undefined : v * 1000);
  const out: CpuStats = { usageNs: s.usage_usec * 1000, userNs: us(s.user_usec), systemNs: us(s.system_usec) };
  // nr_periods … appear only when the cpu controller is enabled for this cgroup.
  if (s.nr_periods !== undefined) {
    out.periods = s.nr_periods;
    out.throttledPeriods = s.nr_throttled;
    out.throttledNs = us(s.throttled_usec);
  }
  if (s.nr_bursts !== undefined) {
    out.bursts = s.nr_bursts;
    out.burstNs = us(s.burst_usec);
  }
  return out;
}

function workingSet(usage: number, inactiveFile: number | undefined): number {
  return Math.max(0, usage - (inactiveFile ?? 0));
}

function memoryV1(r: Reader, dir: string | undefined): MemoryStats | undefined {
  const usage = r.int(dir, 'memory.usage_in_bytes');
  if (usage === undefined) return undefined;
  const stat = r.flat(dir, 'memory.stat') ?? {};
  const limitText = r.read(dir, 'memory.limit_in_bytes');
  const oom = r.flat(dir, 'memory.oom_control');
  const inactiveFile = stat.total_inactive_file ?? stat.inactive_file;
  return {
    usageBytes: usage,
    workingSetBytes: workingSet(usage, inactiveFile),
    limitBytes: limitText === undefined ? undefined : parseLimit(limitText),
    maxUsageBytes: r.int(dir, 'memory.max_usage_in_bytes'),
    failcnt: r.int(dir, 'memory.failcnt'),
    rssBytes: stat.total_rss ?? stat.rss,
    cacheBytes: stat.total_cache ?? stat.cache,
    mappedFileBytes: stat.total_mapped_file ?? stat.mapped_file,
    inactiveFileBytes: inactiveFile,
    activeFileBytes: stat.total_active_file ?? stat.active_file,
    swapBytes: stat.total_swap ?? stat.swap,
    pgfault: stat.total_pgfault ?? stat.pgfault,
    pgmajfault: stat.total_pgmajfault ?? stat.pgmajfault,
    oomKills: oom?.oom_kill,
    underOom: oom ? oom.under_oom === 1 : undefined,
    stat,
  };
}

function memoryV2(r: Reader, dir: string): MemoryStats | undefined {
  const usage = r.int(dir, 'memory.current');
  if (usage === undefined) return undefined;
  const stat = r.flat(dir, 'memory.stat') ?? {};
  const limitText = r.read(dir, 'memory.max');
  const ev = r.flat(dir, 'memory.events');
  return {
    usageBytes: usage,
    workingSetBytes: workingSet(usage, stat.inactive_file),
    limitBytes: limitText === undefined ? undefined : parseLimit(limitText),
    maxUsageBytes: r.int(dir, 'memory.peak'),
    rssBytes: stat.anon,
    cacheBytes: stat.file,
    mappedFileBytes: stat.file_mapped,
    inactiveFileBytes: stat.inactive_file,
    activeFileBytes: stat.active_file,
    pgfault: stat.pgfault,
    pgmajfault: stat.pgmajfault,
    oomKills: ev?.oom_kill,
    events: ev ? { low: ev.low ?? 0, high: ev.high ?? 0, max: ev.max ?? 0, oom: ev.oom ?? 0, oomKill: ev.oom_kill ?? 0 } : undefined,
    stat,
  };
}

function pidsStats(r: Reader, dir: string | undefined): PidsStats | undefined {
  const current = r.int(dir, 'pids.current');
  if (current === undefined) return undefined;
  const max = r.read(dir, 'pids.max');
  return { current, max: max === undefined ? undefined : parseLimit(max) };
}

function ioTotals(devices: DeviceIo[]): IoStats {
  const t = { devices, readBytes: 0, writeBytes: 0, reads: 0, writes: 0 };
  for (const d of devices) {
    t.readBytes += d.readBytes;
    t.writeBytes += d.writeBytes;
    t.reads += d.reads;
    t.writes += d.writes;
  }
  return t;
}

function ioV1(r: Reader, dir: string | undefined): IoStats | undefined {
  const bytes = r.read(dir, 'blkio.throttle.io_service_bytes_recursive') ?? r.read(dir, 'blkio.throttle.io_service_bytes');
  const ops = r.read(dir, 'blkio.throttle.io_serviced_recursive') ?? r.read(dir, 'blkio.throttle.io_serviced');
  if (bytes === undefined && ops === undefined) return undefined;
  return ioTotals(blkioV1ToDevices(parseBlkioV1(bytes ?? ''), parseBlkioV1(ops ?? '')));
}

function psiStats(r: Reader, dir: string | undefined): PsiStats | undefined {
  if (dir === undefined) return undefined;
  const get = (f: string) => {
    const t = r.read(dir, f);
    return t === undefined ? undefined : parsePressure(t);
  };
  const out: PsiStats = { cpu: get('cpu.pressure'), memory: get('memory.pressure'), io: get('io.pressure') };
  return out.cpu || out.memory || out.io ? out : undefined;
}

function dirIn(root: string | undefined, path: string): string | undefined {
  return root === undefined ? undefined : join(root, path);
}

/**
 * A stats snapshot of the cgroup at `path` (relative to each hierarchy root), or undefined
 * when it does not exist. Never throws for I/O errors. `io` is a test seam.
 */
export function readStats(sys: CgroupSystem, path: string, opts: ReadStatsOptions = {}, io: StatsIo = kernelIo): CgroupStats | undefined {
  const want = { cpu: true, memory: true, pids: true, io: true, psi: true, perCpu: false, ...opts };
  const { layout } = sys;
  const v2 = layout.mode === 'v2';
  const anchor = v2 ? join(layout.unified!, path) : dirIn(layout.v1.memory ?? layout.v1.cpuacct ?? layout.v1.cpu, path);
  if (anchor === undefined || !io.exists(anchor)) return undefined;
  const r = new Reader(anchor, io);
  const out: CgroupStats = { path, mode: layout.mode, timestampMs: Date.now() };
  if (v2) {
    if (want.cpu) out.cpu = cpuV2(r, anchor);
    if (want.memory) out.memory = memoryV2(r, anchor);
    if (want.pids) out.pids = pidsStats(r, anchor);
    if (want.io) {
      const t = r.read(anchor, 'io.stat');
      if (t !== undefined) out.io = ioTotals(parseIoStat(t));
    }
    if (want.psi) out.psi = psiStats(r, anchor);
  } else {
    if (want.cpu) out.cpu = cpuV1(r, dirIn(layout.v1.cpu, path), dirIn(layout.v1.cpuacct, path), want.perCpu);
    if (want.memory) out.memory = memoryV1(r, dirIn(layout.v1.memory, path));
    if (want.pids) out.pids = pidsStats(r, dirIn(layout.v1.pids, path));
    if (want.io) out.io = ioV1(r, dirIn(layout.v1.blkio, path));
    // Hybrid: PSI lives in the unified hierarchy, populated only if processes were attached there.
    if (want.psi && layout.unified) {
      const u = join(layout.unified, path);
      if (r.exists(u)) out.psi = psiStats(r, u);
    }
  }
  for (const k of ['cpu', 'memory', 'pids', 'io', 'psi'] as const) if (out[k] === undefined) delete out[k];
  if (r.partial) out.partial = r.partial;
  return out;
}

/** Node-level PSI from <procRoot>/pressure/{cpu,memory,io}; undefined members when absent. */
export function readNodePressure(procRoot = '/proc'): PsiStats {
  const get = (f: string): Pressure | undefined => {
    try {
      return parsePressure(readKernelFile(join(procRoot, 'pressure', f)));
    } catch {
      return undefined;
    }
  };
  return { cpu: get('cpu'), memory: get('memory'), io: get('io') };
}
