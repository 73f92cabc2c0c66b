/**
 * The verdict on a latency-sensitive pod: "degraded" when any of its cgroups (the pod's, each
 * container's) crossed a threshold over the window, naming which signal crossed which
 * threshold; "ok" otherwise. Pure. Signals the kernel does not provide here (per-cgroup PSI
 * on v1, run delay without schedstat) are simply not evaluated, and listed as such.
 */
import type { WindowRates } from './window.js';

/** Thresholds over the window; a signal above its threshold degrades the pod. */
export interface Thresholds {
  /** Throttled CFS periods / periods. */
  cpuThrottledRatio: number;
  /** Per-cgroup PSI "some" stall, fraction of wall time. */
  cpuPressure: number;
  memoryPressure: number;
  ioPressure: number;
  /** Run-queue wait, seconds per second summed over threads. */
  schedWaitRatio: number;
  /** OOM kills in the window above this. */
  oomKills: number;
  /** memory.high events in the window above this (v2). */
  memoryHighEvents: number;
  /** Working set / memory limit. */
  memoryLimitRatio: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  cpuThrottledRatio: 0.25,
  cpuPressure: 0.1,
  memoryPressure: 0.05,
  ioPressure: 0.2,
  schedWaitRatio: 0.2,
  oomKills: 0,
  memoryHighEvents: 0,
  memoryLimitRatio: 0.95,
};

export type Signal = keyof Thresholds;

/** Signals of one cgroup for the verdict: window rates plus the current memory fill. */
export type Signals = Partial<Record<Signal, number>>;

export function signalsOf(r: WindowRates | undefined, memoryLimitRatio: number | undefined): Signals {
  const out: Signals = {};
  if (r) {
    for (const k of ['cpuThrottledRatio', 'cpuPressure', 'memoryPressure', 'ioPressure', 'schedWaitRatio', 'oomKills', 'memoryHighEvents'] as const) {
      const v = r[k];
      if (v !== undefined) out[k] = v;
    }
  }
  if (memoryLimitRatio !== undefined) out.memoryLimitRatio = memoryLimitRatio;
  return out;
}

export interface Crossing {
  signal: Signal;
  /** "pod" or the container name. */
  scope: string;
  value: number;
  threshold: number;
}

export interface Verdict {
  status: 'ok' | 'degraded';
  crossed: Crossing[];
}

/** Evaluate every scope's signals; all crossings are reported, worst (by value/threshold) first. */
export function verdictOf(scopes: { scope: string; signals: Signals }[], t: Thresholds): Verdict {
  const crossed: Crossing[] = [];
  for (const { scope, signals } of scopes) {
    for (const [k, v] of Object.entries(signals) as [Signal, number][]) {
      const threshold = t[k];
      if (threshold !== undefined && v > threshold) crossed.push({ signal: k, scope, value: round(v), threshold });
    }
  }
  const severity = (c: Crossing) => (c.threshold > 0 ? c.value / c.threshold : Number.POSITIVE_INFINITY);
  crossed.sort((a, b) => severity(b) - severity(a));
  return { status: crossed.length ? 'degraded' : 'ok', crossed };
}

export function round(v: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
