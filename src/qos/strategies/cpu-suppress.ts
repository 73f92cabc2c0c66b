/**
 * BE CPU suppression with PSI feedback. Each step: measure what non-BE pods and the system
 * used, compute the BE allowance (math/allowance.ts), scale it by the PSI factor
 * (math/psi.ts), and apply it to the BE aggregate:
 *
 *   cpuset    (default) BE cgroups are confined to floor(allowance) whole CPUs of the shared
 *             pool (at least one) and are not throttled; only an allowance under one CPU is
 *             also enforced by quotas (split as below) on that CPU;
 *   cfsQuota  the allowance is split among BE cgroups by demand (their quotas sum to it), each
 *             share also capped by the container's own limit.
 *
 * Why cpuset by default (as Koordinator's koordlet does): measured on this 2-vCPU host (busybox
 * httpd CGI at 100 req/s in one cgroup, two busy loops in an idle one, four runs), BE confined
 * to one CPU left LS's p99 at 0.87–1.12× alone, while BE held to 1.05 cores by a CFS quota on
 * both CPUs took it to 2.0–2.2× (and to 1.9× at 0.5 cores) — BE getting about the same CPU.
 * LS then always has a CPU BE never runs on, and BE is not throttled on the CPUs LS wakes up
 * on. bench/colocation shows the same through berth (README). Rounding down keeps BE within the
 * allowance; what a fraction of a CPU would add is left idle. Without cpusets this falls back
 * to cfsQuota.
 *
 * Why per-cgroup shares and not one BE parent cgroup: berth's own pods have no common parent
 * per class (containers sit flat under /berth, and the lifecycle records the cgroup it
 * computed, so a spec hook cannot re-parent them without SLI and CRI stats reading the wrong
 * cgroup); and the kubelet's /kubepods/besteffort holds only kubelet-BestEffort pods, while a
 * pod annotated BE may be Burstable. Shares cover both; the cost is that a container waking up
 * gets a larger share one step (one loop period) later.
 */
import { beAllowance, coresToQuota, splitAllowance, type Allowance, type ShareTarget } from '../math/allowance.js';
import { beCpuset, beCpusetNeedsQuota, formatCpus } from '../math/cpusets.js';
import { pickPressure, psiStep, smoothPressure } from '../math/psi.js';
import type { Degraded, TargetView } from '../types.js';
import { allTargets, primaryTargets, type ClassifiedPod, type KnobSet, type Strategy, type StrategyContext, type StrategyResult } from './types.js';

const DEFAULT_PERIOD_US = 100_000;

function sumCpu(targets: TargetView[]): number {
  return targets.reduce((s, t) => s + (t.usage.cpuCores ?? 0), 0);
}

function limitCores(t: TargetView): number | undefined {
  const q = t.own.cpuQuota;
  return q !== undefined && q > 0 ? q / (t.own.cpuPeriod || DEFAULT_PERIOD_US) : undefined;
}

/** The PSI feedback step: which signal, the new factor, and a note when there is no signal. */
function feedback(ctx: StrategyContext, degraded: Degraded[]) {
  const { node, policy, state } = ctx;
  // LS classes' own stall where per-cgroup PSI exists, else the node's. A cgroup its own
  // quota throttled is left out: that stall is not BE's doing.
  const lsPressures = ctx.pods
    .filter((p) => p.cls === 'LS' || p.cls === 'LSR' || p.cls === 'LSE')
    .flatMap(allTargets)
    .filter((t) => (t.usage.cpuCores ?? 0) > 0.01 && t.usage.cpuPressurePct !== undefined && !t.usage.throttled)
    .map((t) => t.usage.cpuPressurePct!);
  const cfg = policy.psiFeedback;
  const signal = pickPressure(cfg.source, node.cgroupPsi, lsPressures, node.cpuPressurePct);
  if (cfg.enabled && signal.from === 'none') {
    degraded.push({ feature: 'psi', reason: cfg.source === 'pods' ? 'psiFeedback.source is pods but this kernel has no per-cgroup PSI' : 'no PSI on this kernel: the allowance is not steered by pressure' });
  }
  // The first step (just started, or restarted with saved state) has measured no period yet:
  // the mean and the factor carry over unchanged.
  const first = node.periodMs === undefined;
  const mean = first ? state.psiPressurePct : smoothPressure(state.psiPressurePct, signal.value, node.periodMs, cfg.windowSeconds * 1000);
  const step = cfg.enabled
    ? psiStep(state.psiFactor, first ? undefined : mean, { targetPercent: policy.lsPressureTargetPercent, tightenFactor: cfg.tightenFactor, relaxPercent: cfg.relaxPercent, minFactor: cfg.minFactor }, signal.value)
    : { factor: 1, action: 'hold' as const };
  return { signal, mean, step, enabled: cfg.enabled };
}

