/**
 * Stats of a VM-isolated container come from the shim, not from host cgroups: the host only
 * sees the VM's threads in the pod cgroup. Kata's Task.Stats answers with the guest
 * container's cgroup metrics (io.containerd.cgroups.v1 or v2 Metrics); this maps them onto
 * the same CgroupStats shape the sampler reads from host cgroups.
 */
import type { CgroupStats, MemoryStats } from '../../cgroups/stats.js';
import type { Metrics as V1Metrics } from '../../gen/containerd/cgroups/v1/metrics.js';
import type { Metrics as V2Metrics } from '../../gen/containerd/cgroups/v2/metrics.js';
import type { StatsMetrics } from '../shim/any.js';
import type { TaskClient } from '../shim/task-client.js';

const n = (v: bigint | undefined): number => (v === undefined ? 0 : Number(v));
/** Limits at or above 2^62 mean "no limit" in both cgroup versions. */
const limit = (v: bigint): number | 'max' | undefined => (v === 0n ? undefined : v >= 1n << 62n ? 'max' : Number(v));

function fromV1(m: V1Metrics): Pick<CgroupStats, 'cpu' | 'memory' | 'pids'> {
  const out: Pick<CgroupStats, 'cpu' | 'memory' | 'pids'> = {};
  const cpu = m.cpu;
  if (cpu?.usage) {
    out.cpu = {
      usageNs: n(cpu.usage.total),
      userNs: n(cpu.usage.user),
      systemNs: n(cpu.usage.kernel),
      periods: n(cpu.throttling?.periods),
      throttledPeriods: n(cpu.throttling?.throttledPeriods),
      throttledNs: n(cpu.throttling?.throttledTime),
    };
  }
  const mem = m.memory;
  if (mem?.usage) {
    const usage = n(mem.usage.usage);
    const inactiveFile = n(mem.totalInactiveFile);
    const memory: MemoryStats = {
      usageBytes: usage,
      workingSetBytes: Math.max(0, usage - inactiveFile),
      maxUsageBytes: n(mem.usage.max),
      failcnt: n(mem.usage.failcnt),
      rssBytes: n(mem.totalRss),
      cacheBytes: n(mem.totalCache),
      mappedFileBytes: n(mem.totalMappedFile),
      inactiveFileBytes: inactiveFile,
      activeFileBytes: n(mem.totalActiveFile),
      pgfault: n(mem.totalPgFault),
      pgmajfault: n(mem.totalPgMajFault),
      stat: {},
    };
    const l = limit(mem.usage.limit);
    if (l !== undefined) memory.limitBytes = l;
    if (m.memoryOomControl) {
      memory.oomKills = n(m.memoryOomControl.oomKill);
      memory.underOom = m.memoryOomControl.underOom !== 0n;
    }
    out.memory = memory;
  }
  if (m.pids) out.pids = { current: n(m.pids.current), ...(m.pids.limit > 0n ? { max: limit(m.pids.limit)! } : {}) };
  return out;
}

function fromV2(m: V2Metrics): Pick<CgroupStats, 'cpu' | 'memory' | 'pids'> {
  const out: Pick<CgroupStats, 'cpu' | 'memory' | 'pids'> = {};
  if (m.cpu) {
    out.cpu = {
      usageNs: n(m.cpu.usageUsec) * 1000,
      userNs: n(m.cpu.userUsec) * 1000,
      systemNs: n(m.cpu.systemUsec) * 1000,
      periods: n(m.cpu.nrPeriods),
      throttledPeriods: n(m.cpu.nrThrottled),
      throttledNs: n(m.cpu.throttledUsec) * 1000,
    };
  }
  const mem = m.memory;
  if (mem) {
    const usage = n(mem.usage);
    const memory: MemoryStats = {
      usageBytes: usage,
      workingSetBytes: Math.max(0, usage - n(mem.inactiveFile)),
      rssBytes: n(mem.anon),
      cacheBytes: n(mem.file),
      mappedFileBytes: n(mem.fileMapped),
      inactiveFileBytes: n(mem.inactiveFile),
      activeFileBytes: n(mem.activeFile),
      swapBytes: n(mem.swapUsage),
      pgfault: n(mem.pgfault),
      pgmajfault: n(mem.pgmajfault),
      stat: {},
    };
    const l = limit(mem.usageLimit);
    if (l !== undefined) memory.limitBytes = l;
    const ev = m.memoryEvents;
    if (ev) {
      memory.events = { low: n(ev.low), high: n(ev.high), max: n(ev.max), oom: n(ev.oom), oomKill: n(ev.oomKill) };
      memory.oomKills = n(ev.oomKill);
    }
    out.memory = memory;
  }
  if (m.pids) out.pids = { current: n(m.pids.current), ...(m.pids.limit > 0n ? { max: limit(m.pids.limit)! } : {}) };
  return out;
}

/** Map a shim's Task.Stats answer onto CgroupStats (`path` names the source: "shim:<id>"). */
export function shimMetricsToStats(id: string, metrics: StatsMetrics, timestampMs: number): CgroupStats {
  const base = { path: `shim:${id}`, timestampMs };
  switch (metrics.version) {
    case 'v1':
      return { ...base, mode: 'v1', ...fromV1(metrics.metrics) };
    case 'v2':
      return { ...base, mode: 'v2', ...fromV2(metrics.metrics) };
    default:
      return { ...base, mode: 'v1', partial: { reason: `the shim answered Stats with ${metrics.typeUrl || 'nothing'}, which berth cannot decode` } };
  }
}

/** Ask the shim for a container's (or the sandbox's) stats. */
export async function statsFromShim(task: TaskClient, id: string): Promise<CgroupStats> {
  const at = Date.now();
  return shimMetricsToStats(id, await task.stats(id), at);
}
