/**
 * Memory pressure decisions (pure). Above `thresholdPercent` of node memory the BE side is first
 * squeezed (memory.high on v2, else the limit lowered to the working set: the kernel reclaims
 * page cache); if usage is still above the threshold a step later, BE containers are killed —
 * lowest priority first, then the largest working set, then the newest — until the memory they
 * hold would bring the node back under the threshold.
 */

export interface EvictionCandidate {
  podId: string;
  containerId: string;
  name: string;
  priority: number;
  workingSetBytes: number;
  createdAtNs: string;
}

/** Lowest priority first; among equals the largest working set; then the newest. */
export function evictionOrder<T extends EvictionCandidate>(cands: readonly T[]): T[] {
  return [...cands].sort((a, b) => {
    if (a.priority !== b.priority) return a.priority - b.priority;
    if (a.workingSetBytes !== b.workingSetBytes) return b.workingSetBytes - a.workingSetBytes;
    const ca = BigInt(a.createdAtNs || '0');
    const cb = BigInt(b.createdAtNs || '0');
    return ca === cb ? a.containerId.localeCompare(b.containerId) : cb > ca ? 1 : -1;
  });
}

/** Which candidates to kill so that used memory falls to the threshold (in order). */
export function pickEvictions<T extends EvictionCandidate>(usedBytes: number, totalBytes: number, thresholdPercent: number, cands: readonly T[]): T[] {
  const limit = (totalBytes * thresholdPercent) / 100;
  let excess = usedBytes - limit;
  const out: T[] = [];
  for (const c of evictionOrder(cands)) {
    if (excess <= 0) break;
    out.push(c);
    excess -= c.workingSetBytes;
  }
  return out;
}

export type MemoryPhase = 'normal' | 'squeeze' | 'evict';

export interface MemoryState {
  /** Consecutive steps above the threshold. */
  stepsAbove: number;
}

/**
 * The phase for this step: `squeeze` on the first step above the threshold (and while usage
 * stays between release and threshold after that), `evict` from the second step above, else
 * `normal` once usage is `releasePercent` points under the threshold.
 */
export function memoryPhase(usedPercent: number, thresholdPercent: number, releasePercent: number, prev: MemoryState): { phase: MemoryPhase; next: MemoryState } {
  if (usedPercent > thresholdPercent) {
    const stepsAbove = prev.stepsAbove + 1;
    return { phase: stepsAbove >= 2 ? 'evict' : 'squeeze', next: { stepsAbove } };
  }
  if (usedPercent > thresholdPercent - releasePercent && prev.stepsAbove > 0) return { phase: 'squeeze', next: { stepsAbove: prev.stepsAbove } };
  return { phase: 'normal', next: { stepsAbove: 0 } };
}

/** The reclaim target of one BE cgroup: its working set plus a little slack, never above its own limit. */
export function squeezeBytes(workingSetBytes: number, usageBytes: number, ownLimit: number | undefined, pageSize: number): number {
  const slack = 4 * 1024 * 1024;
  const target = Math.max(workingSetBytes + slack, 8 * 1024 * 1024);
  const capped = Math.min(target, Math.max(usageBytes, workingSetBytes) + slack, ownLimit ?? Number.POSITIVE_INFINITY);
  return Math.floor(capped / pageSize) * pageSize;
}
