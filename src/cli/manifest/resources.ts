/**
 * Container resources the way the kubelet maps them (pure): requests default to limits,
 * cpu shares from the request (max(2, milli × 1024 / 1000)), CFS quota from the limit over a
 * 100 ms period, the memory limit, oom_score_adj by QoS tier, and the pod's QoS tier
 * (Guaranteed / Burstable / BestEffort) as GetPodQOS decides it.
 */
import { intValue, isZero, milliValue, parseQuantity, type Quantity } from './quantity.js';
import type { ResourceList } from './schema.js';

export type QosTier = 'Guaranteed' | 'Burstable' | 'BestEffort';

export const MIN_SHARES = 2;
export const MAX_SHARES = 262_144;
export const CFS_PERIOD_US = 100_000;
export const MIN_QUOTA_US = 1_000;
export const GUARANTEED_OOM_SCORE_ADJ = -997;
export const BEST_EFFORT_OOM_SCORE_ADJ = 1000;

export interface Resources {
  requests?: ResourceList;
  limits?: ResourceList;
}

/** cpu and memory, in millicores and bytes; undefined = not set (or zero). */
export interface Amounts {
  cpuMilli?: bigint;
  memoryBytes?: bigint;
}

export interface Effective {
  requests: Amounts;
  limits: Amounts;
}

function amount(v: string | number | undefined, kind: 'cpu' | 'memory'): bigint | undefined {
  if (v === undefined) return undefined;
  const q: Quantity | undefined = parseQuantity(v);
  if (!q || isZero(q)) return undefined;
  return kind === 'cpu' ? milliValue(q) : intValue(q);
}

/** Requests and limits after API defaulting: an unset request takes the limit. */
export function effective(r: Resources | undefined): Effective {
  const limits: Amounts = { cpuMilli: amount(r?.limits?.cpu, 'cpu'), memoryBytes: amount(r?.limits?.memory, 'memory') };
  const requests: Amounts = {
    cpuMilli: r?.requests?.cpu !== undefined ? amount(r.requests.cpu, 'cpu') : limits.cpuMilli,
    memoryBytes: r?.requests?.memory !== undefined ? amount(r.requests.memory, 'memory') : limits.memoryBytes,
  };
  return { requests, limits };
}

export function milliCpuToShares(milli: bigint | undefined): number {
  if (!milli) return MIN_SHARES;
  const shares = Number((milli * 1024n) / 1000n);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

export function milliCpuToQuota(milli: bigint | undefined, periodUs = CFS_PERIOD_US): number {
  if (!milli) return 0;
  return Math.max(MIN_QUOTA_US, Number((milli * BigInt(periodUs)) / 1000n));
}

/** The pod's QoS tier from all its containers (init ones included), as the kubelet decides. */
export function podQosTier(containers: (Resources | undefined)[]): QosTier {
  const req: Record<string, bigint> = {};
  const lim: Record<string, bigint> = {};
  let guaranteed = true;
  for (const r of containers) {
    const e = effective(r);
    if (e.requests.cpuMilli) req.cpu = (req.cpu ?? 0n) + e.requests.cpuMilli;
    if (e.requests.memoryBytes) req.memory = (req.memory ?? 0n) + e.requests.memoryBytes;
    if (e.limits.cpuMilli) lim.cpu = (lim.cpu ?? 0n) + e.limits.cpuMilli;
    if (e.limits.memoryBytes) lim.memory = (lim.memory ?? 0n) + e.limits.memoryBytes;
    if (!e.limits.cpuMilli || !e.limits.memoryBytes) guaranteed = false;
  }
  if (Object.keys(req).length === 0 && Object.keys(lim).length === 0) return 'BestEffort';
  if (guaranteed && Object.keys(req).length === Object.keys(lim).length && Object.entries(req).every(([k, v]) => lim[k] === v)) return 'Guaranteed';
  return 'Burstable';
}

/** oom_score_adj for a container of a pod in `tier` (memory capacity = the node's MemTotal). */
export function oomScoreAdj(tier: QosTier, memoryRequestBytes: bigint | undefined, memoryCapacityBytes: bigint): number {
  if (tier === 'Guaranteed') return GUARANTEED_OOM_SCORE_ADJ;
  if (tier === 'BestEffort') return BEST_EFFORT_OOM_SCORE_ADJ;
  const request = memoryRequestBytes ?? 0n;
  const adj = memoryCapacityBytes > 0n ? 1000n - (1000n * request) / memoryCapacityBytes : 1000n;
  // Burstable stays strictly between Guaranteed and BestEffort.
  if (adj < BigInt(1000 + GUARANTEED_OOM_SCORE_ADJ)) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adj === BigInt(BEST_EFFORT_OOM_SCORE_ADJ)) return BEST_EFFORT_OOM_SCORE_ADJ - 1;
  return Number(adj);
}

/** The CRI LinuxContainerResources numbers for one container. */
export interface LinuxResources {
  cpuShares: number;
  cpuQuota: number;
  cpuPeriod: number;
  memoryLimitInBytes: number;
  oomScoreAdj: number;
}

export function containerLinuxResources(r: Resources | undefined, tier: QosTier, memoryCapacityBytes: bigint): LinuxResources {
  const e = effective(r);
  const quota = milliCpuToQuota(e.limits.cpuMilli);
  return {
    cpuShares: milliCpuToShares(e.requests.cpuMilli),
    cpuQuota: quota,
    cpuPeriod: quota ? CFS_PERIOD_US : 0,
    memoryLimitInBytes: Number(e.limits.memoryBytes ?? 0n),
    oomScoreAdj: oomScoreAdj(tier, e.requests.memoryBytes, memoryCapacityBytes),
  };
}

/**
 * The pod's totals (what the kubelet sends as the sandbox's resources): the sum over
 * containers, or the largest init container when bigger; a limit only when every container
 * has one.
 */
export function podTotals(containers: (Resources | undefined)[], init: (Resources | undefined)[]): Effective {
  const sum = (list: (Resources | undefined)[], pick: (e: Effective) => bigint | undefined, all: boolean): bigint | undefined => {
    let total = 0n;
    for (const r of list) {
      const v = pick(effective(r));
      if (v === undefined && all) return undefined;
      total += v ?? 0n;
    }
    return total || undefined;
  };
  const max = (a: bigint | undefined, list: (Resources | undefined)[], pick: (e: Effective) => bigint | undefined): bigint | undefined =>
    list.reduce<bigint | undefined>((m, r) => {
      const v = pick(effective(r));
      return v !== undefined && (m === undefined || v > m) ? v : m;
    }, a);
  const cpuLim = sum(containers, (e) => e.limits.cpuMilli, true);
  const memLim = sum(containers, (e) => e.limits.memoryBytes, true);
  return {
    requests: {
      cpuMilli: max(sum(containers, (e) => e.requests.cpuMilli, false), init, (e) => e.requests.cpuMilli),
      memoryBytes: max(sum(containers, (e) => e.requests.memoryBytes, false), init, (e) => e.requests.memoryBytes),
    },
    limits: {
      cpuMilli: cpuLim === undefined ? undefined : max(cpuLim, init, (e) => e.limits.cpuMilli),
      memoryBytes: memLim === undefined ? undefined : max(memLim, init, (e) => e.limits.memoryBytes),
    },
  };
}
