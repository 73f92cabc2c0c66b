/**
 * Exclusive CPU allocation for LSE/LSR containers, and the BE cpuset (pure). Exclusive CPUs
 * come from the highest-numbered free CPUs (CPU 0 takes most interrupts), stick to their
 * container across steps, and never eat into the last `sharedPoolMin` CPUs of the shared pool.
 * LS and SYSTEM containers run on the shared pool, BE on the shared pool too — or, with the
 * `cpuset` suppression policy, on the whole CPUs of it the BE allowance covers.
 */

export interface ExclusiveRequest {
  /** Container id (or pod id for a VM sandbox). */
  key: string;
  cpus: number;
  /** CPUs the kubelet's CPU manager already pinned the container to: taken as they are. */
  pinned?: number[];
}

export interface ExclusiveAllocation {
  assigned: Map<string, number[]>;
  /** Online CPUs not assigned to anyone. */
  shared: number[];
  refused: Array<{ key: string; reason: string }>;
}

/**
 * Allocate in request order (callers pass oldest first), keeping previous assignments that
 * are still valid.
 */
export function allocateExclusive(online: readonly number[], requests: readonly ExclusiveRequest[], previous: ReadonlyMap<string, number[]>, sharedPoolMin: number): ExclusiveAllocation {
  const onlineSet = new Set(online);
  const taken = new Set<number>();
  const assigned = new Map<string, number[]>();
  const refused: ExclusiveAllocation['refused'] = [];
  const fits = (cpus: number[]) => cpus.every((c) => onlineSet.has(c) && !taken.has(c)) && online.length - taken.size - cpus.length >= sharedPoolMin;
  const take = (key: string, cpus: number[]) => {
    for (const c of cpus) taken.add(c);
    assigned.set(key, [...cpus].sort((a, b) => a - b));
  };
  const pending: ExclusiveRequest[] = [];
  // Pinned and previously assigned first, so a newcomer never steals from an incumbent.
  for (const r of requests) {
    const keep = r.pinned?.length ? r.pinned : previous.get(r.key);
    if (keep && keep.length === (r.pinned?.length ? keep.length : r.cpus) && fits(keep)) take(r.key, keep);
    else pending.push(r);
  }
  for (const r of pending) {
    if (r.pinned?.length) {
      refused.push({ key: r.key, reason: `pinned CPUs ${r.pinned.join(',')} overlap another exclusive container or leave fewer than ${sharedPoolMin} shared` });
      continue;
    }
    const free = online.filter((c) => !taken.has(c)).sort((a, b) => b - a);
    const pick = free.slice(0, r.cpus);
    if (r.cpus < 1 || pick.length < r.cpus || !fits(pick)) {
      refused.push({ key: r.key, reason: `needs ${r.cpus} exclusive CPU(s); ${free.length} free and ${sharedPoolMin} must stay shared` });
      continue;
    }
    take(r.key, pick);
  }
  return { assigned, shared: online.filter((c) => !taken.has(c)), refused };
}

/**
 * The whole CPUs of the BE pool that `allowanceCores` covers (rounded down, at least one), from
 * the high end. Rounding down keeps BE within its allowance without a quota whenever the
 * allowance is one CPU or more; below one CPU the caller adds a quota.
 */
export function beCpuset(pool: readonly number[], allowanceCores: number): number[] {
  if (pool.length === 0) return [];
  const n = Math.min(pool.length, Math.max(1, Math.floor(allowanceCores + 1e-6)));
  return [...pool].sort((a, b) => b - a).slice(0, n).sort((a, b) => a - b);
}

/** Whether BE on `cpuCount` whole CPUs also needs a quota to stay within `allowanceCores` (only under one CPU). */
export function beCpusetNeedsQuota(allowanceCores: number, cpuCount: number): boolean {
  return allowanceCores < cpuCount - 1e-6;
}

/** CPUs a container should get exclusively: its CPU limit rounded up (at least one). */
export function exclusiveCpuCount(quotaUs: number | undefined, periodUs: number | undefined, shares: number | undefined): number {
  if (quotaUs !== undefined && quotaUs > 0) return Math.max(1, Math.ceil(quotaUs / (periodUs || 100_000) - 1e-9));
  if (shares !== undefined && shares > 2) return Math.max(1, Math.ceil(shares / 1024 - 1e-9));
  return 1;
}

/** "0-2,5" form of a CPU list (sorted input not required). */
export function formatCpus(cpus: readonly number[]): string {
  const s = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    parts.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
