/**
 * The SLI report served as JSON on the admin API (GET /v1/sli, read by `berth sli`): the node,
 * the QoS engine's actions, per co-location class aggregates, and per pod its signals over the
 * window plus, for latency-sensitive pods, a verdict naming each signal that crossed its
 * threshold. Pure: built from a joined view and the collectors' snapshots.
 */
import type { PsiStats } from '../cgroups/index.js';
import type { NodeSnapshot } from './node.js';
import type { NodeInfo } from './node-info.js';
import { isBestEffort, type QosSnapshot } from './qos-view.js';
import type { Sample } from './sampler.js';
import type { SelfSummary } from './self-metrics.js';
import { round, signalsOf, verdictOf, type Signal, type Thresholds, type Verdict } from './verdict.js';
import type { ContainerEntity, PodEntity } from './view.js';
import type { WindowRates } from './window.js';

export interface FeatureState {
  available: boolean;
  reason?: string;
}

/** Measured signals of one cgroup. Rates are over the report window; totals are cumulative. */
export interface CgroupSignals {
  cgroup?: string;
  cpuCores?: number;
  cpuThrottledRatio?: number;
  cpuThrottledSecondsTotal?: number;
  memoryWorkingSetBytes?: number;
  memoryLimitBytes?: number;
  memoryLimitRatio?: number;
  oomKillsTotal?: number;
  oomKills?: number;
  memoryHighEvents?: number;
  /** Per-cgroup PSI: stall fraction over the window (some) and the kernel's avg10 (percent). */
  cpuPressure?: number;
  memoryPressure?: number;
  ioPressure?: number;
  psiAvg10?: { cpu?: number; memory?: number; io?: number };
  schedWaitRatio?: number;
  schedWaitSecondsTotal?: number;
  tasks?: number;
  /** Set when the last read was incomplete (the cgroup went away mid-read). */
  partial?: string;
}

export interface ContainerReport {
  id: string;
  name: string;
  image: string;
  signals: CgroupSignals;
}

export interface PodReport {
  id: string;
  namespace: string;
  name: string;
  uid: string;
  runtimeHandler: string;
  qosClass: string;
  /** Where the class came from: the QoS engine, a pod label/annotation, or the default (LS). */
  classSource: 'qos' | 'pod' | 'default';
  /** Pod-level signals come from the pod's own cgroup ("pod"), or, for pods without one, from
   * its containers and pause container ("containers": sums of usage, worst of the ratios). */
  podCgroup: 'pod' | 'containers';
  signals: CgroupSignals;
  containers: ContainerReport[];
  /** Latency-sensitive pods only (best-effort pods are not judged). */
  verdict?: Verdict;
}

export interface ClassReport {
  latencySensitive: boolean;
  pods: number;
  containers: number;
  cpuCores: number;
  memoryWorkingSetBytes: number;
  degradedPods: number;
}

export interface NodeReport {
  cpu?: { cores: number; utilisation?: number; perCore: { cpu: number; utilisation?: number }[] };
  memory?: NodeSnapshot['memory'];
  psi: Record<string, { some?: PsiReport; full?: PsiReport }>;
  load?: NodeSnapshot['load'];
  contextSwitchesPerSecond?: number;
  vmstat?: NodeSnapshot['vm'];
  info?: NodeInfo;
  missing: Record<string, string>;
}

export interface PsiReport {
  avg10: number;
  avg60: number;
  avg300: number;
  totalSeconds: number;
}

export interface ExporterState {
  address?: string;
  path: string;
  listening: boolean;
  error?: string;
}

export interface SliReport {
  generatedAt: string;
  windowSeconds: number;
  thresholds: Thresholds;
  features: Record<string, FeatureState>;
  /** Verdict signals this host cannot measure, with the reason. */
  signalsNotEvaluated: Partial<Record<Signal, string>>;
  exporter: ExporterState;
  node: NodeReport;
  /** The QoS engine's actions (its own state is on GET /v1/qos/*). */
  qos: { connected: boolean; beAllowanceCores?: number; beUsedCores?: number; suppressions?: number; evictions?: number };
  classes: Record<string, ClassReport>;
  pods: PodReport[];
  berth: SelfSummary;
}

