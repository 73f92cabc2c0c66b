/**
 * Memory: above `memoryEvictThresholdPercent` of node memory, squeeze BE cgroups to their
 * working set (v2 memory.high; v1, which has no memory.high upstream, the limit itself — the
 * kernel reclaims page cache, and refuses with EBUSY rather than OOM-killing when it cannot);
 * if the node is still above the threshold a step later, evict BE containers in order of
 * priority, then working set (math/eviction.ts). A VM pod is one candidate: its memory is the
 * VM's, held in the sandbox cgroup, and killing a container inside the guest gives the host
 * nothing back, so the whole sandbox goes; it is not squeezed first. Squeezing ends
 * `memoryReleasePercent` points under the threshold, when the limits go back to what the pods
 * asked for.
 */
import { memoryPhase, pickEvictions, squeezeBytes, type EvictionCandidate } from '../math/eviction.js';
import type { Degraded, EvictionOrder } from '../types.js';
import { primaryTargets, type KnobSet, type Strategy, type StrategyContext, type StrategyResult } from './types.js';

const MiB = 1024 * 1024;

export const memoryStrategy: Strategy = {
  name: 'memory',
  decide(ctx: StrategyContext): StrategyResult {
    const { node, policy } = ctx;
    const usedPct = node.memTotalBytes > 0 ? (node.memUsedBytes / node.memTotalBytes) * 100 : 0;
    const thr = policy.memoryEvictThresholdPercent;
    const { phase, next } = memoryPhase(usedPct, thr, policy.memoryReleasePercent, ctx.state.memory);
    const knobs: KnobSet[] = [];
    const degraded: Degraded[] = [];
    const bePods = ctx.pods.filter((p) => p.cls === 'BE');
    const useHigh = node.mode === 'v2' && !node.unsupported.memoryHigh;
    if (phase !== 'normal') {
      if (!useHigh && node.mode === 'v2') degraded.push({ feature: 'memory.high', reason: `BE reclaim squeezes memory.max instead: ${node.unsupported.memoryHigh}` });
      for (const pod of bePods) {
        // Not a VM's sandbox: its memory is the guest's, which a lower limit cannot reclaim; a
        // guest touching new pages would get the VMM OOM-killed, with no reason recorded.
        for (const t of primaryTargets(pod).filter((x) => x.kind === 'container')) {
          const ws = t.usage.workingSetBytes;
          if (ws === undefined) continue;
          const bytes = squeezeBytes(ws, t.usage.memoryUsageBytes ?? ws, t.own.memoryLimitBytes, ctx.pageSize);
          knobs.push({ path: t.path, knobs: useHigh ? { memoryHigh: bytes } : { memoryMax: bytes } });
        }
      }
    }
    let evictions: EvictionOrder[] = [];
    if (phase === 'evict') {
      const cands: Array<EvictionCandidate & { kind: EvictionOrder['kind'] }> = bePods.flatMap((pod) =>
        primaryTargets(pod).map((t) => ({
          podId: pod.id,
          kind: t.kind,
          containerId: t.id,
          name: t.kind === 'sandbox' ? `${pod.name} (VM sandbox)` : t.name,
          priority: pod.priority,
          workingSetBytes: t.usage.workingSetBytes ?? 0,
          createdAtNs: t.createdAtNs,
        })),
      );
      evictions = pickEvictions(node.memUsedBytes, node.memTotalBytes, thr, cands).map((c) => ({
        ...c,
        message:
          `node memory ${usedPct.toFixed(1)}% stayed above memoryEvictThresholdPercent ${thr}% after reclaim; ` +
          `evicted as a BE ${c.kind === 'sandbox' ? 'VM pod' : 'container'} (priority ${c.priority}, working set ${Math.round(c.workingSetBytes / MiB)} MiB)`,
      }));
    }
    return {
      knobs,
      degraded,
      evictions,
      state: { memory: next },
      report: {
        phase,
        usedPercent: Math.round(usedPct * 10) / 10,
        thresholdPercent: thr,
        usedBytes: node.memUsedBytes,
        totalBytes: node.memTotalBytes,
        reclaimKnob: useHigh ? 'memoryHigh' : 'memoryMax',
      },
    };
  },
};