function allowanceFor(ctx: StrategyContext, beUsed: number, nonBeUsed: number, factor: number): { allowance: Allowance; systemUsed?: number } {
  const { node, policy, state } = ctx;
  if (node.cpuUsedCores === undefined) {
    // First step: no rates yet. Start from the floor and regrow; LS comes first.
    const cores = state.allowanceCores ?? Math.min(policy.cpuSuppressMinCores, node.cpuCapacityCores);
    return { allowance: { cores, rawCores: cores, limitedBy: 'floor' } };
  }
  const systemUsed = Math.max(0, node.cpuUsedCores - beUsed - nonBeUsed);
  const allowance = beAllowance({
    capacityCores: node.cpuCapacityCores,
    thresholdPercent: policy.cpuSuppressThresholdPercent,
    nonBeUsedCores: nonBeUsed,
    systemUsedCores: systemUsed,
    minCores: policy.cpuSuppressMinCores,
    maxIncreaseCores: (node.cpuCapacityCores * policy.cpuSuppressMaxIncreasePercent) / 100,
    factor,
    previousCores: state.allowanceCores,
  });
  return { allowance, systemUsed };
}

/** The allowance as CFS quotas, split among the BE cgroups by demand. */
function quotaKnobs(ctx: StrategyContext, bePods: ClassifiedPod[], cores: number, knobs: KnobSet[], lastShares: Map<string, number>): void {
  const primaries = bePods.flatMap(primaryTargets);
  const shares = splitAllowance(
    cores,
    primaries.map((t): ShareTarget => ({ id: t.id, usageCores: t.usage.cpuCores, lastShareCores: ctx.state.lastShares.get(t.id), limitCores: limitCores(t) })),
  );
  for (const t of primaries) {
    const share = shares.get(t.id)!;
    lastShares.set(t.id, share);
    const period = t.own.cpuPeriod || DEFAULT_PERIOD_US;
    knobs.push({ path: t.path, knobs: { cpuMax: { quota: coresToQuota(share, period), period }, cpuBurst: 0 } });
  }
}

/** The allowance as BE knobs: a cpuset (plus quotas below one CPU), or quotas alone. */
function applyAllowance(ctx: StrategyContext, bePods: ClassifiedPod[], cores: number, degraded: Degraded[]) {
  const { node, policy } = ctx;
  const knobs: KnobSet[] = [];
  const lastShares = new Map<string, number>();
  let cpus: string | undefined;
  const noQuota = node.unsupported.cpuMax;
  if (policy.cpuSuppressPolicy === 'cfsQuota') {
    if (noQuota) degraded.push({ feature: 'cpu.cfs_quota', reason: `BE cannot be suppressed by quota: ${noQuota}` });
    else quotaKnobs(ctx, bePods, cores, knobs, lastShares);
  } else if (node.unsupported.cpusetCpus) {
    // Without cpusets (say, a v2 tree whose cpuset controller is not delegated), quotas still hold BE to its allowance.
    degraded.push({ feature: 'cpuset', reason: `BE cannot be suppressed by cpuset: ${node.unsupported.cpusetCpus}; ${noQuota ? 'nor by quota' : 'suppressing by CFS quota instead'}` });
    if (!noQuota) quotaKnobs(ctx, bePods, cores, knobs, lastShares);
  } else {
    const set = beCpuset(ctx.facts.sharedCpus ?? node.onlineCpus, cores);
    cpus = formatCpus(set);
    for (const t of bePods.flatMap(allTargets)) knobs.push({ path: t.path, knobs: { cpusetCpus: cpus } });
    if (beCpusetNeedsQuota(cores, set.length)) {
      if (noQuota) degraded.push({ feature: 'cpu.cfs_quota', reason: `a BE allowance under one CPU cannot be enforced: ${noQuota}` });
      else quotaKnobs(ctx, bePods, cores, knobs, lastShares);
    }
  }
  return { knobs, lastShares, cpus };
}

export const cpuSuppressStrategy: Strategy = {
  name: 'cpuSuppress',
  decide(ctx: StrategyContext): StrategyResult {
    const bePods = ctx.pods.filter((p) => p.cls === 'BE');
    const beUsed = sumCpu(bePods.flatMap(allTargets));
    const nonBeUsed = sumCpu(ctx.pods.filter((p) => p.cls !== 'BE').flatMap(allTargets));
    const degraded: Degraded[] = [];
    const psi = feedback(ctx, degraded);
    const { allowance, systemUsed } = allowanceFor(ctx, beUsed, nonBeUsed, psi.step.factor);
    const { knobs, lastShares, cpus } = applyAllowance(ctx, bePods, allowance.cores, degraded);
    return {
      knobs,
      degraded,
      state: { allowanceCores: allowance.cores, psiFactor: psi.step.factor, psiPressurePct: psi.mean, lastShares },
      report: {
        policy: ctx.policy.cpuSuppressPolicy,
        allowanceCores: allowance.cores,
        formulaCores: allowance.rawCores,
        limitedBy: allowance.limitedBy,
        beUsedCores: round(beUsed),
        nonBeUsedCores: round(nonBeUsed),
        systemUsedCores: systemUsed === undefined ? undefined : round(systemUsed),
        capacityCores: ctx.node.cpuCapacityCores,
        psi: {
          enabled: psi.enabled,
          from: psi.signal.from,
          pressurePercent: psi.mean === undefined ? undefined : round(psi.mean),
          lastPercent: psi.signal.value === undefined ? undefined : round(psi.signal.value),
          factor: psi.step.factor,
          action: psi.step.action,
        },
        shares: Object.fromEntries(lastShares),
        cpus,
      },
    };
  },
};

const round = (v: number) => Math.round(v * 1000) / 1000;
