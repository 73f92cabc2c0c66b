/**
 * Scheduling delay of each container's tasks: the run-queue wait ("runnable but not running")
 * the kernel keeps per task in /proc/<tid>/schedstat, summed over the container's threads into
 * one monotonic counter. On its own interval; reads the container's thread list once (v1
 * `tasks` of the cpu hierarchy, v2 `cgroup.threads`) and one small file per thread, both over
 * cached descriptors.
 *
 * Whether the kernel keeps these numbers is detected, not assumed: /proc/<pid>/schedstat needs
 * CONFIG_SCHED_INFO and reads "0 0 0" when the kernel does not collect them (older kernels
 * without schedstats or delay accounting). Then the collector is off and says why.
 */
import { join } from 'node:path';
import type { CgroupManager } from '../cgroups/index.js';
import { errnoCode } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { cpuNsSince, KernelFiles } from './kernel-files.js';
import { parseSchedStat, type FileReader } from './proc.js';

export interface SchedAvailability {
  available: boolean;
  reason: string;
}

/** Decide from our own /proc/self/schedstat (this process has certainly run). */
export function detectSchedstat(read: FileReader, procRoot = '/proc', sysctl?: { available: boolean; reason?: string }): SchedAvailability {
  let text: string;
  try {
    text = read.read(join(procRoot, 'self/schedstat'));
  } catch (err) {
    return { available: false, reason: `cannot read ${procRoot}/<pid>/schedstat (${errnoCode(err) ?? 'error'}): kernel built without CONFIG_SCHED_INFO` };
  }
  const s = parseSchedStat(text);
  if (!s) return { available: false, reason: `${procRoot}/<pid>/schedstat has an unknown format: ${JSON.stringify(text.slice(0, 60))}` };
  if (s.runNs === 0 && s.slices === 0) {
    return { available: false, reason: `${procRoot}/<pid>/schedstat reads zeros: the kernel keeps no per-task scheduler statistics (enable kernel.sched_schedstats=1 or delay accounting)` };
  }
  const note = sysctl && !sysctl.available ? `; kernel.sched_schedstats: ${sysctl.reason ?? 'unavailable'} (not needed for run delay)` : '';
  return { available: true, reason: `per-task run-queue delay from /proc/<tid>/schedstat${note}` };
}

/** One container's wait counter: cumulative ns, and the last reading per thread. */
export interface WaitCounter {
  totalNs: number;
  tids: Map<number, number>;
  /** Threads seen in the last pass. */
  tasks: number;
  /** The cgroup's CPU usage (ns) when last read: unchanged means its threads have not run. */
  usageNs?: number;
}

/**
 * Advance a counter with this pass's readings (tid → cumulative wait ns). Known threads add
 * what they waited since the last pass; threads new since then add all of theirs (they were
 * born, or moved in, since); threads gone take nothing away. The first pass starts the counter
 * at the sum of the current threads.
 */
export function advanceWait(prev: WaitCounter | undefined, readings: Map<number, number>, usageNs?: number): WaitCounter {
  let total = prev?.totalNs ?? 0;
  for (const [tid, ns] of readings) {
    const last = prev?.tids.get(tid);
    total += last === undefined ? ns : Math.max(0, ns - last);
  }
  return { totalNs: total, tids: readings, tasks: readings.size, usageNs };
}

export interface SchedTarget {
  id: string;
  cgroupPath: string;
  /** The cgroup's CPU usage now (from the sampler), to skip idle containers. */
  usageNs?: number;
}

export interface SchedCollectorOptions {
  intervalMs?: number;
  procRoot?: string;
  /** Descriptor cache for thread lists and per-thread files (default: a private one). */
  files?: KernelFiles;
  /**
   * A container whose CPU usage has not moved since the last pass is skipped (its counter
   * stays), except every `fullEvery` passes (default 10): a thread that is runnable but gets
   * no CPU at all for that long still shows, and per-cgroup PSI shows it sooner.
   */
  fullEvery?: number;
}

