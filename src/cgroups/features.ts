/**
 * Pure feature decisions: given which files exist in a probe cgroup of each hierarchy (and a
 * few facts read from /proc), decide which optional features are available and why not.
 * detect.ts does the I/O and calls decideFeatures().
 */
import type { CgroupLayout, Feature, FeatureName } from './types.js';

/** Files present in a (probe) cgroup, per hierarchy. */
export interface ProbeListing {
  /** v1 controller → file names in its probe cgroup; absent when the controller is not mounted. */
  v1: Partial<Record<string, Set<string>>>;
  /** File names in the unified (cgroup2) probe cgroup, if a cgroup2 hierarchy is mounted. */
  unified?: Set<string>;
  /** Directories that were inspected: hierarchy key → dir. */
  dirs: Partial<Record<string, string>>;
  /** Hierarchy key ("cpu" …, "unified") → mountpoint, to name files in feature records. */
  mounts: Partial<Record<string, string>>;
  /** Set when no probe child could be made and the root cgroup was inspected instead. */
  caveat?: string;
  /** The unified probe cgroup's own cgroup.controllers: what its parent delegates to it. */
  unifiedControllers?: string[];
}

/** Facts from outside the cgroup tree, already read. */
export interface HostFacts {
  /** Result of reading <proc>/pressure/cpu: 'ok', or the errno. */
  nodePsi: 'ok' | string;
  nodePsiFile: string;
  /** Result of reading cpu.pressure in the unified probe cgroup: 'ok', errno, or undefined (not tried). */
  cgroupPsi?: 'ok' | string;
  /** resctrl mountpoint, or whether the kernel lists resctrl in /proc/filesystems. */
  resctrlMount?: string;
  resctrlKnown: boolean;
  /** Content of <proc>/sys/kernel/sched_schedstats, undefined if absent. */
  schedstats?: string;
  schedstatsFile: string;
}

/** Where a feature's file lives in each version. `ctrl` is the v1 controller; v2 name differs for blkio → io. */
interface FeatureSpec {
  name: FeatureName;
  v1?: { ctrl: string; file: string } | { core: string };
  v2?: { ctrl: string; file: string } | { core: string };
  /** Why a version cannot have the feature at all. */
  v1Reason?: string;
  v2Reason?: string;
  /** Hint when a v1 file is missing. */
  v1MissingHint?: string;
}

const V2_NAME: Record<string, string> = { blkio: 'io' };

/** How a feature names its file: "<mount>/<cgroup>/cpu.idle" (the file exists per cgroup). */
function fileIn(mount: string | undefined, file: string): string {
  return `${mount ?? '<not mounted>'}/<cgroup>/${file}`;
}

