/** Which kernel features QoS uses on this host, and how it degrades without each (for status and the start-up log). */
import type { CgroupManager, KnobName } from '../cgroups/index.js';

export interface QosFeature {
  feature: string;
  usedFor: string;
  available: boolean;
  /** Why not, and what berth does instead. */
  reason?: string;
}

function knob(cg: CgroupManager, k: KnobName, feature: string, usedFor: string, instead: string): QosFeature {
  const s = cg.supports(k);
  return s.supported ? { feature, usedFor, available: true } : { feature, usedFor, available: false, reason: `${s.reason}; ${instead}` };
}

export function qosFeatures(cg: CgroupManager): QosFeature[] {
  const v2 = cg.mode === 'v2';
  const out: QosFeature[] = [
    knob(cg, 'cpuIdle', 'cpu.idle', 'BE runs SCHED_IDLE against LS', 'BE gets minimal cpu.shares only'),
    knob(cg, 'cpuMax', 'cpu.cfs_quota', 'BE CPU suppression (cfsQuota policy)', 'use the cpuset policy'),
    knob(cg, 'cpusetCpus', 'cpuset', 'LSE/LSR exclusive CPUs, BE cpuset suppression', 'no exclusive CPUs'),
    { ...knob(cg, 'cpuBurst', 'cpu.burst', 'LS CPU burst (quota × cpuBurstPercent)', 'LS gets no burst'), ...(cg.supports('cpuBurst').supported ? { reason: 'upstream kernels refuse burst > quota: burst is capped at the quota' } : {}) },
    v2
      ? knob(cg, 'memoryLow', 'memory.low/min', 'LS memory protection from requests', 'LS memory requests are not protected')
      : knob(cg, 'memorySoftLimit', 'memory.soft_limit', 'LS memory protection from requests (v1)', 'LS memory requests are not protected'),
    v2 ? knob(cg, 'memoryHigh', 'memory.high', 'BE reclaim under node memory pressure', 'BE reclaim lowers memory.max instead') : { feature: 'memory.high', usedFor: 'BE reclaim under node memory pressure', available: false, reason: 'cgroup v1 has no memory.high (upstream); BE reclaim lowers memory.limit_in_bytes instead' },
    knob(cg, 'blkioWeight', 'blkio.weight', 'lowest I/O weight for BE', 'BE keeps the default I/O weight'),
    knob(cg, 'cgroupPriority', 'cgroup.priority', 'RUE priority for BE (OpenCloudOS)', 'not used'),
    knob(cg, 'cpuBvtWarpNs', 'cpu.bvt_warp_ns', 'group identity for BE/LS (Anolis)', 'not used'),
  ];
  const psiCg = cg.feature('psi.cgroup');
  const psiNode = cg.feature('psi.node');
  out.push(
    psiCg.available
      ? { feature: 'psi.cgroup', usedFor: 'PSI feedback from LS pods’ own CPU stall', available: true }
      : {
          feature: 'psi.cgroup',
          usedFor: 'PSI feedback from LS pods’ own CPU stall',
          available: false,
          reason: `${psiCg.reason ?? 'unavailable'}; ${psiNode.available ? 'falls back to node PSI, which also counts BE throttling' : 'no PSI feedback'}`,
        },
  );
  return out;
}
