/**
 * Rates over a sliding window for the SLI report and verdicts: the collectors' counters (CPU,
 * CFS throttling, PSI stall time, OOM kills, memory.high events, run-queue wait) are kept per
 * container/pod for the last `windowMs`, and rates are taken between the oldest point still
 * covering the window and the newest. Pure: callers push points with their timestamps.
 */
import type { Pressure } from '../cgroups/index.js';
import type { Sample } from './sampler.js';

/** Cumulative counters of one cgroup at one time. Time values in ns; PSI stall in µs. */
export interface CounterPoint {
  atMs: number;
  /** Identity of what was read (a cgroup path): a change restarts the history. */
  source: string;
  cpuNs?: number;
  periods?: number;
  throttledPeriods?: number;
  throttledNs?: number;
  cpuSomeUs?: number;
  memorySomeUs?: number;
  memoryFullUs?: number;
  ioSomeUs?: number;
  oomKills?: number;
  memoryHigh?: number;
  memoryMax?: number;
  schedWaitNs?: number;
}

export interface WindowRates {
  /** Seconds the rates cover. */
  spanSeconds: number;
  /** CPU used, in cores. */
  cpuCores?: number;
  /** Throttled CFS periods / elapsed periods (0..1). */
  cpuThrottledRatio?: number;
  /** Fraction of wall time some task stalled on CPU / memory / IO (per-cgroup PSI). */
  cpuPressure?: number;
  memoryPressure?: number;
  memoryFullPressure?: number;
  ioPressure?: number;
  /** Run-queue wait, seconds per second summed over threads. */
  schedWaitRatio?: number;
  /** Events in the window. */
  oomKills?: number;
  memoryHighEvents?: number;
  memoryMaxEvents?: number;
}

const some = (p: Pressure | undefined) => p?.some.totalUs;

/** The counters of a sample (and optionally its run-queue wait); PSI only when read this pass. */
export function pointOf(s: Sample, schedWaitNs?: number): CounterPoint {
  const { cpu, memory } = s.stats;
  const psi = s.psiAtNs === s.timestampNs ? s.stats.psi : undefined;
  return {
    atMs: Number(s.timestampNs / 1_000_000n),
    source: s.cgroupPath,
    cpuNs: cpu?.usageNs,
    periods: cpu?.periods,
    throttledPeriods: cpu?.throttledPeriods,
    throttledNs: cpu?.throttledNs,
    cpuSomeUs: some(psi?.cpu),
    memorySomeUs: some(psi?.memory),
    memoryFullUs: psi?.memory?.full?.totalUs,
    ioSomeUs: some(psi?.io),
    oomKills: memory?.oomKills,
    memoryHigh: memory?.events?.high,
    memoryMax: memory?.events?.max,
    schedWaitNs,
  };
}

type CounterKey = Exclude<keyof CounterPoint, 'atMs' | 'source'>;

/**
 * Rates over `points` (oldest first). Each counter is taken between the oldest and the newest
 * point that have it (collectors on other intervals, e.g. schedstat, and PSI read every few
 * passes, fill in sparsely); a counter that went backwards gives no rate.
 */
export function ratesOver(points: CounterPoint[]): WindowRates | undefined {
  const b = points[points.length - 1];
  if (!b || points.length < 2) return undefined;
  const ends = (k: CounterKey) => {
    const a = points.find((p) => p[k] !== undefined);
    let z: CounterPoint | undefined;
    for (let i = points.length - 1; i >= 0 && !z; i--) if (points[i]![k] !== undefined) z = points[i];
    return a && z && a !== z ? { a, z } : undefined;
  };
  const delta = (k: CounterKey): { d: number; dtMs: number } | undefined => {
    const e = ends(k);
    const va = e?.a[k];
    const vb = e?.z[k];
    if (!e || va === undefined || vb === undefined || vb < va || e.z.atMs <= e.a.atMs) return undefined;
    return { d: vb - va, dtMs: e.z.atMs - e.a.atMs };
  };
  const perSec = (k: CounterKey, unitsPerSecond: number) => {
    const x = delta(k);
    return x && x.d / unitsPerSecond / (x.dtMs / 1000);
  };
  const count = (k: CounterKey) => delta(k)?.d;
  const spanMs = b.atMs - points[0]!.atMs;
  if (spanMs <= 0) return undefined;
  // Throttled and elapsed periods from the same base point.
  const pe = ends('periods');
  const diff = (k: 'periods' | 'throttledPeriods') => {
    const va = pe?.a[k];
    const vb = pe?.z[k];
    return va !== undefined && vb !== undefined && vb >= va ? vb - va : undefined;
  };
  const periods = diff('periods');
  const throttled = diff('throttledPeriods');
  return {
    spanSeconds: spanMs / 1000,
    cpuCores: perSec('cpuNs', 1e9),
    cpuThrottledRatio: periods && throttled !== undefined ? Math.min(1, throttled / periods) : periods === 0 ? 0 : undefined,
    cpuPressure: perSec('cpuSomeUs', 1e6),
    memoryPressure: perSec('memorySomeUs', 1e6),
    memoryFullPressure: perSec('memoryFullUs', 1e6),
    ioPressure: perSec('ioSomeUs', 1e6),
    schedWaitRatio: perSec('schedWaitNs', 1e9),
    oomKills: count('oomKills'),
    memoryHighEvents: count('memoryHigh'),
    memoryMaxEvents: count('memoryMax'),
  };
}

export function ratesBetween(a: CounterPoint, b: CounterPoint): WindowRates | undefined {
  return ratesOver([a, b]);
}

export class CounterWindow {
  private readonly points = new Map<string, CounterPoint[]>();

  constructor(readonly windowMs: number) {}

  push(id: string, p: CounterPoint): void {
    let list = this.points.get(id);
    if (!list || list[list.length - 1]!.source !== p.source) this.points.set(id, (list = []));
    const last = list[list.length - 1];
    if (last && p.atMs <= last.atMs) return;
    list.push(p);
    // Keep exactly one point at or before the window start: the base of the rates.
    const start = p.atMs - this.windowMs;
    while (list.length > 2 && list[1]!.atMs <= start) list.shift();
  }

  /** Rates over (up to) the window; undefined until there are two points. */
  rates(id: string): WindowRates | undefined {
    const list = this.points.get(id);
    return list ? ratesOver(list) : undefined;
  }

  /** Number of ids with history. */
  get size(): number {
    return this.points.size;
  }

  /** Forget ids not in `live`. */
  retain(live: Set<string>): void {
    for (const id of this.points.keys()) if (!live.has(id)) this.points.delete(id);
  }
}