const SPECS: FeatureSpec[] = [
  { name: 'cpu.shares', v1: { ctrl: 'cpu', file: 'cpu.shares' }, v2Reason: 'cgroup v2 uses cpu.weight (cpuShares is converted to it)' },
  { name: 'cpu.weight', v2: { ctrl: 'cpu', file: 'cpu.weight' }, v1Reason: 'cgroup v1 uses cpu.shares (cpuWeight is converted to it)' },
  { name: 'cpu.idle', v1: { ctrl: 'cpu', file: 'cpu.idle' }, v2: { ctrl: 'cpu', file: 'cpu.idle' }, v1MissingHint: 'needs Linux >= 5.15' },
  { name: 'cpu.burst', v1: { ctrl: 'cpu', file: 'cpu.cfs_burst_us' }, v2: { ctrl: 'cpu', file: 'cpu.max.burst' }, v1MissingHint: 'needs Linux >= 5.14' },
  { name: 'cpu.bvt_warp_ns', v1: { ctrl: 'cpu', file: 'cpu.bvt_warp_ns' }, v2: { ctrl: 'cpu', file: 'cpu.bvt_warp_ns' }, v1MissingHint: 'Anolis OS group identity kernels only' },
  { name: 'cgroup.priority', v2: { core: 'cgroup.priority' }, v1Reason: 'cgroup.priority is a cgroup v2 core file (OpenCloudOS kernels)' },
  { name: 'memory.high', v1: { ctrl: 'memory', file: 'memory.high' }, v2: { ctrl: 'memory', file: 'memory.high' }, v1MissingHint: 'cgroup v1 has it only on Anolis OS kernels' },
  { name: 'memory.low', v1: { ctrl: 'memory', file: 'memory.low' }, v2: { ctrl: 'memory', file: 'memory.low' }, v1MissingHint: 'cgroup v1 has it only on Anolis OS kernels' },
  { name: 'memory.min', v1: { ctrl: 'memory', file: 'memory.min' }, v2: { ctrl: 'memory', file: 'memory.min' }, v1MissingHint: 'cgroup v1 has it only on Anolis OS kernels' },
  { name: 'memory.soft_limit', v1: { ctrl: 'memory', file: 'memory.soft_limit_in_bytes' }, v2Reason: 'cgroup v2 has no soft limit; memory.low is the closest' },
  { name: 'memory.swap', v1: { ctrl: 'memory', file: 'memory.memsw.limit_in_bytes' }, v2: { ctrl: 'memory', file: 'memory.swap.max' }, v1MissingHint: 'swap accounting is off (boot with swapaccount=1)' },
  { name: 'memory.wmark_ratio', v1: { ctrl: 'memory', file: 'memory.wmark_ratio' }, v2: { ctrl: 'memory', file: 'memory.wmark_ratio' }, v1MissingHint: 'Anolis OS kernels only' },
  { name: 'memory.oom.group', v2: { ctrl: 'memory', file: 'memory.oom.group' }, v1Reason: 'memory.oom.group exists only in cgroup v2' },
  { name: 'io.weight', v2: { ctrl: 'blkio', file: 'io.weight' }, v1Reason: 'cgroup v1 uses blkio.weight / blkio.bfq.weight' },
  { name: 'io.bfq.weight', v2: { ctrl: 'blkio', file: 'io.bfq.weight' }, v1Reason: 'cgroup v1 uses blkio.bfq.weight' },
  { name: 'blkio.weight', v1: { ctrl: 'blkio', file: 'blkio.weight' }, v2Reason: 'cgroup v2 uses io.weight', v1MissingHint: 'the CFQ scheduler is gone (Linux >= 5.0); blkio.bfq.weight may exist' },
  { name: 'blkio.bfq.weight', v1: { ctrl: 'blkio', file: 'blkio.bfq.weight' }, v2Reason: 'cgroup v2 uses io.bfq.weight', v1MissingHint: 'BFQ I/O scheduler not built or not loaded' },
  { name: 'cgroup.kill', v2: { core: 'cgroup.kill' }, v1Reason: 'no cgroup2 hierarchy: kill via the v1 freezer instead' },
  { name: 'freezer', v1: { ctrl: 'freezer', file: 'freezer.state' }, v2: { core: 'cgroup.freeze' } },
  { name: 'cpuset', v1: { ctrl: 'cpuset', file: 'cpuset.cpus' }, v2: { ctrl: 'cpuset', file: 'cpuset.cpus' } },
];

function decideV2(spec: FeatureSpec, layout: CgroupLayout, l: ProbeListing, hybrid: boolean): Feature {
  const { name } = spec;
  const where = spec.v2!;
  const fileName = 'core' in where ? where.core : where.file;
  const file = fileIn(layout.unified, fileName);
  if (!l.unified) return { name, available: false, reason: 'no cgroup2 hierarchy is mounted', file };
  if (l.unified.has(fileName)) {
    const reason = hybrid ? `in the unified hierarchy ${layout.unified}: affects only processes attached there too` : l.caveat;
    return reason ? { name, available: true, reason, file } : { name, available: true, file };
  }
  if ('ctrl' in where) {
    const ctrl = V2_NAME[where.ctrl] ?? where.ctrl;
    if (!layout.v2Controllers.includes(ctrl)) {
      return { name, available: false, reason: `controller ${ctrl} is not available in ${layout.unified}/cgroup.controllers`, file };
    }
    if (!layout.v2SubtreeControl.includes(ctrl) && !l.caveat) {
      return { name, available: false, reason: `controller ${ctrl} is not enabled in ${layout.unified}/cgroup.subtree_control`, file };
    }
    // A probe deeper down (probeCgroup "/kubepods/x") gets only what each ancestor delegates.
    const probe = l.dirs.unified;
    if (probe && l.unifiedControllers && !l.unifiedControllers.includes(ctrl) && !l.caveat) {
      const parent = probe.slice(0, probe.lastIndexOf('/')) || '/';
      return { name, available: false, reason: `controller ${ctrl} is not enabled in ${parent}/cgroup.subtree_control (probe cgroup ${probe})`, file };
    }
  }
  const suffix = l.caveat ? ` (${l.caveat})` : '';
  return { name, available: false, reason: `this kernel has no ${fileName}${suffix}`, file };
}

