/**
 * Static per-class settings (the same every step while the pod lives):
 *   BE      cpu.idle=1 where the kernel has it (else minimal shares), lowest blkio weight,
 *           RUE cgroup.priority / group identity (bvt) where present; oom_score_adj is set in
 *           the spec hook (a process attribute, not a cgroup knob).
 *   LS*     CPU burst = quota × cpuBurstPercent (capped at the quota: upstream kernels refuse
 *           more), memory protection from the memory request (v2 memory.min/low; v1
 *           memory.soft_limit_in_bytes), bvt 2 / cgroup.priority 0 where present.
 *
 * cpu.idle (like weights) is relative to a cgroup's siblings. berth's own pods sit flat under
 * /berth, so a BE container is idle against the LS containers next to it. Under a kubelet
 * hierarchy (/kubepods/<tier>/pod<uid>/<ctr>) container-level idle only orders containers of one
 * pod; there BE protection rests on the CFS quota suppression (absolute, hierarchy-blind) and
 * the kubelet's own shares=2 on its besteffort tier. Setting cpu.idle on that tier would make
 * the kubelet's periodic cpu.shares writes to it fail (the kernel refuses weights while idle).
 */
import type { KnobValues } from '../../cgroups/index.js';
import type { Policy } from '../policy/schema.js';
import type { Degraded, NodeView, TargetView } from '../types.js';
import { allTargets, type KnobSet, type Strategy, type StrategyContext, type StrategyResult } from './types.js';

/** Burst in µs for a quota, or undefined when the container has no quota. */
export function burstFor(quotaUs: number | undefined, percent: number, cappedAtQuota: boolean): number | undefined {
  if (quotaUs === undefined || quotaUs <= 0) return undefined;
  const burst = Math.floor((quotaUs * percent) / 100);
  return cappedAtQuota ? Math.min(burst, quotaUs) : burst;
}

function beKnobs(node: NodeView, policy: Policy, degraded: Map<string, Degraded>): Partial<KnobValues> {
  const k: Partial<KnobValues> = {};
  const be = policy.be;
  if (be.cpuIdle && !node.unsupported.cpuIdle) k.cpuIdle = true;
  else {
    if (be.cpuIdle) degraded.set('cpu.idle', { feature: 'cpu.idle', reason: `BE gets cpu.shares=${be.cpuShares} instead: ${node.unsupported.cpuIdle}` });
    k.cpuShares = be.cpuShares;
  }
  if (!node.unsupported.blkioWeight) k.blkioWeight = be.blkioWeight;
  else degraded.set('blkio.weight', { feature: 'blkio.weight', reason: `BE keeps the default I/O weight: ${node.unsupported.blkioWeight}` });
  if (!node.unsupported.cgroupPriority) k.cgroupPriority = be.cgroupPriority;
  if (!node.unsupported.cpuBvtWarpNs) k.cpuBvtWarpNs = be.bvtWarpNs;
  return k;
}

function lsKnobs(t: TargetView, node: NodeView, policy: Policy, degraded: Map<string, Degraded>): Partial<KnobValues> {
  const k: Partial<KnobValues> = {};
  const burst = burstFor(t.own.cpuQuota, policy.cpuBurstPercent, node.burstCappedAtQuota);
  if (burst !== undefined) {
    if (node.unsupported.cpuBurst) degraded.set('cpu.burst', { feature: 'cpu.burst', reason: `LS containers get no CPU burst: ${node.unsupported.cpuBurst}` });
    else {
      k.cpuBurst = burst;
      if (node.burstCappedAtQuota && policy.cpuBurstPercent > 100) {
        degraded.set('cpu.burst.percent', {
          feature: 'cpu.burst',
          reason: `cpuBurstPercent ${policy.cpuBurstPercent} asks for burst above the quota; this kernel refuses cpu burst > quota (EINVAL), so burst = quota`,
        });
      }
    }
  }
  const req = t.own.memoryRequestBytes;
  if (req !== undefined && req > 0) {
    const low = Math.floor((req * policy.memoryProtection.lowPercent) / 100);
    const min = Math.floor((req * policy.memoryProtection.minPercent) / 100);
    if (node.mode === 'v2') {
      if (!node.unsupported.memoryLow) k.memoryLow = low;
      if (!node.unsupported.memoryMin) k.memoryMin = min;
    } else if (!node.unsupported.memorySoftLimit) {
      k.memorySoftLimit = low;
    } else {
      degraded.set('memory.protection', { feature: 'memory.soft_limit', reason: `LS memory requests are not protected: ${node.unsupported.memorySoftLimit}` });
    }
  }
  if (!node.unsupported.cgroupPriority) k.cgroupPriority = 0;
  if (!node.unsupported.cpuBvtWarpNs) k.cpuBvtWarpNs = 2;
  return k;
}

export const staticStrategy: Strategy = {
  name: 'static',
  decide(ctx: StrategyContext): StrategyResult {
    const knobs: KnobSet[] = [];
    const degraded = new Map<string, Degraded>();
    for (const pod of ctx.pods) {
      for (const t of allTargets(pod)) {
        if (pod.cls === 'BE') knobs.push({ path: t.path, knobs: beKnobs(ctx.node, ctx.policy, degraded) });
        // LS classes: each container, and a VM pod's sandbox (its own resources are the VM's).
        else if (pod.cls !== 'SYSTEM' && (t.kind === 'container' || t.primary)) knobs.push({ path: t.path, knobs: lsKnobs(t, ctx.node, ctx.policy, degraded) });
      }
    }
    return { knobs, degraded: [...degraded.values()] };
  },
};
