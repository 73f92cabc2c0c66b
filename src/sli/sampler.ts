/**
 * The one background sampler of container and pod resource usage (CRI stats, QoS and the SLI
 * collectors read the same cache): every interval it reads each running container's and pod's
 * cgroup through the cgroups library's stats reader (cached descriptors), derives CPU rates
 * from the previous sample, and reads pod network counters from the pause process's /proc;
 * writable-layer usage is walked on a slower cadence. Readers never touch the kernel or a shim
 * per call. Subscribers hear about each finished pass (the SLI window and verdicts).
 *
 * Cost control (100 busy containers every second must stay well under 1 % of a core): see
 * cadence.ts — an idle cgroup (CPU and memory usage unchanged) costs two small reads and keeps
 * its last sample; a busy one costs three (CPU usage, memory usage, memory.stat; and the CFS
 * counters if it has a CPU quota); every cgroup is read in full every `fullEvery` passes; PSI,
 * v2 memory.events and pids.current every `psiEvery` passes; limits and other slow parts about
 * every 10 s. CPU usage and the memory working set are therefore never older than one pass.
 */
import { CgroupStatsReader, type CgroupManager, type CgroupStats } from '../cgroups/index.js';
import type { Logger } from '../util/log.js';
import { passesFor, phaseOf, planRead, unmoved, type Cadence } from './cadence.js';
import { diskUsage, type DiskUsage } from './disk-usage.js';
import { cpuMark, cpuNsSince, KernelFiles } from './kernel-files.js';
import { CpuSlicer, DEFAULT_SLICE_MS } from '../util/yield.js';
import { netDevOf, procCgroupPath, type IfaceCounters } from './proc.js';

export interface Target {
  id: string;
  pid: number;
  /** The cgroup to read (as the cgroups library addresses it); found from /proc/<pid>/cgroup when absent. */
  cgroupPath?: string;
  /** Writable layer dir (containers only). */
  rwDir?: string;
}

export interface Sample {
  id: string;
  kind: 'container' | 'pod';
  timestampNs: bigint;
  cgroupPath: string;
  /** cpu (usage, user/system, CFS periods and throttling), memory (usage, working set, stat,
   * limit, OOM kills, v2 events), pids; per-cgroup PSI when the kernel has it. */
  stats: CgroupStats;
  /** Nanoseconds of CPU per second over the last interval (undefined on the first sample). */
  usageNanoCores?: number;
  network?: IfaceCounters[];
  disk?: DiskUsage & { timestampNs: bigint };
  /** When `stats.psi` was read (PSI is read every few passes; its totals are cumulative). */
  psiAtNs?: bigint;
  /** True when the probe showed CPU and memory usage unchanged (idle): the rest is from the last full read. */
  carried?: boolean;
}

export interface SamplerSource {
  containers(): Target[];
  pods(): Target[];
}

export interface SamplerOptions {
  intervalMs?: number;
  diskIntervalMs?: number;
  /** Read per-cgroup PSI (default: when the cgroups library detected it, v2 or hybrid). */
  psi?: boolean;
  /** The cgroup stats reader (default: a private one). */
  reader?: CgroupStatsReader;
  /**
   * A cgroup whose CPU and memory usage did not move since the last pass is idle: only those
   * two files are read and the rest is carried over — except every `fullEvery` passes (default
   * 10, so at most 10 s stale at 1 s, like cAdvisor's housekeeping), staggered across cgroups.
   */
  fullEvery?: number;
  /** Per-cgroup PSI, v2 memory.events and pids.current every `psiEvery` passes (default 5). */
  psiEvery?: number;
  /** Limits, high-water marks, v1 failcnt / OOM kills, pids.max, v1 user/system split: about every `slowMs` (default 10 s). */
  slowMs?: number;
  /** The longest stretch (ms) a pass runs before it pauses and leaves the CPU (default 0.5). */
  sliceMs?: number;
}

export type SampleListener = (samples: ReadonlyMap<string, Sample>) => void;

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

export class StatsSampler {
  private readonly samples = new Map<string, Sample>();
  private readonly paths = new Map<string, { pid: number; path: string }>();
  /** Pod id → the pid whose /proc/<pid>/net/dev is read (its descriptor is cached). */
  private readonly netPids = new Map<string, number>();
  private readonly listeners = new Set<SampleListener>();
  private timer: NodeJS.Timeout | undefined;
  private diskTimer: NodeJS.Timeout | undefined;
  private diskRunning = false;
  private readonly intervalMs: number;
  private readonly diskIntervalMs: number;
  private readonly reader: CgroupStatsReader;
  /** /proc files (pod network counters). */
  private readonly procFiles = new KernelFiles({ maxOpen: 1024 });
  private readonly cadence: Cadence;
  /** CPU time spent in passes (ns), for the collectors' own overhead series. */
  busyNs = 0n;
  passes = 0;
  private ticking?: Promise<void>;
  private stopped = false;
  private readonly slicer: CpuSlicer;

