/**
 * The node collector: CPU utilisation (total and per core), memory, PSI, load, context
 * switches, reclaim and OOM counters, read from /proc on its own interval over cached
 * descriptors; node info from systeminformation on a much slower one. A file the kernel does
 * not have leaves its part of the snapshot absent, with the reason in `missing`.
 */
import { join } from 'node:path';
import type { PsiStats } from '../cgroups/index.js';
import { parsePressure } from '../cgroups/parse.js';
import { errnoCode, messageOf } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { cpuMark, cpuNsSince, KernelFiles } from './kernel-files.js';
import { readNodeInfo, type NodeInfo } from './node-info.js';
import {
  cpuUtilisation,
  parseVmstat,
  parseLoadavg,
  parseMeminfo,
  parseProcStat,
  vmCounters,
  type CpuTimes,
  type LoadAvg,
  type ProcStat,
  type VmCounters,
} from './node-parse.js';

/** USER_HZ: /proc/stat ticks per second on every mainstream architecture. */
export const TICKS_PER_SECOND = 100;

export interface NodeMemory {
  totalBytes: number;
  availableBytes?: number;
  freeBytes?: number;
  /** Page cache ("Cached") and buffers. */
  pageCacheBytes?: number;
  buffersBytes?: number;
  swapTotalBytes?: number;
  swapFreeBytes?: number;
}

export interface NodeSnapshot {
  timestampMs: number;
  cpu?: {
    /** Busy fraction of all CPUs over the last interval (0..1). */
    utilisation?: number;
    perCore: { cpu: number; utilisation?: number }[];
    /** Cumulative seconds per mode, all CPUs. */
    secondsTotal: CpuTimes;
  };
  memory?: NodeMemory;
  psi: PsiStats;
  load?: LoadAvg;
  contextSwitches?: number;
  /** Over the last interval. */
  contextSwitchesPerSecond?: number;
  vm?: VmCounters;
  info?: NodeInfo;
  /** What could not be read, and why ("psi": "…"). */
  missing: Record<string, string>;
}

export interface NodeCollectorOptions {
  intervalMs?: number;
  /** How often node info is re-read (default 1 h; 0: once). */
  infoIntervalMs?: number;
  procRoot?: string;
  files?: KernelFiles;
  /** Read node info at all (tests turn it off). */
  info?: boolean;
  /** Delay of the first node info read (default 5 s). */
  infoDelayMs?: number;
}

export class NodeCollector {
  private timer: NodeJS.Timeout | undefined;
  private infoTimer: NodeJS.Timeout | undefined;
  private prevStat: { stat: ProcStat; atMs: number } | undefined;
  private snap: NodeSnapshot = { timestampMs: 0, psi: {}, missing: {} };
  private info: NodeInfo | undefined;
  private readonly procRoot: string;
  private readonly files: KernelFiles;
  readonly intervalMs: number;
  /** CPU time spent in passes (ns). */
  busyNs = 0n;

  /** Descriptors its reader keeps open. */
  get openDescriptors(): number {
    return this.files.size;
  }

