/**
 * The fast, stateful stats reader for collectors that read the same cgroups every second
 * (berth's stats sampler: CRI stats, SLI, QoS). Same CgroupStats shape as readStats(), but:
 *   - descriptors of the files read every pass stay open (see stat-files.ts);
 *   - numbers are parsed from the read buffer, and memory.stat is searched only for the keys
 *     the snapshot carries (`memory.stat` holds just those keys, not every line of the file);
 *   - a cheap probe (CPU usage and memory usage: one small read each) tells a caller whether
 *     the cgroup moved at all, and a full read in the same pass reuses what the probe read;
 *   - slow-moving parts are re-read only when the caller asks (ReadParts); otherwise the
 *     values of this reader's last read of that cgroup are carried into the snapshot.
 * No per-CPU usage and no block I/O (readStats has them). A cgroup that does not exist, or
 * vanishes while being read, reads as undefined; other read errors mark the snapshot partial.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { CgroupSystem } from './detect.js';
import { cleanCgroupPath } from './driver.js';
import { uintFile, uintList } from './lean-parse.js';
import { parseLimit, parsePressure } from './parse.js';
import { ABSENT, anchorRoot, CgroupFileSet, DescriptorCache, F, FAILED, fileTable, GONE, type FileSpec } from './stat-files.js';
import {
  cfsValuesV1,
  cpuSplitV1,
  cpuStatsV2,
  maxOpenFromLimits,
  memoryEventsV2,
  memStatValues,
  oomControlV1,
  usageNsV2,
  type CfsValues,
  type MemStatValues,
} from './stat-parse.js';
import type { CgroupStats, CpuStats, MemoryStats, PsiStats } from './stats.js';
import type { CgroupMode, Max } from './types.js';

export interface StatsReaderOptions {
  /** Read per-cgroup PSI (on hybrid hosts from the unified hierarchy). Default: on v2, or when the psi.cgroup feature was detected. */
  psi?: boolean;
  /** Most descriptors kept open (default: a quarter of the soft RLIMIT_NOFILE, at most 8192); beyond that files are opened for each read. */
  maxOpen?: number;
}

/** Which slower-moving parts to re-read now; a part not re-read carries this reader's last value. */
export interface ReadParts {
  /** PSI, v2 memory.events, pids.current (default true). */
  warm?: boolean;
  /**
   * Limits, high-water marks, v1 failcnt and OOM counters (memory.oom_control), pids.max, the
   * v1 user/system split, and the v1 CFS counters of a cgroup without CFS bandwidth (their
   * nr_periods stays 0 until a quota is set) (default true).
   */
  slow?: boolean;
  /** Re-read memory.stat even when memory usage has not moved since this reader last read it (default true). */
  memoryStat?: boolean;
}

/** The two numbers that tell whether a cgroup moved since a previous probe. */
export interface UsageProbe {
  cpuNs?: number;
  memoryBytes?: number;
}

/** A descriptor set unused for this many passes is closed. */
const KEEP_PASSES = 12;

interface Slow {
  limit?: number | Max;
  peak?: number;
  failcnt?: number;
  oomKills?: number;
  underOom?: boolean;
  userNs?: number;
  systemNs?: number;
  pidsMax?: number | Max;
}

interface Warm {
  psi?: PsiStats;
  events?: MemoryStats['events'];
  pids?: number;
}

/** What memory.stat said, and the memory usage it was read at. */
interface MemStat extends MemStatValues {
  usage: number;
}

interface Entry {
  files: CgroupFileSet;
  /** Generation of the last probe, and what it read (a full read in the same pass reuses it). */
  probeGen: number;
  cpuNs?: number;
  cpuText?: string;
  memoryBytes?: number;
  slow?: Slow;
  warm?: Warm;
  memStat?: MemStat;
  cfs?: CfsValues;
}

/** Thrown inside a read when the cgroup turned out to be gone (caught in the same class). */
const GONE_SIGNAL = Symbol('cgroup gone');

export class CgroupStatsReader {
  private readonly entries = new Map<string, Entry>();
  private readonly table: (FileSpec | undefined)[];
  private readonly cache: DescriptorCache;
  private readonly anchor: string | undefined;
  readonly mode: CgroupMode;
  readonly psi: boolean;
  /** Why the current read is partial (first failure). */
  private partial: string | undefined;

  constructor(sys: CgroupSystem, opts: StatsReaderOptions = {}) {
    this.mode = sys.layout.mode;
    this.psi = opts.psi ?? (this.mode === 'v2' || sys.features['psi.cgroup']?.available === true);
    this.table = fileTable(sys.layout, this.psi);
    this.cache = new DescriptorCache(this.table, opts.maxOpen ?? defaultMaxOpen());
    this.anchor = anchorRoot(sys.layout);
  }

