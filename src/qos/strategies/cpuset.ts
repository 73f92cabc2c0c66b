/**
 * Exclusive cpusets: each LSE/LSR container (or VM sandbox) gets whole CPUs of its own (its CPU
 * limit rounded up, or the CPUs the kubelet's CPU manager pinned it to); everyone else — LS,
 * SYSTEM and BE, and every sandbox — runs on the shared pool that excludes them. With no
 * exclusive container on the node, cpusets are left as the pods asked.
 */
import { expandCpuList } from '../../cgroups/index.js';
import { allocateExclusive, exclusiveCpuCount, formatCpus, type ExclusiveRequest } from '../math/cpusets.js';
import type { Degraded } from '../types.js';
import { allTargets, primaryTargets, type KnobSet, type Strategy, type StrategyContext, type StrategyResult } from './types.js';

function pinnedOf(list: string | undefined): number[] | undefined {
  if (!list) return undefined;
  try {
    const cpus = expandCpuList(list);
    return cpus.length ? cpus : undefined;
  } catch {
    return undefined;
  }
}

export const cpusetStrategy: Strategy = {
  name: 'cpuset',
  decide(ctx: StrategyContext): StrategyResult {
    const exclusivePods = ctx.pods.filter((p) => p.cls === 'LSE' || p.cls === 'LSR').sort((a, b) => cmpNs(a.createdAtNs, b.createdAtNs));
    const requests: ExclusiveRequest[] = [];
    for (const pod of exclusivePods) {
      for (const t of primaryTargets(pod).sort((a, b) => cmpNs(a.createdAtNs, b.createdAtNs))) {
        requests.push({ key: t.id, cpus: exclusiveCpuCount(t.own.cpuQuota, t.own.cpuPeriod, t.own.cpuShares), pinned: pinnedOf(t.own.cpusetCpus) });
      }
    }
    const alloc = allocateExclusive(ctx.node.onlineCpus, requests, ctx.state.exclusive, ctx.policy.cpuset.sharedPoolMinCpus);
    const degraded: Degraded[] = alloc.refused.map((r) => ({ feature: 'cpuset.exclusive', reason: `container ${r.key.slice(0, 12)}: ${r.reason}; it runs on the shared pool` }));
    const knobs: KnobSet[] = [];
    if (alloc.assigned.size > 0) {
      const shared = formatCpus(alloc.shared);
      for (const pod of ctx.pods) {
        for (const t of allTargets(pod)) {
          const mine = alloc.assigned.get(t.id);
          if (mine) knobs.push({ path: t.path, knobs: { cpusetCpus: formatCpus(mine) } });
          else if (!(pod.cls !== 'BE' && t.own.cpusetCpus)) knobs.push({ path: t.path, knobs: { cpusetCpus: shared } });
        }
      }
    }
    if (ctx.node.unsupported.cpusetCpus && requests.length > 0) {
      degraded.push({ feature: 'cpuset', reason: `LSE/LSR pods get no exclusive CPUs: ${ctx.node.unsupported.cpusetCpus}` });
      return { knobs: [], degraded, facts: { sharedCpus: ctx.node.onlineCpus }, state: { exclusive: new Map() } };
    }
    return {
      knobs,
      degraded,
      facts: { sharedCpus: alloc.shared },
      state: { exclusive: alloc.assigned },
      report: { exclusive: Object.fromEntries([...alloc.assigned].map(([k, v]) => [k, formatCpus(v)])), shared: formatCpus(alloc.shared) },
    };
  },
};

function cmpNs(a: string, b: string): number {
  const x = BigInt(a || '0');
  const y = BigInt(b || '0');
  return x < y ? -1 : x > y ? 1 : 0;
}