  constructor(
    private readonly log: Logger,
    private readonly opts: NodeCollectorOptions = {},
  ) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.files = opts.files ?? new KernelFiles();
    this.intervalMs = opts.intervalMs ?? 1000;
  }

  start(): void {
    this.collect();
    this.timer = setInterval(() => this.collect(), this.intervalMs);
    this.timer.unref();
    if (this.opts.info !== false) {
      // A few seconds after start, off the start path (it spawns lscpu and friends); then on its interval.
      const every = this.opts.infoIntervalMs ?? 3_600_000;
      this.infoTimer = setTimeout(() => {
        void this.refreshInfo();
        if (every > 0) {
          this.infoTimer = setInterval(() => void this.refreshInfo(), every);
          this.infoTimer.unref();
        }
      }, this.opts.infoDelayMs ?? 5000);
      this.infoTimer.unref();
    }
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.infoTimer);
    clearInterval(this.infoTimer);
    this.files.close();
  }

  snapshot(): NodeSnapshot {
    return this.snap;
  }

  private async refreshInfo(): Promise<void> {
    try {
      this.info = await readNodeInfo();
      this.snap.info = this.info;
    } catch (err) {
      this.log.warn({ err }, 'reading node info failed');
    }
  }

  private readFile(name: string, missing: Record<string, string>, part: string): string | undefined {
    const path = join(this.procRoot, name);
    try {
      return this.files.read(path);
    } catch (err) {
      missing[part] = `cannot read ${path}: ${errnoCode(err) ?? messageOf(err)}`;
      return undefined;
    }
  }

  /** Read everything once now (the timer calls this; tests may too). */
  collect(): NodeSnapshot {
    const started = cpuMark();
    const now = Date.now();
    const missing: Record<string, string> = {};
    const snap: NodeSnapshot = { timestampMs: now, psi: {}, missing, info: this.info };
    try {
      this.collectCpu(snap, now, missing);
      const mem = this.readFile('meminfo', missing, 'memory');
      if (mem !== undefined) snap.memory = memoryOf(parseMeminfo(mem));
      snap.psi = this.pressure();
      if (!snap.psi.cpu && !snap.psi.memory && !snap.psi.io) missing.psi = `no ${join(this.procRoot, 'pressure')}/{cpu,memory,io}: kernel without PSI (CONFIG_PSI) or booted with psi=0`;
      const load = this.readFile('loadavg', missing, 'load');
      if (load !== undefined) snap.load = parseLoadavg(load);
      const vm = this.readFile('vmstat', missing, 'vmstat');
      if (vm !== undefined) snap.vm = vmCounters(parseVmstat(vm));
    } catch (err) {
      this.log.debug({ err }, 'node collection failed');
    }
    this.snap = snap;
    this.busyNs += cpuNsSince(started);
    return snap;
  }

  /** /proc/pressure/{cpu,memory,io}; absent members when the kernel has no PSI. */
  private pressure(): PsiStats {
    const get = (r: string) => {
      try {
        return parsePressure(this.files.read(join(this.procRoot, 'pressure', r)));
      } catch {
        return undefined;
      }
    };
    return { cpu: get('cpu'), memory: get('memory'), io: get('io') };
  }

  private collectCpu(snap: NodeSnapshot, now: number, missing: Record<string, string>): void {
    const text = this.readFile('stat', missing, 'cpu');
    const stat = text === undefined ? undefined : parseProcStat(text);
    if (!stat) return;
    const prev = this.prevStat;
    const perCore = [...stat.cores.entries()].map(([cpu, t]) => {
      const p = prev?.stat.cores.get(cpu);
      return { cpu, utilisation: p ? cpuUtilisation(p, t) : undefined };
    });
    const secondsTotal = Object.fromEntries(Object.entries(stat.total).map(([k, v]) => [k, v / TICKS_PER_SECOND])) as unknown as CpuTimes;
    snap.cpu = { utilisation: prev ? cpuUtilisation(prev.stat.total, stat.total) : undefined, perCore, secondsTotal };
    snap.contextSwitches = stat.contextSwitches;
    if (prev && stat.contextSwitches !== undefined && prev.stat.contextSwitches !== undefined && now > prev.atMs) {
      snap.contextSwitchesPerSecond = ((stat.contextSwitches - prev.stat.contextSwitches) * 1000) / (now - prev.atMs);
    }
    this.prevStat = { stat, atMs: now };
  }
}

export function memoryOf(m: Record<string, number>): NodeMemory | undefined {
  if (m.MemTotal === undefined) return undefined;
  return {
    totalBytes: m.MemTotal,
    availableBytes: m.MemAvailable,
    freeBytes: m.MemFree,
    pageCacheBytes: m.Cached,
    buffersBytes: m.Buffers,
    swapTotalBytes: m.SwapTotal,
    swapFreeBytes: m.SwapFree,
  };
}
