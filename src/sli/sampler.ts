/**
 * The one background sampler of container and pod resource usage (CRI stats now, SLI
 * metrics later read the same cache): every interval it reads each running container's and
 * pod's cgroup once (through src/cgroups), derives CPU rates from the previous sample, and
 * reads pod network counters from the pause process's /proc; writable-layer usage is walked
 * on a slower cadence. Readers never touch the kernel or a shim per call.
 */
import type { CgroupManager, CgroupStats } from '../cgroups/index.js';
import type { Logger } from '../util/log.js';
import { diskUsage, type DiskUsage } from './disk-usage.js';
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
  timestampNs: bigint;
  cgroupPath: string;
  stats: CgroupStats;
  /** Nanoseconds of CPU per second over the last interval (undefined on the first sample). */
  usageNanoCores?: number;
  network?: IfaceCounters[];
  disk?: DiskUsage & { timestampNs: bigint };
}

export interface SamplerSource {
  containers(): Target[];
  pods(): Target[];
}

export interface SamplerOptions {
  intervalMs?: number;
  diskIntervalMs?: number;
}

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

export class StatsSampler {
  private readonly samples = new Map<string, Sample>();
  private readonly paths = new Map<string, { pid: number; path: string }>();
  private timer: NodeJS.Timeout | undefined;
  private diskTimer: NodeJS.Timeout | undefined;
  private diskRunning = false;
  private readonly intervalMs: number;
  private readonly diskIntervalMs: number;

  constructor(
    private readonly cg: CgroupManager,
    private readonly source: SamplerSource,
    private readonly log: Logger,
    opts: SamplerOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.diskIntervalMs = opts.diskIntervalMs ?? 10_000;
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
  }

  /** The latest sample of a container or pod, taking one now if it has none yet. */
  get(target: Target, kind: 'container' | 'pod'): Sample | undefined {
    return this.samples.get(target.id) ?? this.sampleOne(target, kind === 'pod');
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
    const stats = this.cg.readStats(path, { perCpu: false, io: false, psi: this.cg.mode === 'v2' });
    if (!stats) return undefined;
    const prev = this.samples.get(t.id);
    const ts = nowNs();
    let usageNanoCores: number | undefined;
    if (prev?.stats.cpu && stats.cpu && prev.cgroupPath === path) {
      const dt = Number(ts - prev.timestampNs);
      if (dt > 0) usageNanoCores = Math.max(0, Math.round(((stats.cpu.usageNs - prev.stats.cpu.usageNs) / dt) * 1e9));
    }
    const s: Sample = { id: t.id, timestampNs: ts, cgroupPath: path, stats, usageNanoCores, disk: prev?.disk };
    if (pod) s.network = netDevOf(t.pid);
    this.samples.set(t.id, s);
    return s;
  }

  private tick(): void {
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
    for (const id of this.samples.keys()) if (!live.has(id)) this.samples.delete(id);
    for (const id of this.paths.keys()) if (!live.has(id)) this.paths.delete(id);
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
