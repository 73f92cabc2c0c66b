/**
 * The BE parent: a top-level cgroup that berth keeps idle (cpu.idle=1, or minimal shares where
 * the kernel has no cpu.idle), under which it puts the BE pods whose config names no
 * cgroup_parent (berth run, crictl).
 *
 * Why top level: cpu.idle and weights order a cgroup only against its siblings. Under /berth a
 * BE pod is idle against the LS pods beside it, but /berth itself competes at the root with
 * every other task on the node at normal weight — clients, sshd, berthd, the shims, kworkers,
 * ksoftirqd — so those wait behind BE busy loops until the scheduler's slice runs out. Measured
 * on this 2-core host (bench/colocation's LS httpd at 100 req/s, BE burning both cores, QoS on):
 * p99.9 29.9 ms with BE under /berth, 9.4 ms with BE under this parent.
 *
 * Pods with a cgroup_parent (the kubelet's /kubepods/besteffort/pod<uid>) keep it: the kubelet
 * owns that hierarchy. The parent is chosen once, at RunPodSandbox, from the class the pod has
 * then; a later policy change does not move running pods. A pod there that the policy no longer
 * makes BE would be idle against the whole node, so while one runs there the parent is left
 * neutral (decide.ts) and QoS status names the pod.
 */
import { expandSlice, type CgroupManager, type KnobValues } from '../cgroups/index.js';
import type { Policy } from './policy/schema.js';
import type { NodeView } from './types.js';

export const DEFAULT_BE_PARENT = { cgroupfs: '/berth-besteffort', systemd: 'berth_besteffort.slice' } as const;

export interface BeParent {
  /** What goes into the OCI cgroupsPath as the parent ("/berth-besteffort" or "x.slice"). */
  parent: string;
  /** The same as a cgroup path, for src/cgroups ("/berth-besteffort", "/x.slice"). */
  path: string;
  driver: 'cgroupfs' | 'systemd';
}

/** The BE parent for a driver and the `qos.beCgroupParent` setting ("" turns it off). */
export function resolveBeParent(driver: 'cgroupfs' | 'systemd', configured: string | undefined): BeParent | undefined {
  const parent = configured ?? DEFAULT_BE_PARENT[driver];
  if (parent === '') return undefined;
  const path = driver === 'systemd' ? expandSlice(parent) : parent;
  return { parent, path, driver };
}

/** The parent's CPU and I/O knobs under `policy` (enabled: BE's; disabled: the kernel defaults). */
export function beParentKnobs(node: Pick<NodeView, 'unsupported'>, policy: Policy): { knobs: Partial<KnobValues>; neutral: Partial<KnobValues> } {
  const neutral: Partial<KnobValues> = { cpuShares: 1024, blkioWeight: 100 };
  if (!node.unsupported.cpuIdle) neutral.cpuIdle = false;
  for (const k of Object.keys(node.unsupported) as Array<keyof KnobValues>) delete neutral[k];
  if (!policy.enabled) return { knobs: {}, neutral };
  const knobs: Partial<KnobValues> = {};
  if (policy.be.cpuIdle && !node.unsupported.cpuIdle) knobs.cpuIdle = true;
  else knobs.cpuShares = policy.be.cpuShares;
  if (!node.unsupported.blkioWeight) knobs.blkioWeight = policy.be.blkioWeight;
  return { knobs, neutral };
}

/**
 * Make the parent exist with BE's knobs before the first BE pod lands in it (the loop keeps
 * them after). With the systemd driver the runtime creates the slice through systemd, so berth
 * only sets knobs on a slice that already exists.
 */
export async function prepareBeParent(cg: CgroupManager, be: BeParent, node: Pick<NodeView, 'unsupported'>, policy: Policy): Promise<void> {
  if (!cg.exists(be.path)) {
    if (be.driver === 'systemd') return;
    await cg.create(be.path);
  }
  const { knobs } = beParentKnobs(node, policy);
  if (knobs.cpuIdle) await cg.write(be.path, 'cpuIdle', true);
  else if (knobs.cpuShares !== undefined) await cg.write(be.path, 'cpuShares', knobs.cpuShares);
}
