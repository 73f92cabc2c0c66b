/**
 * The one background sampler of container and pod resource usage (CRI stats and the SLI
 * collectors read the same cache): every interval it reads each running container's and
 * pod's cgroup once (through src/cgroups, over cached descriptors), derives CPU rates from the
 * previous sample, and reads pod network counters from the pause process's /proc; writable-
 * layer usage is walked on a slower cadence. Readers never touch the kernel or a shim per
 * call. Subscribers hear about each finished pass (the SLI window and verdicts).
 *
 * Cost control (100 containers every second must stay near 1 % of a core): a cgroup whose CPU
 * usage has not moved is idle and costs one read (the rest of its sample is carried over, and
 * re-read in full every `fullEvery` passes); per-cgroup PSI is read every `psiEvery` passes;
 * limits and high-water marks are re-read every 10 s (KernelFiles slowFiles).
 */
import { cleanCgroupPath, readStats, type CgroupManager, type CgroupStats } from '../cgroups/index.js';
import { parseFlatKeyed, parseInteger } from '../cgroups/parse.js';
import type { Logger } from '../util/log.js';
import { diskUsage, type DiskUsage } from './disk-usage.js';
import { CGROUP_SLOW_FILES, cpuNsSince, KernelFiles } from './kernel-files.js';
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
  /** True when only CPU usage was read this pass and had not moved (idle): the rest is from the last full read. */
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
  /** Descriptor cache for the reads (default: a private one). */
  files?: KernelFiles;
  /**
   * A cgroup whose CPU usage did not move since the last pass is idle: only its CPU files are
   * read, the rest is carried over — except every `fullEvery` passes (default 10, so at most
   * 10 s stale at 1 s, like cAdvisor's housekeeping), staggered across cgroups.
   */
  fullEvery?: number;
  /** Per-cgroup PSI is read every `psiEvery` passes (default 5); its totals are cumulative counters. */
  psiEvery?: number;
}

export type SampleListener = (samples: ReadonlyMap<string, Sample>) => void;

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

export class StatsSampler {
  private readonly samples = new Map<string, Sample>();
  private readonly paths = new Map<string, { pid: number; path: string }>();
  private readonly listeners = new Set<SampleListener>();
  private timer: NodeJS.Timeout | undefined;
  private diskTimer: NodeJS.Timeout | undefined;
  private diskRunning = false;
  private readonly intervalMs: number;
  private readonly diskIntervalMs: number;
  private readonly psi: boolean;
  private readonly files: KernelFiles;
  private readonly fullEvery: number;
  /** Cgroup path → its CPU usage file, for the idle probe. */
  private readonly probeFiles = new Map<string, string>();
  private lastProbe: { file: string; text: string } | undefined;
  private readonly psiEvery: number;
  /** CPU time spent in passes (ns), for the collectors' own overhead series. */
  busyNs = 0n;
  passes = 0;

  /** Descriptors its reader keeps open. */
  get openDescriptors(): number {
    return this.files.size;
  }

  constructor(
    private readonly cg: CgroupManager,
    private readonly source: SamplerSource,
    private readonly log: Logger,
    opts: SamplerOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.diskIntervalMs = opts.diskIntervalMs ?? 10_000;
    this.psi = opts.psi ?? (cg.mode === 'v2' || cg.feature('psi.cgroup')?.available === true);
    this.files = opts.files ?? new KernelFiles({ slowFiles: CGROUP_SLOW_FILES });
    this.fullEvery = Math.max(1, opts.fullEvery ?? 10);
    this.psiEvery = Math.max(1, opts.psiEvery ?? 5);
  }

  get interval(): number {
    return this.intervalMs;
  }

  /** Whether samples carry per-cgroup PSI. */
  get readsPsi(): boolean {
    return this.psi;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
    this.diskTimer = setInterval(() => void this.diskTick(), this.diskIntervalMs);
    this.diskTimer.unref();
    this.tick();
    void this.diskTick();
  }

