/**
 * Static QoS settings put into each new sandbox/container OCI spec, so a container starts
 * with them instead of waiting up to one loop period:
 *   BE   containers' oom_score_adj raised to `be.oomScoreAdj` (only raising is allowed without
 *        CAP_SYS_RESOURCE; runc applies it to the container's init), minimal cpu.shares, and
 *        the current BE cpuset (cpuset policy) and, where the allowance needs one, a first CPU
 *        quota of one share of it;
 *   LS*  memory reservation from the memory request (v1 soft limit, v2 memory.low via runc);
 *   LSE/LSR  their exclusive CPUs.
 * No cpuset goes into a VM pod's specs (Kata): host CPU numbers mean nothing in the guest, and
 * the loop confines the VM's sandbox cgroup on the host instead.
 * cpu.idle, burst, blkio weight … follow from the loop (runc has no spec field for them here).
 */
import type { SpecHookContext } from '../runtimes/lifecycle/index.js';
import type { Spec } from '../runtimes/oci/spec-types.js';
import { classify } from './classes.js';
import { coresToQuota } from './math/allowance.js';
import { expandCpuList } from '../cgroups/index.js';
import { beCpusetNeedsQuota, exclusiveCpuCount, formatCpus } from './math/cpusets.js';
import type { Policy } from './policy/schema.js';
import { ownResources } from './runtime-adapter.js';
import type { QosClass } from './types.js';

export interface HookView {
  policy: Policy;
  /** The BE allowance in force and how many BE cgroups share it now. */
  beAllowance(): { cores: number; cgroups: number } | undefined;
  /** The CPUs BE is confined to now (cpuset policy), if the loop has decided any. */
  beCpus(): string | undefined;
  /** Where a runtime handler's pods take QoS knobs: their containers, or (VMs) the sandbox. */
  qosScope(handler: string): 'container' | 'sandbox';
  /** Exclusive CPUs for a new LSE/LSR container (allocated and remembered), if any are free. */
  reserveExclusive(containerId: string, cpus: number): number[] | undefined;
}

export interface HookResult {
  cls: QosClass;
  changed: string[];
}

/** Adjust `spec` for the pod's class; returns what was changed (for the log). */
export function applyQosToSpec(spec: Spec, ctx: SpecHookContext, view: HookView): HookResult {
  const pod = ctx.pod;
  const { cls } = classify({ annotations: pod.annotations, labels: pod.labels, cgroupParent: pod.linux?.cgroupParent ?? '' }, view.policy);
  const changed: string[] = [];
  if (!view.policy.enabled) return { cls, changed };
  const hostCpus = view.qosScope(ctx.handler) === 'container';
  const res = (spec.linux ??= {}).resources ??= {};
  if (cls === 'BE') {
    // Not the pause process: losing it to the OOM killer takes the whole pod down.
    const proc = ctx.kind === 'container' ? spec.process : undefined;
    if (proc && (proc.oomScoreAdj ?? 0) < view.policy.be.oomScoreAdj) {
      proc.oomScoreAdj = view.policy.be.oomScoreAdj;
      changed.push(`oomScoreAdj=${proc.oomScoreAdj}`);
    }
    res.cpu = { ...res.cpu, shares: view.policy.be.cpuShares };
    changed.push(`cpu.shares=${view.policy.be.cpuShares}`);
    const a = view.beAllowance();
    const beCpus = view.policy.cpuSuppressPolicy === 'cpuset' ? view.beCpus() : undefined;
    if (beCpus && hostCpus) {
      res.cpu = { ...res.cpu, cpus: beCpus };
      changed.push(`cpuset.cpus=${beCpus}`);
    }
    const quotaToo = view.policy.cpuSuppressPolicy === 'cfsQuota' || (beCpus !== undefined && a !== undefined && beCpusetNeedsQuota(a.cores, expandCpuList(beCpus).length));
    if (ctx.kind === 'container' && a && quotaToo) {
      const period = res.cpu.period || 100_000;
      const share = coresToQuota(a.cores / (a.cgroups + 1), period);
      if (res.cpu.quota === undefined || res.cpu.quota <= 0 || res.cpu.quota > share) {
        res.cpu = { ...res.cpu, quota: share, period };
        changed.push(`cpu.quota=${share}/${period}`);
      }
    }
    return { cls, changed };
  }
  if (ctx.kind !== 'container' || !ctx.container) return { cls, changed };
  const own = ownResources(ctx.container.linux?.resources, ctx.container.annotations, pod.annotations);
  if (cls !== 'SYSTEM' && own.memoryRequestBytes) {
    const reservation = Math.floor((own.memoryRequestBytes * view.policy.memoryProtection.lowPercent) / 100);
    if (reservation > 0) {
      res.memory = { ...res.memory, reservation };
      changed.push(`memory.reservation=${reservation}`);
    }
  }
  if ((cls === 'LSE' || cls === 'LSR') && !own.cpusetCpus && hostCpus) {
    const cpus = view.reserveExclusive(ctx.containerId, exclusiveCpuCount(own.cpuQuota, own.cpuPeriod, own.cpuShares));
    if (cpus) {
      res.cpu = { ...res.cpu, cpus: formatCpus(cpus) };
      changed.push(`cpuset.cpus=${res.cpu.cpus}`);
    }
  }
  return { cls, changed };
}