export class SchedCollector {
  private readonly counters = new Map<string, WaitCounter>();
  private timer: NodeJS.Timeout | undefined;
  private readonly files: KernelFiles;
  private readonly procRoot: string;
  readonly availability: SchedAvailability;
  readonly intervalMs: number;
  private readonly fullEvery: number;
  private passes = 0;
  /** CPU time spent in passes (ns). */
  busyNs = 0n;

  /** Descriptors its reader keeps open. */
  get openDescriptors(): number {
    return this.files.size;
  }

  constructor(
    private readonly cg: CgroupManager,
    private readonly targets: () => Iterable<SchedTarget>,
    private readonly log: Logger,
    opts: SchedCollectorOptions = {},
  ) {
    this.files = opts.files ?? new KernelFiles({ maxOpen: 2048 });
    this.procRoot = opts.procRoot ?? '/proc';
    this.intervalMs = opts.intervalMs ?? 5000;
    this.fullEvery = Math.max(1, opts.fullEvery ?? 10);
    this.availability = detectSchedstat(this.files, this.procRoot, cg.feature('sched_schedstats'));
  }

  start(): void {
    if (!this.availability.available) {
      this.log.info({ reason: this.availability.reason }, 'container scheduling delay not collected');
      return;
    }
    this.timer = setInterval(() => this.collect(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.files.close();
  }

  /** A container's cumulative run-queue wait, if collected. */
  wait(id: string): WaitCounter | undefined {
    return this.counters.get(id);
  }

  private readonly threadFiles = new Map<string, string | undefined>();

  /** The cgroup's thread list: v1 `tasks` of the cpu hierarchy, v2 `cgroup.threads`. */
  private threadsFile(path: string): string | undefined {
    if (this.threadFiles.has(path)) return this.threadFiles.get(path);
    const dir = this.cg.mode === 'v2' ? this.cg.dir(path) : this.cg.dir(path, 'cpu');
    const file = dir === undefined ? undefined : join(dir, this.cg.mode === 'v2' ? 'cgroup.threads' : 'tasks');
    if (this.threadFiles.size > 4096) this.threadFiles.clear();
    this.threadFiles.set(path, file);
    return file;
  }

  private readings(path: string): Map<number, number> | undefined {
    const file = this.threadsFile(path);
    if (!file) return undefined;
    let list: string;
    try {
      list = this.files.read(file);
    } catch {
      return undefined; // the cgroup is gone: no series
    }
    const out = new Map<number, number>();
    for (const line of list.split('\n')) {
      const tid = Number(line);
      if (!line || !Number.isInteger(tid)) continue;
      try {
        const s = parseSchedStat(this.files.read(`${this.procRoot}/${tid}/schedstat`));
        if (s) out.set(tid, s.waitNs);
      } catch {
        /* the thread exited between the list and the read */
      }
    }
    return out;
  }

  /** One pass now (the timer calls this; tests may too). */
  collect(): void {
    if (!this.availability.available) return;
    const started = process.cpuUsage();
    const live = new Set<string>();
    for (const t of this.targets()) {
      live.add(t.id);
      const prev = this.counters.get(t.id);
      if (prev && t.usageNs !== undefined && prev.usageNs === t.usageNs && (this.passes + t.id.length) % this.fullEvery !== 0) continue;
      try {
        const r = this.readings(t.cgroupPath);
        if (r) this.counters.set(t.id, advanceWait(prev, r, t.usageNs));
        else this.counters.delete(t.id);
      } catch (err) {
        this.log.debug({ id: t.id, err }, 'schedstat pass failed');
      }
    }
    for (const id of this.counters.keys()) if (!live.has(id)) this.counters.delete(id);
    this.files.sweep();
    this.passes++;
    this.busyNs += cpuNsSince(started);
  }
}