  /** Descriptors its readers keep open. */
  get openDescriptors(): number {
    return this.reader.openDescriptors + this.procFiles.size;
  }

  constructor(
    private readonly cg: CgroupManager,
    private readonly source: SamplerSource,
    private readonly log: Logger,
    opts: SamplerOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.slicer = new CpuSlicer(opts.sliceMs ?? DEFAULT_SLICE_MS);
    this.diskIntervalMs = opts.diskIntervalMs ?? 10_000;
    this.reader = opts.reader ?? new CgroupStatsReader(cg.system, { psi: opts.psi });
    this.cadence = {
      fullEvery: Math.max(1, opts.fullEvery ?? 10),
      psiEvery: Math.max(1, opts.psiEvery ?? 5),
      slowEvery: passesFor(opts.slowMs ?? 10_000, this.intervalMs),
    };
  }

  get interval(): number {
    return this.intervalMs;
  }

  /** Whether samples carry per-cgroup PSI. */
  get readsPsi(): boolean {
    return this.reader.psi;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    this.diskTimer = setInterval(() => void this.diskTick(), this.diskIntervalMs);
    this.diskTimer.unref();
    void this.tick(false);
    void this.diskTick();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.diskTimer);
    this.reader.close();
    this.procFiles.close();
  }

  /** Hear about every finished pass. Returns an unsubscribe function. */
  subscribe(fn: SampleListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The latest sample of a container or pod, taking one now if it has none yet. */
  get(target: Target, kind: 'container' | 'pod'): Sample | undefined {
    return this.samples.get(target.id) ?? this.sampleOne(target, kind === 'pod');
  }

  /** The latest sample of an id, if any (never reads the kernel). */
  latest(id: string): Sample | undefined {
    return this.samples.get(id);
  }

  /** Every cached sample, by container or pod id. */
  all(): ReadonlyMap<string, Sample> {
    return this.samples;
  }

  private cgroupPathOf(t: Target): string | undefined {
    if (t.cgroupPath) return t.cgroupPath;
    const cached = this.paths.get(t.id);
    if (cached && cached.pid === t.pid) return cached.path;
    const path = procCgroupPath(t.pid, this.cg.mode === 'v2');
    if (path === undefined) return undefined;
    this.paths.set(t.id, { pid: t.pid, path });
    return path;
  }

  private sampleOne(t: Target, pod: boolean): Sample | undefined {
    if (t.pid <= 0) return undefined;
    const path = this.cgroupPathOf(t);
    if (path === undefined) return undefined;
    const ts = nowNs();
    const prev = this.samples.get(t.id);
    const same = prev !== undefined && prev.cgroupPath === path && prev.stats.partial === undefined;
    const plan = planRead(this.passes, phaseOf(t.id), { sample: same, psi: same && prev.psiAtNs !== undefined }, this.cadence);
    if (same && plan.probeFirst) {
      const probe = this.reader.probe(path);
      if (!probe) return this.gone(t.id);
      if (unmoved(probe, { cpuNs: prev.stats.cpu?.usageNs, memoryBytes: prev.stats.memory?.usageBytes })) {
        // Updated in place: this runs for most cgroups every pass, and readers copy what they use.
        prev.timestampNs = ts;
        prev.stats.timestampMs = Date.now();
        prev.usageNanoCores = 0;
        prev.carried = true;
        if (pod) prev.network = this.network(t, plan.warm);
        return prev;
      }
    }
    // A full read (new cgroup, or its turn every fullEvery passes) re-reads memory.stat even if memory usage is unchanged.
    const stats = this.reader.read(path, { warm: plan.warm, slow: plan.slow, memoryStat: !plan.probeFirst });
    if (!stats) return this.gone(t.id);
    let psiAtNs = same ? prev.psiAtNs : undefined;
    if (plan.warm && stats.psi) psiAtNs = ts;
    let usageNanoCores: number | undefined;
    if (prev?.stats.cpu && stats.cpu && prev.cgroupPath === path) {
      const dt = Number(ts - prev.timestampNs);
      if (dt > 0) usageNanoCores = Math.max(0, Math.round(((stats.cpu.usageNs - prev.stats.cpu.usageNs) / dt) * 1e9));
    }
    const s: Sample = { id: t.id, kind: pod ? 'pod' : 'container', timestampNs: ts, cgroupPath: path, stats, usageNanoCores, disk: prev?.disk, psiAtNs };
    if (pod) s.network = this.network(t, plan.warm);
    this.samples.set(t.id, s);
    return s;
  }

  /**
   * The pod's interface counters, from its pause process's /proc/<pid>/net/dev over a cached
   * descriptor. A descriptor reads the network namespace it was opened in for as long as it is
   * open, so whether the process still exists is checked when the descriptor is opened and on
   * the warm cadence (`check`): once it is gone the pod has no network series, and the
   * descriptor is closed (also when the pod goes away or its pid changes).
   */
  private network(t: Target, check: boolean): IfaceCounters[] | undefined {
    const old = this.netPids.get(t.id);
    if (old !== undefined && old !== t.pid) this.forgetNet(t.id);
    if (check || old !== t.pid) {
      try {
        process.kill(t.pid, 0);
      } catch {
        this.forgetNet(t.id);
        return undefined;
      }
    }
    this.netPids.set(t.id, t.pid);
    return netDevOf(t.pid, this.procFiles);
  }

  private forgetNet(id: string): void {
    const pid = this.netPids.get(id);
    if (pid === undefined) return;
    this.netPids.delete(id);
    this.procFiles.forgetDir(`/proc/${pid}/net`);
  }

  /** The cgroup is gone: no stale numbers. */
  private gone(id: string): undefined {
    this.samples.delete(id);
    return undefined;
  }

  /**
   * One pass over every container and pod; a pass still running is joined, not doubled.
   * `sliced` false: no pauses, the whole pass before returning (start(): samples exist at once).
   */
  private tick(sliced = true): Promise<void> {
    this.ticking ??= this.pass(sliced).finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async pass(sliced: boolean): Promise<void> {
    let started = cpuMark();
    this.slicer.restart();
    const live = new Set<string>();
    for (const [targets, pod] of [
      [this.source.containers(), false],
      [this.source.pods(), true],
    ] as const) {
      for (const t of targets) {
        live.add(t.id);
        try {
          this.sampleOne(t, pod);
        } catch (err) {
          this.log.debug({ id: t.id, err }, 'sampling failed');
        }
        // Leave the CPU now and then (util/yield.ts): a pass over every cgroup was one stretch on
        // the CPU each second. Only the pass's own CPU is counted, not what ran during a pause.
        if (sliced && this.slicer.due()) {
          this.busyNs += cpuNsSince(started);
          await this.slicer.pause();
          started = cpuMark();
          if (this.stopped) return;
        }
      }
    }
    // Targets that appeared during the pass (sampled by get()) are not stale.
    for (const t of this.source.containers()) live.add(t.id);
    for (const t of this.source.pods()) live.add(t.id);
    for (const [id, s] of this.samples) {
      if (live.has(id)) continue;
      this.samples.delete(id);
      this.reader.forget(s.cgroupPath);
    }
    for (const id of this.paths.keys()) if (!live.has(id)) this.paths.delete(id);
    for (const id of this.netPids.keys()) if (!live.has(id)) this.forgetNet(id);
    this.reader.sweep();
    this.procFiles.sweep();
    this.busyNs += cpuNsSince(started);
    this.passes++;
    for (const l of this.listeners) {
      try {
        l(this.samples);
      } catch (err) {
        this.log.warn({ err }, 'sample listener failed');
      }
    }
  }

  private async diskTick(): Promise<void> {
    if (this.diskRunning) return;
    this.diskRunning = true;
    try {
      for (const t of this.source.containers()) {
        if (!t.rwDir) continue;
        const u = await diskUsage(t.rwDir);
        const s = this.samples.get(t.id);
        if (s) s.disk = { ...u, timestampNs: nowNs() };
      }
    } finally {
      this.diskRunning = false;
    }
  }

  /** Writable-layer usage of one container, walked now if never measured. */
  async disk(t: Target): Promise<(DiskUsage & { timestampNs: bigint }) | undefined> {
    const s = this.samples.get(t.id);
    if (s?.disk) return s.disk;
    if (!t.rwDir) return undefined;
    const d = { ...(await diskUsage(t.rwDir)), timestampNs: nowNs() };
    if (s) s.disk = d;
    return d;
  }
}