  /** Descriptors kept open now. */
  get openDescriptors(): number {
    return this.cache.open;
  }

  private entry(path: string): Entry | undefined {
    let e = this.entries.get(path);
    if (!e) {
      if (this.anchor === undefined) return undefined;
      const clean = cleanCgroupPath(path);
      const anchor = clean === '/' ? this.anchor : this.anchor + clean;
      if (!existsSync(anchor)) return undefined;
      e = { files: new CgroupFileSet(clean, anchor, this.table), probeGen: 0 };
      this.entries.set(path, e);
    }
    e.files.gen = this.cache.gen;
    return e;
  }

  private drop(path: string, e: Entry): undefined {
    this.cache.release(e.files);
    this.entries.delete(path);
    return undefined;
  }

  /** Read file `i`: its length, or -1 when absent or failed (failure noted); throws GONE_SIGNAL when the cgroup is gone. */
  private rd(e: Entry, i: number): number {
    const n = this.cache.read(e.files, i);
    if (n >= 0) return n;
    if (n === GONE) throw GONE_SIGNAL;
    if (n === FAILED) this.partial ??= this.cache.failure;
    return ABSENT;
  }

  private int(e: Entry, i: number): number | undefined {
    const n = this.rd(e, i);
    return n < 0 ? undefined : uintFile(this.cache.bytes(), n);
  }

  private text(e: Entry, i: number): string | undefined {
    const n = this.rd(e, i);
    return n < 0 ? undefined : this.cache.text(n);
  }

  /** CPU usage and memory usage, one small read each; undefined when the cgroup does not exist. */
  probe(path: string): UsageProbe | undefined {
    const e = this.entry(path);
    if (!e) return undefined;
    try {
      this.partial = undefined;
      if (this.mode === 'v2') {
        e.cpuText = this.text(e, F.usage);
        e.cpuNs = e.cpuText === undefined ? undefined : usageNsV2(e.cpuText);
      } else e.cpuNs = this.int(e, F.usage);
      e.memoryBytes = this.int(e, F.memUsage);
      e.probeGen = this.cache.gen;
      return { cpuNs: e.cpuNs, memoryBytes: e.memoryBytes };
    } catch (err) {
      if (err === GONE_SIGNAL) return this.drop(path, e);
      throw err;
    }
  }

  /** A stats snapshot (cpu, memory, pids, psi); undefined when the cgroup does not exist or vanished. */
  read(path: string, parts: ReadParts = {}): CgroupStats | undefined {
    const e = this.entry(path);
    if (!e) return undefined;
    this.partial = undefined;
    const fromProbe = e.probeGen === this.cache.gen;
    const slow = parts.slow !== false || e.slow === undefined;
    const warm = parts.warm !== false || e.warm === undefined;
    const out: CgroupStats = { path: e.files.path, mode: this.mode, timestampMs: Date.now() };
    try {
      const s = slow ? (e.slow = this.readSlow(e)) : e.slow!;
      const w = warm ? (e.warm = this.readWarm(e)) : e.warm!;
      const cpu = this.mode === 'v2' ? this.cpuV2(e, fromProbe) : this.cpuV1(e, fromProbe, s, slow);
      if (cpu) out.cpu = cpu;
      const memory = this.memory(e, fromProbe, s, w, parts.memoryStat !== false);
      if (memory) out.memory = memory;
      if (w.pids !== undefined) out.pids = { current: w.pids, max: s.pidsMax };
      if (w.psi) out.psi = w.psi;
    } catch (err) {
      if (err === GONE_SIGNAL) return this.drop(path, e);
      throw err;
    } finally {
      e.probeGen = 0;
      e.cpuText = undefined;
    }
    if (this.partial !== undefined) out.partial = { reason: this.partial };
    return out;
  }

  /** Thread ids in the cgroup (v1 `tasks` of the cpu hierarchy, v2 cgroup.threads); undefined when it does not exist. */
  threadIds(path: string): number[] | undefined {
    const e = this.entry(path);
    if (!e) return undefined;
    try {
      const n = this.rd(e, F.threads);
      return n < 0 ? undefined : uintList(this.cache.bytes(), n);
    } catch (err) {
      if (err === GONE_SIGNAL) return this.drop(path, e);
      throw err;
    }
  }

  private readSlow(e: Entry): Slow {
    const s: Slow = {};
    const limit = this.text(e, F.memLimit);
    if (limit !== undefined) s.limit = parseLimit(limit);
    s.peak = this.int(e, F.memPeak);
    const pidsMax = this.text(e, F.pidsMax);
    if (pidsMax !== undefined) s.pidsMax = parseLimit(pidsMax);
    if (this.mode !== 'v2') {
      s.failcnt = this.int(e, F.memFailcnt);
      const oom = this.text(e, F.memOom);
      if (oom !== undefined) Object.assign(s, oomControlV1(oom));
      const split = this.text(e, F.split);
      if (split !== undefined) Object.assign(s, cpuSplitV1(split));
    }
    return s;
  }

