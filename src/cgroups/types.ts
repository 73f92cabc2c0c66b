/**
 * Types shared by the cgroup library. Paths called "cgroup path" are relative to a
 * hierarchy root and start with "/" (e.g. "/kubepods/burstable/pod123/abc"): the same
 * string locates the cgroup in every v1 hierarchy and in the v2 unified one.
 */

/** v1: only per-controller v1 mounts; hybrid: v1 controllers plus a cgroup2 mount (usually
 * /sys/fs/cgroup/unified) with few or no controllers; v2: one unified cgroup2 mount. */
export type CgroupMode = 'v1' | 'hybrid' | 'v2';

/** The controllers this library reads or writes. Names are the kernel's v1 names, except
 * that v2 calls blkio "io" (we use "blkio" for both and map it). */
export type Controller = 'cpu' | 'cpuacct' | 'cpuset' | 'memory' | 'blkio' | 'pids' | 'freezer' | 'devices' | 'hugetlb';

/** Where each hierarchy is mounted, as found in /proc/self/mountinfo. */
export interface CgroupLayout {
  mode: CgroupMode;
  /** The cgroup2 mountpoint (v2: the only one; hybrid: the unified one), if any. */
  unified?: string;
  /** v1 controller → its mountpoint; co-mounted controllers (cpu,cpuacct) share one. */
  v1: Partial<Record<string, string>>;
  /** Named v1 hierarchies without controllers, e.g. { systemd: '/sys/fs/cgroup/systemd' }. */
  named: Record<string, string>;
  /** Controllers listed in the unified root's cgroup.controllers (v2, hybrid). */
  v2Controllers: string[];
  /** Controllers enabled for children in the unified root's cgroup.subtree_control. */
  v2SubtreeControl: string[];
  /** Controllers the kernel knows and has enabled (/proc/cgroups), when that file exists. */
  kernelControllers: string[];
}

/** Optional kernel features that callers (QoS, SLI) may ask about by name. */
export type FeatureName =
  | 'cpu.shares'
  | 'cpu.weight'
  | 'cpu.idle'
  | 'cpu.burst'
  | 'cpu.bvt_warp_ns'
  | 'cgroup.priority'
  | 'memory.high'
  | 'memory.low'
  | 'memory.min'
  | 'memory.soft_limit'
  | 'memory.swap'
  | 'memory.wmark_ratio'
  | 'memory.oom.group'
  | 'io.weight'
  | 'io.bfq.weight'
  | 'blkio.weight'
  | 'blkio.bfq.weight'
  | 'psi.node'
  | 'psi.cgroup'
  | 'cgroup.kill'
  | 'freezer'
  | 'cpuset'
  | 'resctrl'
  | 'sched_schedstats';

/** One detected feature. `file` is the kernel file whose presence decided it. */
export interface Feature {
  name: FeatureName;
  available: boolean;
  /** Why it is unavailable (or a caveat when available). */
  reason?: string;
  file?: string;
  /** Extra detail, e.g. the current value of a sysctl. */
  value?: string;
}

/** Unlimited, as cgroup files spell it ("max" in v2, -1 or a huge number in v1). */
export type Max = 'max';
