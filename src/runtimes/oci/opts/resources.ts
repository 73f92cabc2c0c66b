import { posix } from 'node:path';
import type { LinuxContainerResources } from '../../../gen/runtime/v1/api.js';
import { invalidArgument } from '../../../util/errors.js';
import type { CgroupDriver } from '../inputs.js';
import { ensureLinux, ensureProcess, ensureResources, toSafeNumber, type SpecOpt } from '../spec-opt.js';
import type { LinuxCpu, LinuxMemory } from '../spec-types.js';

/** systemd unit prefix of berth's scopes: `<slice>:berth:<id>` → berth-<id>.scope. */
export const SYSTEMD_SCOPE_PREFIX = 'berth';

/**
 * The cgroupsPath runc expects: with cgroupfs `<parent>/<id>`
 * (/kubepods/burstable/pod<uid>/<id>); with systemd `<slice>:berth:<id>`, the slice being
 * the last element of the parent (kubepods-burstable-pod<uid>.slice). No parent → none
 * (the runtime picks a default).
 */
export function cgroupsPathFor(driver: CgroupDriver, parent: string, id: string): string | undefined {
  if (!parent) return undefined;
  if (driver === 'systemd') {
    const slice = posix.basename(parent);
    if (!slice.endsWith('.slice')) {
      throw invalidArgument(`cgroup parent ${JSON.stringify(parent)} is not a systemd slice, but the cgroup driver is systemd`);
    }
    return `${slice}:${SYSTEMD_SCOPE_PREFIX}:${id}`;
  }
  if (!parent.startsWith('/')) throw invalidArgument(`cgroup parent ${JSON.stringify(parent)} must be an absolute path`);
  return posix.join(parent, id);
}

export function withCgroupsPath(path: string | undefined): SpecOpt {
  return (spec) => {
    if (path) ensureLinux(spec).cgroupsPath = path;
  };
}

/**
 * oom_score_adj, clamped up to berthd's own value: lowering it needs CAP_SYS_RESOURCE, which
 * berthd may lack (containerd's restrict_oom_score_adj), and the runtime would then fail.
 */
export function clampOomScoreAdj(requested: number, current: number): number {
  if (!Number.isInteger(requested) || requested < -1000 || requested > 1000) {
    throw invalidArgument(`oom_score_adj ${requested} is out of range -1000..1000`);
  }
  return Math.max(requested, current);
}

export function withOomScoreAdj(requested: number, current: number): SpecOpt {
  return (spec) => {
    ensureProcess(spec).oomScoreAdj = clampOomScoreAdj(requested, current);
  };
}

export interface ResourceFacts {
  swapAccounting: boolean;
  hugetlb: boolean;
}

const num = (v: bigint, what: string): number => toSafeNumber(v, what, invalidArgument);

function cpuOf(r: LinuxContainerResources): LinuxCpu {
  const cpu: LinuxCpu = {};
  if (r.cpuPeriod !== 0n) cpu.period = num(r.cpuPeriod, 'cpu_period');
  if (r.cpuQuota !== 0n) cpu.quota = num(r.cpuQuota, 'cpu_quota');
  if (r.cpuShares !== 0n) cpu.shares = num(r.cpuShares, 'cpu_shares');
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  return cpu;
}

function memoryOf(r: LinuxContainerResources, facts: ResourceFacts): LinuxMemory {
  const memory: LinuxMemory = {};
  if (r.memoryLimitInBytes !== 0n) {
    memory.limit = num(r.memoryLimitInBytes, 'memory_limit_in_bytes');
    // Swap = limit keeps the container from swapping unless swap was asked for.
    if (r.memorySwapLimitInBytes === 0n && facts.swapAccounting) memory.swap = memory.limit;
  }
  if (r.memorySwapLimitInBytes !== 0n && facts.swapAccounting) {
    memory.swap = num(r.memorySwapLimitInBytes, 'memory_swap_limit_in_bytes');
  }
  return memory;
}

/**
 * CRI LinuxContainerResources → linux.resources: zero means "not set" for every number.
 * Hugepage limits are dropped (and logged) without a hugetlb controller; the unified map
 * (cgroup v2 keys) is copied as is.
 */
export function withResources(r: LinuxContainerResources | undefined, facts: ResourceFacts): SpecOpt {
  return (spec, ctx) => {
    if (!r) return;
    const res = ensureResources(spec);
    const cpu = cpuOf(r);
    const memory = memoryOf(r, facts);
    if (Object.keys(cpu).length > 0) res.cpu = { ...res.cpu, ...cpu };
    if (Object.keys(memory).length > 0) res.memory = { ...res.memory, ...memory };
    if (r.hugepageLimits.length > 0) {
      if (facts.hugetlb) {
        res.hugepageLimits = r.hugepageLimits.map((h) => ({ pageSize: h.pageSize, limit: num(h.limit, `hugepage limit ${h.pageSize}`) }));
      } else {
        ctx.log.warn({ hugepageLimits: r.hugepageLimits.map((h) => h.pageSize) }, 'no hugetlb cgroup controller: hugepage limits skipped');
      }
    }
    if (Object.keys(r.unified).length > 0) res.unified = { ...(res.unified ?? {}), ...r.unified };
  };
}

/** The pause process gets the smallest CPU weight (2 shares). */
export function withCpuShares(shares: number): SpecOpt {
  return (spec) => {
    const res = ensureResources(spec);
    res.cpu = { ...res.cpu, shares };
  };
}