export interface ReportInput {
  view: PodEntity[];
  node: NodeSnapshot;
  qos?: QosSnapshot;
  qosConnected: boolean;
  thresholds: Thresholds;
  windowSeconds: number;
  features: Record<string, FeatureState>;
  exporter: ExporterState;
  self: SelfSummary;
  nowMs?: number;
}

function limitOf(s: Sample | undefined): number | undefined {
  const l = s?.stats.memory?.limitBytes;
  return typeof l === 'number' && l > 0 && l < 2 ** 62 ? l : undefined;
}

export function cgroupSignals(s: Sample | undefined, r: WindowRates | undefined, waitNs?: number, tasks?: number): CgroupSignals {
  if (!s) return {};
  const { cpu, memory, psi, pids } = s.stats;
  const limit = limitOf(s);
  const out: CgroupSignals = {
    cgroup: s.cgroupPath,
    cpuCores: r?.cpuCores ?? (s.usageNanoCores !== undefined ? s.usageNanoCores / 1e9 : undefined),
    cpuThrottledRatio: r?.cpuThrottledRatio,
    cpuThrottledSecondsTotal: cpu?.throttledNs !== undefined ? cpu.throttledNs / 1e9 : undefined,
    memoryWorkingSetBytes: memory?.workingSetBytes,
    memoryLimitBytes: limit,
    memoryLimitRatio: limit && memory ? memory.workingSetBytes / limit : undefined,
    oomKillsTotal: memory?.oomKills,
    oomKills: r?.oomKills,
    memoryHighEvents: r?.memoryHighEvents,
    cpuPressure: r?.cpuPressure,
    memoryPressure: r?.memoryPressure,
    ioPressure: r?.ioPressure,
    psiAvg10: psi ? { cpu: psi.cpu?.some.avg10, memory: psi.memory?.some.avg10, io: psi.io?.some.avg10 } : undefined,
    schedWaitRatio: r?.schedWaitRatio,
    schedWaitSecondsTotal: waitNs !== undefined ? waitNs / 1e9 : undefined,
    tasks: tasks ?? pids?.current,
    partial: s.stats.partial?.reason,
  };
  for (const k of Object.keys(out) as (keyof CgroupSignals)[]) {
    const v = out[k];
    if (v === undefined) delete out[k];
    else if (typeof v === 'number') (out as Record<string, unknown>)[k] = round(v, 6);
  }
  return out;
}

function containerReport(c: ContainerEntity): ContainerReport {
  return { id: c.meta.id, name: c.meta.name, image: c.meta.image, signals: cgroupSignals(c.sample, c.rates, c.wait?.totalNs, c.wait?.tasks) };
}

const SUMMED = ['cpuCores', 'memoryWorkingSetBytes', 'oomKillsTotal', 'oomKills', 'memoryHighEvents', 'schedWaitRatio', 'schedWaitSecondsTotal', 'tasks'] as const;
const WORST = ['cpuThrottledRatio', 'memoryLimitRatio', 'cpuPressure', 'memoryPressure', 'ioPressure'] as const;

/** A pod without a cgroup of its own: usage summed over its cgroups, ratios the worst of them. */
export function aggregateSignals(parts: CgroupSignals[], cgroup?: string): CgroupSignals {
  const out: CgroupSignals = {};
  if (cgroup) out.cgroup = cgroup;
  for (const k of SUMMED) {
    const vs = parts.map((x) => x[k]).filter((v): v is number => v !== undefined);
    if (vs.length) out[k] = round(vs.reduce((a, b) => a + b, 0), 6);
  }
  for (const k of WORST) {
    const vs = parts.map((x) => x[k]).filter((v): v is number => v !== undefined);
    if (vs.length) out[k] = Math.max(...vs);
  }
  const avg = (r: 'cpu' | 'memory' | 'io') => {
    const vs = parts.map((x) => x.psiAvg10?.[r]).filter((v): v is number => v !== undefined);
    return vs.length ? Math.max(...vs) : undefined;
  };
  if (parts.some((x) => x.psiAvg10)) out.psiAvg10 = { cpu: avg('cpu'), memory: avg('memory'), io: avg('io') };
  return out;
}