function decideV1(spec: FeatureSpec, l: ProbeListing): Feature {
  const { name } = spec;
  const where = spec.v1!;
  if ('core' in where) return { name, available: false, reason: 'not a v1 file' };
  const files = l.v1[where.ctrl];
  const file = fileIn(l.mounts[where.ctrl], where.file);
  if (!files) return { name, available: false, reason: `cgroup v1 controller ${where.ctrl} is not mounted`, file };
  if (files.has(where.file)) return l.caveat ? { name, available: true, reason: l.caveat, file } : { name, available: true, file };
  const hint = spec.v1MissingHint ? `: ${spec.v1MissingHint}` : '';
  const suffix = l.caveat ? ` (${l.caveat})` : '';
  return { name, available: false, reason: `this kernel has no ${where.file} in cgroup v1${hint}${suffix}`, file };
}

/** Decide one cgroup-file feature for the detected mode. */
function decideCgroupFeature(spec: FeatureSpec, layout: CgroupLayout, l: ProbeListing): Feature {
  if (layout.mode === 'v2') {
    if (spec.v2) return decideV2(spec, layout, l, false);
    return { name: spec.name, available: false, reason: spec.v2Reason ?? 'not available in cgroup v2' };
  }
  if (spec.v1) return decideV1(spec, l);
  // v2-only core files (cgroup.kill …) also exist in a hybrid host's unified hierarchy.
  if (layout.mode === 'hybrid' && spec.v2 && 'core' in spec.v2) return decideV2(spec, layout, l, true);
  return { name: spec.name, available: false, reason: spec.v1Reason ?? 'not available in cgroup v1' };
}

function decidePsi(layout: CgroupLayout, l: ProbeListing, host: HostFacts): Feature[] {
  const psiWhy = (errno: string) =>
    errno === 'ENOENT' ? 'kernel built without CONFIG_PSI' : errno === 'EOPNOTSUPP' || errno === 'ENOTSUP' ? 'PSI disabled at boot (boot with psi=1)' : `read failed: ${errno}`;
  const node: Feature =
    host.nodePsi === 'ok'
      ? { name: 'psi.node', available: true, file: host.nodePsiFile }
      : { name: 'psi.node', available: false, reason: psiWhy(host.nodePsi), file: host.nodePsiFile };
  const file = fileIn(layout.unified, 'cpu.pressure');
  let cgroup: Feature;
  if (!l.unified) cgroup = { name: 'psi.cgroup', available: false, reason: 'per-cgroup PSI needs a cgroup2 hierarchy; none is mounted' };
  else if (!l.unified.has('cpu.pressure')) cgroup = { name: 'psi.cgroup', available: false, reason: host.nodePsi === 'ok' ? 'no cpu.pressure in cgroup2 cgroups' : psiWhy(host.nodePsi), file };
  else if (host.cgroupPsi !== undefined && host.cgroupPsi !== 'ok') cgroup = { name: 'psi.cgroup', available: false, reason: psiWhy(host.cgroupPsi), file };
  else if (layout.mode === 'hybrid') {
    cgroup = { name: 'psi.cgroup', available: true, reason: `read from the unified hierarchy ${layout.unified}: covers processes attached there too (runc does in hybrid mode)`, file };
  } else cgroup = { name: 'psi.cgroup', available: true, file };
  return [node, cgroup];
}

function decideHost(host: HostFacts): Feature[] {
  const resctrl: Feature = host.resctrlMount
    ? { name: 'resctrl', available: true, file: host.resctrlMount }
    : {
        name: 'resctrl',
        available: false,
        reason: host.resctrlKnown ? 'supported by the kernel but not mounted (mount -t resctrl resctrl /sys/fs/resctrl)' : 'kernel or CPU has no resctrl (Intel RDT / AMD PQoS)',
      };
  const s = host.schedstats?.trim();
  const schedstats: Feature =
    s === undefined
      ? { name: 'sched_schedstats', available: false, reason: 'kernel built without CONFIG_SCHEDSTATS (no kernel.sched_schedstats sysctl)', file: host.schedstatsFile }
      : s === '1'
        ? { name: 'sched_schedstats', available: true, value: s, file: host.schedstatsFile }
        : { name: 'sched_schedstats', available: true, value: s, reason: 'present but off: set kernel.sched_schedstats=1 for scheduler wait statistics', file: host.schedstatsFile };
  return [resctrl, schedstats];
}

/** Every feature, decided from the layout, the probe listing and host facts. */
export function decideFeatures(layout: CgroupLayout, listing: ProbeListing, host: HostFacts): Record<FeatureName, Feature> {
  const all = [...SPECS.map((s) => decideCgroupFeature(s, layout, listing)), ...decidePsi(layout, listing, host), ...decideHost(host)];
  return Object.fromEntries(all.map((f) => [f.name, f])) as Record<FeatureName, Feature>;
}
