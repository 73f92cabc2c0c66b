/**
 * One decision step (pure): classify pods, run the strategies in order, and merge what they
 * want over each cgroup's neutral values (what the pod's own spec says). Every managed knob of
 * every cgroup is in the result, so the executor can restore anything changed behind berth's
 * back, and a knob berth stops managing (policy disabled, class changed, pressure over) goes
 * back to the pod's own value.
 */
import type { KnobValues } from '../cgroups/index.js';
import { beParentKnobs } from './be-parent.js';
import { classify } from './classes.js';
import { formatCpus } from './math/cpusets.js';
import type { Policy } from './policy/schema.js';
import { cpuSuppressStrategy } from './strategies/cpu-suppress.js';
import { cpusetStrategy } from './strategies/cpuset.js';
import { memoryStrategy } from './strategies/memory.js';
import { staticStrategy } from './strategies/static.js';
import { allTargets, initialState, type ClassifiedPod, type QosState, type Strategy, type StrategyContext } from './strategies/types.js';
import type { Degraded, DesiredTarget, EvictionOrder, NodeView, PodView, QosClass, TargetView } from './types.js';

/** Order matters: cpuset fixes the shared pool before suppression picks BE CPUs from it. */
export const STRATEGIES: readonly Strategy[] = [staticStrategy, cpusetStrategy, cpuSuppressStrategy, memoryStrategy];

export interface DecideInput {
  node: NodeView;
  pods: PodView[];
  pageSize: number;
  /** Cgroup path of the top-level parent of berth-placed BE pods (be-parent.ts), if any. */
  beParent?: string;
}

export interface PodDecision {
  podId: string;
  name: string;
  namespace: string;
  cls: QosClass;
  classSource: string;
  classWarning?: string;
  priority: number;
  targets: Array<{ id: string; kind: 'container' | 'sandbox'; name: string; path: string; knobs: Partial<KnobValues> }>;
}

export interface Decision {
  enabled: boolean;
  targets: DesiredTarget[];
  pods: PodDecision[];
  evictions: EvictionOrder[];
  degraded: Degraded[];
  /** Per strategy: what it decided and why. */
  reports: Record<string, Record<string, unknown>>;
  next: QosState;
}

/**
 * What a cgroup's knobs are when berth does not manage them: the pod's own spec. A VM
 * sandbox's limits are sized by its runtime (guest + overhead), which berth cannot recompute:
 * only cpu.idle is neutral there; anything else berth sets, the executor puts back to the
 * value it found before its first write.
 */
export function neutralKnobs(t: TargetView, node: NodeView, vmSandbox = false): Partial<KnobValues> {
  if (vmSandbox) return node.unsupported.cpuIdle ? {} : { cpuIdle: false };
  const k: Partial<KnobValues> = {
    cpuIdle: false,
    cpuMax: { quota: t.own.cpuQuota !== undefined && t.own.cpuQuota > 0 ? t.own.cpuQuota : 'max', period: t.own.cpuPeriod || 100_000 },
    cpuBurst: 0,
    cpusetCpus: t.own.cpusetCpus || formatCpus(node.onlineCpus),
    memoryMax: t.own.memoryLimitBytes !== undefined && t.own.memoryLimitBytes > 0 ? t.own.memoryLimitBytes : 'max',
    blkioWeight: 100,
    cgroupPriority: 0,
    cpuBvtWarpNs: 0,
  };
  if (t.own.cpuShares !== undefined && t.own.cpuShares > 0) k.cpuShares = t.own.cpuShares;
  if (node.mode === 'v2') Object.assign(k, { memoryHigh: 'max', memoryLow: 0, memoryMin: 0 });
  else k.memorySoftLimit = 'max';
  for (const name of Object.keys(node.unsupported) as Array<keyof KnobValues>) delete k[name];
  return k;
}

export function classifyPods(pods: PodView[], policy: Policy): ClassifiedPod[] {
  return pods.map((p) => {
    const c = classify(p, policy);
    return { ...p, cls: c.cls, classSource: c.source, ...(c.warning ? { classWarning: c.warning } : {}) };
  });
}

export function decide(input: DecideInput, policy: Policy, state: QosState, strategies: readonly Strategy[] = STRATEGIES): Decision {
  const pods = classifyPods(input.pods, policy);
  const byPath = new Map<string, DesiredTarget>();
  for (const pod of pods) {
    for (const t of allTargets(pod)) {
      byPath.set(t.path, { path: t.path, podId: pod.id, id: t.id, kind: t.kind, cls: pod.cls, knobs: {}, neutral: neutralKnobs(t, input.node, t.kind === 'sandbox' && pod.qosScope === 'sandbox') });
    }
  }
  const degraded = new Map<string, Degraded>();
  if (input.beParent) {
    // A pod placed there as BE whose class the policy has since changed: an idle parent would
    // make it idle against every task on the node, so the parent goes neutral while it is there.
    const parent = input.beParent;
    const strays = pods.filter((p) => p.cls !== 'BE' && allTargets(p).some((t) => t.path.startsWith(`${parent}/`)));
    const { knobs, neutral } = beParentKnobs(input.node, policy);
    byPath.set(parent, { path: parent, podId: '', id: 'be-parent', kind: 'group', cls: 'BE', knobs: strays.length ? {} : knobs, neutral });
    for (const p of strays) {
      degraded.set(`be-parent:${p.id}`, { feature: 'be-parent', reason: `pod ${p.namespace}/${p.name} is ${p.cls} (${p.classSource}) but was placed under the BE parent ${parent} as BE: the parent is not kept idle while the pod runs there` });
    }
  }
  for (const p of pods) if (p.classWarning) degraded.set(`class:${p.id}`, { feature: 'qos-class', reason: `pod ${p.namespace}/${p.name}: ${p.classWarning}; using ${p.cls}` });
  const reports: Decision['reports'] = {};
  let evictions: EvictionOrder[] = [];
  let next: QosState = policy.enabled ? { ...state } : initialState();
  if (policy.enabled) {
    const ctx: StrategyContext = { node: input.node, pods, policy, state, pageSize: input.pageSize, facts: {} };
    for (const s of strategies) {
      const r = s.decide(ctx);
      for (const ks of r.knobs) {
        const t = byPath.get(ks.path);
        if (t) Object.assign(t.knobs, ks.knobs);
      }
      if (r.facts) Object.assign(ctx.facts, r.facts);
      if (r.state) next = { ...next, ...r.state };
      if (r.evictions) evictions = evictions.concat(r.evictions);
      for (const d of r.degraded ?? []) degraded.set(`${d.feature}:${d.reason}`, d);
      if (r.report) reports[s.name] = r.report;
    }
  }
  const targets = [...byPath.values()];
  for (const t of targets) {
    // While cpu.idle is set the kernel pins the weight and refuses writes to it.
    if (t.knobs.cpuIdle) {
      delete t.knobs.cpuShares;
      delete t.neutral.cpuShares;
    }
  }
  const podDecisions: PodDecision[] = pods.map((p) => ({
    podId: p.id,
    name: p.name,
    namespace: p.namespace,
    cls: p.cls,
    classSource: p.classSource,
    ...(p.classWarning ? { classWarning: p.classWarning } : {}),
    priority: p.priority,
    targets: allTargets(p).map((t) => {
      const d = byPath.get(t.path)!;
      return { id: t.id, kind: t.kind, name: t.name, path: t.path, knobs: { ...d.neutral, ...d.knobs } };
    }),
  }));
  return { enabled: policy.enabled, targets, pods: podDecisions, evictions, degraded: [...degraded.values()], reports, next };
}
