/**
 * The data QoS decisions work on. Views are plain snapshots built by the collector (I/O) so
 * strategies stay pure: metrics + policy + pods in, desired knob values out.
 */
import type { KnobName, KnobValues } from '../cgroups/index.js';

export const QOS_CLASSES = ['LSE', 'LSR', 'LS', 'BE', 'SYSTEM'] as const;
/**
 * LSE: latency-sensitive, exclusive CPUs nobody else uses; LSR: latency-sensitive with reserved
 * (exclusive) CPUs; LS: latency-sensitive on the shared pool; BE: best effort, suppressed;
 * SYSTEM: node daemons, never suppressed.
 */
export type QosClass = (typeof QOS_CLASSES)[number];

/** What a container asked for in its CRI config (after UpdateContainerResources). */
export interface OwnResources {
  /** CFS quota / period in µs; quota undefined = no limit. */
  cpuQuota?: number;
  cpuPeriod?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  memoryLimitBytes?: number;
  /** From the berth.dev/memory-request annotation or the kubelet's unified memory.min. */
  memoryRequestBytes?: number;
}

/** Usage measured for one cgroup over the last loop period. */
export interface TargetUsage {
  cpuCores?: number;
  memoryUsageBytes?: number;
  workingSetBytes?: number;
  /** PSI "some" CPU stall of this cgroup over the last period, percent (per-cgroup PSI only). */
  cpuPressurePct?: number;
  /** Its own CFS quota throttled it during the last period (then its stall is self-inflicted). */
  throttled?: boolean;
}

/** One cgroup berth may set knobs on: a container's, or the sandbox's (pause or VM). */
export interface TargetView {
  kind: 'container' | 'sandbox';
  /** Container id, or pod id for the sandbox. */
  id: string;
  name: string;
  /** Cgroup path as the cgroups library addresses it. */
  path: string;
  own: OwnResources;
  usage: TargetUsage;
  /** Whether CPU/memory suppression of the pod acts on this cgroup (containers of runc
   * pods; the sandbox of VM pods, whose vCPU threads live there). */
  primary: boolean;
  /** Created at, ns since the epoch, as a decimal string (stable ordering). */
  createdAtNs: string;
}

export interface PodView {
  id: string;
  name: string;
  namespace: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  /** CRI cgroup_parent ("" for pods berth parents under /berth). */
  cgroupParent: string;
  handler: string;
  qosScope: 'container' | 'sandbox';
  /** berth.dev/priority or koordinator.sh/priority; 0 by default. Lower is evicted first. */
  priority: number;
  createdAtNs: string;
  sandbox?: TargetView;
  containers: TargetView[];
}

export interface NodeView {
  mode: 'v1' | 'hybrid' | 'v2';
  onlineCpus: number[];
  cpuCapacityCores: number;
  /** All CPU time used on the node over the last period, in cores (from /proc/stat). */
  cpuUsedCores?: number;
  memTotalBytes: number;
  /** MemTotal − MemAvailable. */
  memUsedBytes: number;
  /** Node-wide PSI "some" CPU stall over the last period, percent. */
  cpuPressurePct?: number;
  /** How long the last period (over which rates and stalls were measured) was, ms. */
  periodMs?: number;
  /** Knobs this host cannot set, with the reason. */
  unsupported: Partial<Record<KnobName, string>>;
  /** Per-cgroup PSI is readable (v2, or hybrid where runc also joins the unified hierarchy). */
  cgroupPsi: boolean;
  /** Kernel caps cpu burst at the quota (upstream Linux: burst > quota is EINVAL). */
  burstCappedAtQuota: boolean;
}

/** Desired knob values for one cgroup: `knobs` are managed, `neutral` what the pod's own spec
 * says (written back when berth stops managing a knob). */
export interface DesiredTarget {
  path: string;
  /** '' for a group cgroup (the BE parent) that belongs to no one pod. */
  podId: string;
  id: string;
  kind: 'container' | 'sandbox' | 'group';
  cls: QosClass;
  knobs: Partial<KnobValues>;
  neutral: Partial<KnobValues>;
}

export interface EvictionOrder {
  podId: string;
  /** What is killed: one container, or (a VM pod, whose memory is the VM's) the whole sandbox. */
  kind: 'container' | 'sandbox';
  /** The container's id; for a sandbox, the pod's. */
  containerId: string;
  name: string;
  priority: number;
  workingSetBytes: number;
  message: string;
}

/** A strategy's (or the engine's) note that something could not be done as asked. */
export interface Degraded {
  feature: string;
  reason: string;
}
