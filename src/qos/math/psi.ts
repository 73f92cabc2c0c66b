/**
 * PSI feedback (pure): a multiplicative-decrease / additive-increase controller on the BE
 * allowance. While the latency-sensitive side stalls on CPU more than the target, the factor
 * shrinks by `tightenFactor` per step; once the stall is under half the target it grows back
 * by `relaxPercent` points per step; in between it holds.
 *
 * The stall steered by is a mean over about `windowSeconds` (exponentially weighted, like the
 * kernel's avg10), not the last period's alone: a fork-heavy LS pod's one-second stall jumps
 * around its mean, and steering by single periods tightened on every jump above the target but
 * relaxed only on falls below half of it, so the factor sank while the mean stayed under the
 * target (bench/colocation: LS stall 15 % on average over 10 s, factor 0.59–0.80). A period
 * over twice the target still tightens at once.
 *
 * Which signal: LS pods' own cgroup CPU pressure where the kernel has per-cgroup PSI (v2; and
 * hybrid hosts, where runc also puts containers in the unified hierarchy). Node-wide PSI is the
 * fallback, but it counts BE's own throttled time as stall (measured here: one busy loop
 * throttled to 0.2 cores took node "some" from 1 % to 41 %), so with it the controller tends to
 * push BE to its floor whenever BE is suppressed at all.
 */

export interface PsiConfig {
  targetPercent: number;
  tightenFactor: number;
  relaxPercent: number;
  minFactor: number;
}

/** A period whose stall exceeds the target this many times tightens whatever the mean says. */
export const SPIKE_TIMES_TARGET = 2;

export type PsiAction = 'tighten' | 'relax' | 'hold' | 'no-signal';

export interface PsiStep {
  factor: number;
  action: PsiAction;
}

/**
 * One step: `pressurePercent` is the mean stall (smoothPressure), `lastPercent` the last
 * period's (default: the same).
 */
export function psiStep(previousFactor: number, pressurePercent: number | undefined, cfg: PsiConfig, lastPercent = pressurePercent): PsiStep {
  const f = Math.min(1, Math.max(cfg.minFactor, previousFactor));
  if (pressurePercent === undefined || !Number.isFinite(pressurePercent)) return { factor: f, action: 'no-signal' };
  const spike = lastPercent !== undefined && lastPercent > SPIKE_TIMES_TARGET * cfg.targetPercent;
  if (pressurePercent > cfg.targetPercent || spike) return { factor: Math.max(cfg.minFactor, round(f * cfg.tightenFactor)), action: 'tighten' };
  if (pressurePercent < cfg.targetPercent / 2 && f < 1) return { factor: Math.min(1, round(f + cfg.relaxPercent / 100)), action: 'relax' };
  return { factor: f, action: 'hold' };
}

const round = (v: number) => Math.round(v * 10000) / 10000;

/**
 * The mean stall after one more period: each period weighs 1 − e^(−period/window), so a period
 * counts for about as long as the window. No signal (no LS pod with PSI) resets the mean; a
 * window of 0, or no mean yet, gives the period's own value.
 */
export function smoothPressure(previous: number | undefined, value: number | undefined, periodMs: number | undefined, windowMs: number): number | undefined {
  if (value === undefined || !Number.isFinite(value)) return undefined;
  if (previous === undefined || windowMs <= 0 || periodMs === undefined || periodMs <= 0) return value;
  return previous + (1 - Math.exp(-periodMs / windowMs)) * (value - previous);
}

/**
 * Stall percentage over an interval from two PSI "total" readings (µs of stall, cumulative):
 * more responsive than the kernel's avg10. Undefined when either is missing or time did not pass.
 */
export function pressurePercent(prevTotalUs: number | undefined, curTotalUs: number | undefined, elapsedMs: number): number | undefined {
  if (prevTotalUs === undefined || curTotalUs === undefined || elapsedMs <= 0) return undefined;
  const stalledUs = Math.max(0, curTotalUs - prevTotalUs);
  return Math.min(100, (stalledUs / (elapsedMs * 1000)) * 100);
}

/** The signal to steer by: the worst LS pod stall (pods source), or the node's. */
export function pickPressure(source: 'auto' | 'pods' | 'node', cgroupPsi: boolean, podPressures: number[], nodePressure: number | undefined): { value?: number; from: 'pods' | 'node' | 'none' } {
  const usePods = source === 'pods' || (source === 'auto' && cgroupPsi);
  if (usePods) {
    if (!cgroupPsi) return { from: 'none' };
    return podPressures.length ? { value: Math.max(...podPressures), from: 'pods' } : { value: 0, from: 'pods' };
  }
  return nodePressure === undefined ? { from: 'none' } : { value: nodePressure, from: 'node' };
}
