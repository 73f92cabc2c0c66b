/**
 * Scheduling delay of each container's tasks: the run-queue wait ("runnable but not running")
 * the kernel keeps per task in /proc/<tid>/schedstat, summed over the container's threads into
 * one monotonic counter. On its own interval; reads the container's thread list once through
 * the cgroups library (v1 `tasks` of the cpu hierarchy, v2 `cgroup.threads`) and one small
 * /proc file per thread, both over cached descriptors (a thread's is closed once the thread is
 * no longer listed).
 *
 * Whether the kernel keeps these numbers is detected, not assumed: /proc/<pid>/schedstat needs
 * CONFIG_SCHED_INFO and reads "0 0 0" when the kernel does not collect them (older kernels
 * without schedstats or delay accounting). Then the collector is off and says why.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupStatsReader, type CgroupManager } from '../cgroups/index.js';
import { errnoCode } from '../util/errors.js';
import { CpuSlicer, DEFAULT_SLICE_MS } from '../util/yield.js';
import type { Logger } from '../util/log.js';
import { passesFor, phaseOf } from './cadence.js';
import { cpuMark, cpuNsSince } from './kernel-files.js';
import { parseSchedStat, type FileReader } from './proc.js';
import { TaskSchedFiles } from './task-files.js';

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
  /** Threads listed for the first time in the last pass, not read yet (see threadsToRead). */
  pending?: Set<number>;
}

/**
 * Which of a container's listed threads to read this pass: all of them on the container's
 * first pass; afterwards the threads read before, and threads listed for the second pass in a
 * row. A new thread is read from its second pass on and then adds its whole wait since birth,
 * so nothing is lost for threads that live on; a thread that lives for less than two passes
 * (a short-lived process of a fork-heavy container) is not counted, which saves an open and a
 * close of its /proc file per thread — a thread that short-lived was counted only when a pass
 * happened to see it alive anyway.
 */
export function threadsToRead(listed: readonly number[], prev: WaitCounter | undefined): { read: number[]; pending: Set<number> } {
  const pending = new Set<number>();
  if (!prev) return { read: [...listed], pending };
  const read: number[] = [];
  for (const tid of listed) {
    if (prev.tids.has(tid) || prev.pending?.has(tid)) read.push(tid);
    else pending.add(tid);
  }
  return { read, pending };
}

/**
 * Advance a counter with this pass's readings (tid → cumulative wait ns). Known threads add
 * what they waited since the last pass; threads new since then add all of theirs (they were
 * born, or moved in, since); threads gone take nothing away. The first pass starts the counter
 * at the sum of the current threads.
 */
export function advanceWait(prev: WaitCounter | undefined, readings: Map<number, number>, usageNs?: number, pending?: Set<number>): WaitCounter {
  let total = prev?.totalNs ?? 0;
  for (const [tid, ns] of readings) {
    const last = prev?.tids.get(tid);
    total += last === undefined ? ns : Math.max(0, ns - last);
  }
  return { totalNs: total, tids: readings, tasks: readings.size + (pending?.size ?? 0), usageNs, pending };
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
  /** Reads our own /proc/self/schedstat to detect support (default: readFileSync). */
  detectReader?: FileReader;
  /**
   * A container whose CPU usage has not moved since the last pass is skipped (its counter
   * stays), except every `fullEvery` passes (default 10): a thread that is runnable but gets
   * no CPU at all for that long still shows, and per-cgroup PSI shows it sooner.
   */
  fullEvery?: number;
  /**
   * A container's thread list is re-read about every `listMs` (default 5 s: every pass at the
   * default interval); in between, the threads already known are read. A thread is found at
   * the next listing and then counted with its whole wait since birth.
   */
  listMs?: number;
  /** A pass leaves the CPU for a timer tick after this much work, ms (util/yield.ts; default 0.5; 0: before every container). */
  sliceMs?: number;
}

export class SchedCollector {
  private readonly counters = new Map<string, WaitCounter>();
  private timer: NodeJS.Timeout | undefined;
  /** Per-thread schedstat files. */
  private readonly files: TaskSchedFiles;
  /** Thread lists of the containers' cgroups. */
  private readonly cgroups: CgroupStatsReader;
  private readonly procRoot: string;
  readonly availability: SchedAvailability;
  readonly intervalMs: number;
  private readonly fullEvery: number;
  private readonly listEvery: number;
  private passes = 0;
  private ticking?: Promise<void>;
  private stopped = false;
  private readonly slicer: CpuSlicer;
  /** CPU time spent in passes (ns). */
  busyNs = 0n;