  private readWarm(e: Entry): Warm {
    const w: Warm = { pids: this.int(e, F.pids) };
    if (this.psi) {
      const get = (i: number) => {
        const t = this.text(e, i);
        return t === undefined ? undefined : parsePressure(t);
      };
      const psi: PsiStats = { cpu: get(F.psiCpu), memory: get(F.psiMemory), io: get(F.psiIo) };
      if (psi.cpu || psi.memory || psi.io) w.psi = psi;
    }
    if (this.mode === 'v2') {
      const t = this.text(e, F.memEvents);
      if (t !== undefined) w.events = memoryEventsV2(t);
    }
    return w;
  }

  private cpuV1(e: Entry, fromProbe: boolean, slow: Slow, slowDue: boolean): CpuStats | undefined {
    const usageNs = fromProbe ? e.cpuNs : this.int(e, F.usage);
    if (usageNs === undefined) return undefined;
    if (slowDue || e.cfs === undefined || e.cfs.periods !== 0) e.cfs = this.cfsV1(e);
    const c = e.cfs;
    const out: CpuStats = { usageNs, userNs: slow.userNs, systemNs: slow.systemNs, periods: c.periods, throttledPeriods: c.throttledPeriods, throttledNs: c.throttledNs };
    if (c.bursts !== undefined) {
      out.bursts = c.bursts;
      out.burstNs = c.burstNs;
    }
    return out;
  }

  private cfsV1(e: Entry): CfsValues {
    const t = this.text(e, F.cfs);
    return t === undefined ? {} : cfsValuesV1(t);
  }

  private cpuV2(e: Entry, fromProbe: boolean): CpuStats | undefined {
    const t = fromProbe ? e.cpuText : this.text(e, F.usage);
    return t === undefined ? undefined : cpuStatsV2(t);
  }

  private memory(e: Entry, fromProbe: boolean, slow: Slow, warm: Warm, statDue: boolean): MemoryStats | undefined {
    const usage = fromProbe ? e.memoryBytes : this.int(e, F.memUsage);
    if (usage === undefined) return undefined;
    if (statDue || e.memStat === undefined || e.memStat.usage !== usage) e.memStat = this.memStat(e, usage);
    const st = e.memStat;
    const m: MemoryStats = {
      usageBytes: usage,
      workingSetBytes: Math.max(0, usage - (st.inactiveFile ?? 0)),
      limitBytes: slow.limit,
      maxUsageBytes: slow.peak,
      rssBytes: st.rss,
      cacheBytes: st.cache,
      mappedFileBytes: st.mapped,
      inactiveFileBytes: st.inactiveFile,
      activeFileBytes: st.activeFile,
      swapBytes: st.swap,
      pgfault: st.pgfault,
      pgmajfault: st.pgmajfault,
      stat: st.stat,
    };
    if (this.mode === 'v2') {
      m.oomKills = warm.events?.oomKill;
      m.events = warm.events;
    } else {
      m.failcnt = slow.failcnt;
      m.oomKills = slow.oomKills;
      m.underOom = slow.underOom;
    }
    return m;
  }

  /** The memory.stat keys the snapshot carries (v1: hierarchical total_* when present). */
  private memStat(e: Entry, usage: number): MemStat {
    return { usage, ...memStatValues(this.text(e, F.memStat), this.mode === 'v2') };
  }

  /** Close the descriptors of `path` now (the cgroup went away). */
  forget(path: string): void {
    const e = this.entries.get(path);
    if (e) this.drop(path, e);
  }

  /** Call once per pass: closes the descriptors of cgroups not read for several passes. */
  sweep(): void {
    const gen = ++this.cache.gen;
    for (const [path, e] of this.entries) if (gen - e.files.gen > KEEP_PASSES) this.drop(path, e);
  }

  close(): void {
    for (const [path, e] of this.entries) this.drop(path, e);
  }
}

let maxOpenDefault: number | undefined;

/** A quarter of this process's soft open-files limit, at most 8192: what one collector may keep open. */
export function defaultMaxOpen(): number {
  if (maxOpenDefault === undefined) {
    let limits: string | undefined;
    try {
      limits = readFileSync('/proc/self/limits', 'latin1');
    } catch {
      /* no procfs: the default guess */
    }
    maxOpenDefault = maxOpenFromLimits(limits);
  }
  return maxOpenDefault;
}