function podReport(p: PodEntity, t: Thresholds): PodReport {
  const containers = p.containers.map(containerReport);
  const own = cgroupSignals(p.sample, p.rates);
  const signals = p.meta.ownCgroup ? own : aggregateSignals([own, ...containers.map((c) => c.signals)], own.cgroup);
  const out: PodReport = {
    id: p.meta.id,
    namespace: p.meta.namespace,
    name: p.meta.name,
    uid: p.meta.uid,
    runtimeHandler: p.meta.handler,
    qosClass: p.cls,
    classSource: p.classSource,
    podCgroup: p.meta.ownCgroup ? 'pod' : 'containers',
    signals,
    containers,
  };
  if (!isBestEffort(p.cls)) {
    const scopes = p.meta.ownCgroup ? [{ scope: 'pod', signals: signalsOf(p.rates, signals.memoryLimitRatio) }] : [];
    for (const c of containers) {
      const e = p.containers.find((x) => x.meta.id === c.id)!;
      scopes.push({ scope: c.name, signals: signalsOf(e.rates, c.signals.memoryLimitRatio) });
    }
    out.verdict = verdictOf(scopes, t);
  }
  return out;
}

function psiReport(p: PsiStats): NodeReport['psi'] {
  const line = (l: { avg10: number; avg60: number; avg300: number; totalUs: number } | undefined): PsiReport | undefined =>
    l ? { avg10: l.avg10, avg60: l.avg60, avg300: l.avg300, totalSeconds: l.totalUs / 1e6 } : undefined;
  const out: NodeReport['psi'] = {};
  for (const r of ['cpu', 'memory', 'io'] as const) {
    const v = p[r];
    if (v) out[r] = { some: line(v.some), full: line(v.full) };
  }
  return out;
}

export function nodeReport(n: NodeSnapshot): NodeReport {
  return {
    cpu: n.cpu ? { cores: n.cpu.perCore.length, utilisation: n.cpu.utilisation, perCore: n.cpu.perCore } : undefined,
    memory: n.memory,
    psi: psiReport(n.psi),
    load: n.load,
    contextSwitchesPerSecond: n.contextSwitchesPerSecond,
    vmstat: n.vm,
    info: n.info,
    missing: n.missing,
  };
}

export function classReports(pods: PodReport[]): Record<string, ClassReport> {
  const out: Record<string, ClassReport> = {};
  for (const p of pods) {
    const c = (out[p.qosClass] ??= { latencySensitive: !isBestEffort(p.qosClass), pods: 0, containers: 0, cpuCores: 0, memoryWorkingSetBytes: 0, degradedPods: 0 });
    c.pods++;
    c.containers += p.containers.length;
    for (const ct of p.containers) {
      c.cpuCores += ct.signals.cpuCores ?? 0;
      c.memoryWorkingSetBytes += ct.signals.memoryWorkingSetBytes ?? 0;
    }
    if (p.verdict?.status === 'degraded') c.degradedPods++;
  }
  for (const c of Object.values(out)) c.cpuCores = round(c.cpuCores, 6);
  return out;
}

/** Verdict signals a host cannot measure, from the feature states. */
export function notEvaluated(features: Record<string, FeatureState>): Partial<Record<Signal, string>> {
  const out: Partial<Record<Signal, string>> = {};
  const psi = features.psiCgroup;
  if (psi && !psi.available) for (const s of ['cpuPressure', 'memoryPressure', 'ioPressure'] as const) out[s] = psi.reason ?? 'no per-cgroup PSI';
  const sched = features.schedstat;
  if (sched && !sched.available) out.schedWaitRatio = sched.reason ?? 'no schedstat';
  const events = features.memoryEvents;
  if (events && !events.available) out.memoryHighEvents = events.reason ?? 'no memory.events';
  return out;
}

export function buildReport(i: ReportInput): SliReport {
  const pods = i.view.map((p) => podReport(p, i.thresholds));
  const q = i.qos;
  return {
    generatedAt: new Date(i.nowMs ?? Date.now()).toISOString(),
    windowSeconds: i.windowSeconds,
    thresholds: i.thresholds,
    features: i.features,
    signalsNotEvaluated: notEvaluated(i.features),
    exporter: i.exporter,
    node: nodeReport(i.node),
    qos: { connected: i.qosConnected, beAllowanceCores: q?.beAllowanceCores, beUsedCores: q?.beUsedCores, suppressions: q?.suppressions, evictions: q?.evictions },
    classes: classReports(pods),
    pods,
    berth: i.self,
  };
}
