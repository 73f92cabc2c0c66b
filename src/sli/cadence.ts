/**
 * How often the stats sampler reads what (pure decisions; the sampler does the I/O). Every pass,
 * a cgroup seen before is first probed (CPU usage and memory usage, one small read each): if
 * neither moved it is idle and its last sample is carried; otherwise — and for every cgroup
 * every `fullEvery` passes — it is read in full: CPU (usage, throttling), memory (usage,
 * memory.stat: working set, RSS, cache, faults; after a probe, memory.stat only if memory
 * usage moved). Slower-moving parts are re-read on their own cadence and carried in between:
 * PSI, v2 memory.events and pids.current every `psiEvery` passes; limits, high-water marks, v1
 * failcnt and OOM kills, pids.max, the v1 user/system split and the CFS counters of cgroups
 * without a CFS quota every `slowEvery` passes. Each cgroup has its own phase, so the work
 * spreads over passes.
 */

export interface Cadence {
  fullEvery: number;
  psiEvery: number;
  slowEvery: number;
}

export interface ReadPlan {
  /** Probe first; read in full only if the cgroup moved. */
  probeFirst: boolean;
  /** Re-read PSI, v2 memory.events and pids.current. */
  warm: boolean;
  /** Re-read limits, high-water marks and the other slow parts. */
  slow: boolean;
}

export interface Known {
  /** A usable sample of the same cgroup exists (not partial). */
  sample: boolean;
  /** That sample has PSI read at some point. */
  psi: boolean;
}

export function planRead(pass: number, phase: number, known: Known, c: Cadence): ReadPlan {
  if (!known.sample) return { probeFirst: false, warm: true, slow: true };
  const at = pass + phase;
  return {
    probeFirst: at % c.fullEvery !== 0,
    warm: !known.psi || at % c.psiEvery === 0,
    slow: at % c.slowEvery === 0,
  };
}

/** Passes of `intervalMs` that make about `ms` (at least 1). */
export function passesFor(ms: number, intervalMs: number): number {
  return Math.max(1, Math.round(ms / Math.max(1, intervalMs)));
}

/**
 * Whether a probe shows a cgroup unchanged since its last sample: the same CPU usage and the
 * same memory usage. Memory usage is what charges and uncharges move; its working set
 * (usage − inactive file) can otherwise change only through LRU aging under reclaim, which
 * moves usage too, and every cgroup is re-read in full every `fullEvery` passes anyway.
 */
export function unmoved(probe: { cpuNs?: number; memoryBytes?: number }, last: { cpuNs?: number; memoryBytes?: number }): boolean {
  return probe.cpuNs !== undefined && probe.cpuNs === last.cpuNs && probe.memoryBytes === last.memoryBytes;
}

/** A small stable number per id, to stagger full and slow reads across cgroups. */
export function phaseOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) | 0;
  return h >>> 0;
}
