/**
 * BE CPU allowance (pure). The BE aggregate may use what the node has left under the
 * suppression threshold once everyone else is served:
 *
 *   allowance = capacity × threshold% − non-BE pods' usage − system usage
 *
 * scaled by the PSI feedback factor, clamped to [minCores, capacity], and — so a brief lull in
 * LS load does not hand BE the whole node at once — regrowing by at most `maxIncreaseCores` per
 * step. Shrinking is immediate.
 */

export interface AllowanceInput {
  capacityCores: number;
  thresholdPercent: number;
  /** CPU used by LSE/LSR/LS/SYSTEM pods over the last period. */
  nonBeUsedCores: number;
  /** CPU used outside every pod (node total − all pods) over the last period. */
  systemUsedCores: number;
  minCores: number;
  /** Largest increase from one step to the next. */
  maxIncreaseCores: number;
  /** PSI feedback factor in (0, 1]; 1 = no tightening. */
  factor?: number;
  /** The allowance in force (undefined on the first step). */
  previousCores?: number;
}

export type AllowanceLimit = 'formula' | 'floor' | 'capacity' | 'regrowth';

export interface Allowance {
  cores: number;
  /** The formula's value before the factor and clamps (may be negative). */
  rawCores: number;
  /** What decided the final value. */
  limitedBy: AllowanceLimit;
}

const round = (v: number) => Math.round(v * 1000) / 1000;

export function beAllowance(i: AllowanceInput): Allowance {
  const raw = (i.capacityCores * i.thresholdPercent) / 100 - i.nonBeUsedCores - i.systemUsedCores;
  const factor = i.factor ?? 1;
  let cores = Math.max(0, raw) * factor;
  let limitedBy: AllowanceLimit = 'formula';
  if (cores > i.capacityCores) {
    cores = i.capacityCores;
    limitedBy = 'capacity';
  }
  if (i.previousCores !== undefined && cores > i.previousCores + i.maxIncreaseCores) {
    cores = i.previousCores + i.maxIncreaseCores;
    limitedBy = 'regrowth';
  }
  const floor = Math.min(i.minCores, i.capacityCores);
  if (cores < floor) {
    cores = floor;
    limitedBy = 'floor';
  }
  return { cores: round(cores), rawCores: round(raw), limitedBy };
}

export interface ShareTarget {
  id: string;
  /** CPU used over the last period, cores (undefined when unknown, e.g. the first step). */
  usageCores?: number;
  /** The share applied last step, cores (undefined when none). */
  lastShareCores?: number;
  /** The container's own CPU limit, cores. */
  limitCores?: number;
}

/** The kernel's smallest quota is 1 ms per period: at 100 ms, 0.01 cores. */
export const MIN_SHARE_CORES = 0.01;

/**
 * Split the BE allowance among BE cgroups, max-min fair by demand: a cgroup that used (nearly)
 * all of its last share is "hungry" and may take as much as is left; one that used less gets
 * its usage plus headroom. What nobody wants is spread evenly, so the shares always sum to the
 * allowance (never more, except for the per-cgroup 0.01-core kernel minimum) and an idle
 * container that wakes up has room at once. Each share respects the container's own limit.
 */
export function splitAllowance(allowanceCores: number, targets: ShareTarget[]): Map<string, number> {
  const out = new Map<string, number>();
  if (targets.length === 0) return out;
  const cap = (t: ShareTarget) => t.limitCores ?? Number.POSITIVE_INFINITY;
  const want = new Map<string, number>();
  for (const t of targets) {
    const hungry = t.usageCores === undefined || t.lastShareCores === undefined || t.usageCores >= 0.9 * t.lastShareCores;
    const w = hungry ? cap(t) : Math.min(cap(t), Math.max(MIN_SHARE_CORES, t.usageCores! * 1.25 + 0.05));
    want.set(t.id, w);
    out.set(t.id, 0);
  }
  // Water-filling: give everyone an equal slice of what is left, capped at their want.
  let left = allowanceCores;
  let open = targets.filter((t) => want.get(t.id)! > 0);
  while (left > 1e-9 && open.length > 0) {
    const slice = left / open.length;
    const still: ShareTarget[] = [];
    for (const t of open) {
      const need = want.get(t.id)! - out.get(t.id)!;
      const give = Math.min(need, slice);
      out.set(t.id, out.get(t.id)! + give);
      left -= give;
      if (need > slice + 1e-9) still.push(t);
    }
    if (still.length === open.length && slice < 1e-9) break;
    open = still;
  }
  // Spread the remainder evenly up to each own limit.
  open = targets.filter((t) => out.get(t.id)! < cap(t));
  while (left > 1e-9 && open.length > 0) {
    const slice = left / open.length;
    const still: ShareTarget[] = [];
    for (const t of open) {
      const give = Math.min(cap(t) - out.get(t.id)!, slice);
      out.set(t.id, out.get(t.id)! + give);
      left -= give;
      if (cap(t) - out.get(t.id)! > 1e-9) still.push(t);
    }
    if (still.length === open.length) break;
    open = still;
  }
  // Round down, so the shares never add up to more than the allowance.
  for (const [id, v] of out) out.set(id, Math.max(MIN_SHARE_CORES, Math.floor(v * 1000 + 1e-6) / 1000));
  return out;
}

/** Cores → CFS quota (µs per `periodUs`), at least the kernel minimum of 1000 µs. */
export function coresToQuota(cores: number, periodUs: number): number {
  return Math.max(1000, Math.floor(cores * periodUs));
}