  /** Descriptors its reader keeps open. */
  get openDescriptors(): number {
    return this.files.size + this.cgroups.openDescriptors;
  }

  constructor(
    private readonly cg: CgroupManager,
    private readonly targets: () => Iterable<SchedTarget>,
    private readonly log: Logger,
    opts: SchedCollectorOptions = {},
  ) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.intervalMs = opts.intervalMs ?? 5000;
    this.fullEvery = Math.max(1, opts.fullEvery ?? 10);
    // Kept while an idle container's threads may be read again (every fullEvery passes); a
    // thread that exited fails its next read and is closed then.
    this.files = new TaskSchedFiles(this.procRoot, 2048, this.fullEvery + 2);
    this.cgroups = new CgroupStatsReader(cg.system, { psi: false, maxOpen: 2048 });
    this.listEvery = passesFor(opts.listMs ?? 5000, this.intervalMs);
    this.slicer = new CpuSlicer(opts.sliceMs ?? DEFAULT_SLICE_MS);
    const detectReader = opts.detectReader ?? { read: (p: string) => readFileSync(p, 'latin1') };
    this.availability = detectSchedstat(detectReader, this.procRoot, cg.feature('sched_schedstats'));
  }

  start(): void {
    if (!this.availability.available) {
      this.log.info({ reason: this.availability.reason }, 'container scheduling delay not collected');
      return;
    }
    this.timer = setInterval(() => void this.collect(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.files.close();
    this.cgroups.close();
  }

  /** A container's cumulative run-queue wait, if collected. */
  wait(id: string): WaitCounter | undefined {
    return this.counters.get(id);
  }

  /** Container id → the cgroup path read (to close its thread list when the container goes) and the pass. */
  private readonly pathsRead = new Map<string, { path: string; pass: number }>();

  /** Advance a container's counter; undefined when its cgroup is gone. */
  private advance(path: string, prev: WaitCounter | undefined, usageNs: number | undefined, list: boolean): WaitCounter | undefined {
    let read: number[];
    let pending: Set<number>;
    if (list || !prev) {
      const listed = this.cgroups.threadIds(path);
      if (!listed) return undefined; // the cgroup is gone: no series
      ({ read, pending } = threadsToRead(listed, prev));
    } else {
      read = [...prev.tids.keys()];
      pending = prev.pending ?? new Set();
    }
    const readings = new Map<number, number>();
    for (const tid of read) {
      const wait = this.files.waitNs(tid); // undefined: the thread exited between the list and the read
      if (wait !== undefined) readings.set(tid, wait);
    }
    return advanceWait(prev, readings, usageNs, pending);
  }

  /** One pass now, to its end (the timer calls this; tests may too); a pass still running is joined, not doubled. */
  collect(): Promise<void> {
    if (!this.availability.available) return Promise.resolve();
    this.ticking ??= this.pass().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async pass(): Promise<void> {
    let started = cpuMark();
    this.slicer.restart();
    const live = new Set<string>();
    for (const t of [...this.targets()]) {
      // Leave the CPU now and then (util/yield.ts): with many containers a pass is a long run of
      // small reads. Only the pass's own CPU is counted, not what ran during a pause.
      if (this.slicer.due()) {
        this.busyNs += cpuNsSince(started);
        await this.slicer.pause();
        started = cpuMark();
        if (this.stopped) return;
      }
      live.add(t.id);
      const prev = this.counters.get(t.id);
      const at = this.passes + phaseOf(t.id);
      if (prev && t.usageNs !== undefined && prev.usageNs === t.usageNs && at % this.fullEvery !== 0) continue;
      try {
        // Listed on its turn, and after a pass skipped (the descriptors of its threads may be closed by now).
        const last = this.pathsRead.get(t.id);
        const list = at % this.listEvery === 0 || last?.path !== t.cgroupPath || last.pass !== this.passes - 1;
        const c = this.advance(t.cgroupPath, prev, t.usageNs, list);
        this.pathsRead.set(t.id, { path: t.cgroupPath, pass: this.passes });
        if (c) this.counters.set(t.id, c);
        else this.counters.delete(t.id);
      } catch (err) {
        this.log.debug({ id: t.id, err }, 'schedstat pass failed');
      }
    }
    for (const id of this.counters.keys()) if (!live.has(id)) this.counters.delete(id);
    for (const [id, r] of this.pathsRead) {
      if (live.has(id)) continue;
      this.pathsRead.delete(id);
      this.cgroups.forget(r.path);
    }
    this.cgroups.sweep();
    this.files.sweep();
    this.passes++;
    this.busyNs += cpuNsSince(started);
  }
}