  stop(): void {
    clearInterval(this.timer);
    clearInterval(this.diskTimer);
    this.files.close();
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
    const clean = cleanCgroupPath(path);
    const ts = nowNs();
    const prev = this.samples.get(t.id);
    const same = prev !== undefined && prev.cgroupPath === path && prev.stats.partial === undefined;
    const phase = this.passes + phaseOf(t.id);
    if (same && phase % this.fullEvery !== 0) {
      // Idle probe: CPU usage alone (one file); unchanged means nothing else moved either.
      const usage = this.probeUsage(clean);
      if (usage !== undefined && usage === prev.stats.cpu?.usageNs) {
        // Updated in place: this runs for most cgroups every pass, and readers copy what they use.
        prev.timestampNs = ts;
        prev.stats.timestampMs = Date.now();
        prev.usageNanoCores = 0;
        prev.carried = true;
        return prev;
      }
      // Active: the full read below reads the usage file again; hand it the content just read.
      if (this.lastProbe) this.files.preload(this.lastProbe.file, this.lastProbe.text);
    }
    const wantPsi = this.psi && (!same || prev.psiAtNs === undefined || phase % this.psiEvery === 0);
    const stats = readStats(this.cg.system, clean, { perCpu: false, io: false, psi: wantPsi }, this.files);
    if (!stats) return this.gone(t.id);
    let psiAtNs = same ? prev.psiAtNs : undefined;
    if (wantPsi && stats.psi) psiAtNs = ts;
    else if (same && prev.stats.psi) stats.psi = prev.stats.psi;
    let usageNanoCores: number | undefined;
    if (prev?.stats.cpu && stats.cpu && prev.cgroupPath === path) {
      const dt = Number(ts - prev.timestampNs);
      if (dt > 0) usageNanoCores = Math.max(0, Math.round(((stats.cpu.usageNs - prev.stats.cpu.usageNs) / dt) * 1e9));
    }
    const s: Sample = { id: t.id, kind: pod ? 'pod' : 'container', timestampNs: ts, cgroupPath: path, stats, usageNanoCores, disk: prev?.disk, psiAtNs };
    // Opened afresh each time: a kept descriptor would pin the pod's network namespace and go on
    // reading it after the pause process is gone.
    if (pod) s.network = netDevOf(t.pid);
    this.samples.set(t.id, s);
    return s;
  }

  /**
   * The cgroup's total CPU usage in ns from its one usage file (v1 cpuacct.usage, v2 cpu.stat
   * usage_usec), or undefined when it cannot be read (then a full read decides). Read here
   * rather than through readStats, whose per-call overhead is ten times the read's; the value
   * is the same one readStats reports as cpu.usageNs.
   */
  private probeUsage(clean: string): number | undefined {
    this.lastProbe = undefined;
    let file = this.probeFiles.get(clean);
    if (file === undefined) {
      const v2 = this.cg.mode === 'v2';
      const dir = v2 ? this.cg.dir(clean) : this.cg.dir(clean, 'cpuacct');
      if (!dir) return undefined;
      file = `${dir}/${v2 ? 'cpu.stat' : 'cpuacct.usage'}`;
      this.probeFiles.set(clean, file);
    }
    try {
      const text = this.files.read(file);
      this.lastProbe = { file, text };
      if (this.cg.mode !== 'v2') return parseInteger(text);
      const usec = parseFlatKeyed(text).usage_usec;
      return usec === undefined ? undefined : usec * 1000;
    } catch {
      return undefined;
    }
  }

  /** The cgroup is gone: no stale numbers. */
  private gone(id: string): undefined {
    this.samples.delete(id);
    return undefined;
  }

  private tick(): void {
    const started = process.cpuUsage();
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
      }
    }
    for (const [id, s] of this.samples) {
      if (live.has(id)) continue;
      this.samples.delete(id);
      this.files.forgetDir(cleanCgroupPath(s.cgroupPath));
    }
    for (const id of this.paths.keys()) if (!live.has(id)) this.paths.delete(id);
    if (this.probeFiles.size > 2 * this.samples.size + 64) this.probeFiles.clear();
    this.files.sweep();
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

/** A small stable number per id, to stagger full reads across cgroups. */
function phaseOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) | 0;
  return h >>> 0;
}
