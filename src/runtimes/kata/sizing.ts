/**
 * Kata sizes a pod's VM from annotations on the sandbox spec: the shim adds
 * ceil(cpu-quota / cpu-period) vCPUs and sandbox-memory / 1 MiB to the configured defaults.
 * The kubelet sends the pod's resources without its overhead (RuntimeClass overhead); a VM
 * must hold both, so berth adds the overhead to a bounded pod's CPU and memory. An unbounded
 * dimension (no limit) stays unbounded: Kata then uses its default size for it.
 */
import type { LinuxContainerResources } from '../../gen/runtime/v1/api.js';
import { ANNOTATION } from '../oci/opts/annotations.js';

export interface SandboxSize {
  cpuPeriod: bigint;
  cpuQuota: bigint;
  cpuShares: bigint;
  memoryBytes: bigint;
}

const DEFAULT_PERIOD = 100_000n;

function cpus(quota: bigint, period: bigint): number {
  return quota > 0n && period > 0n ? Number(quota) / Number(period) : 0;
}

/** The pod's size with its overhead, or undefined when the kubelet sent no resources. */
export function sandboxSize(resources: LinuxContainerResources | undefined, overhead: LinuxContainerResources | undefined): SandboxSize | undefined {
  if (!resources) return undefined;
  const o = overhead;
  let cpuPeriod = resources.cpuPeriod;
  let cpuQuota = resources.cpuQuota;
  if (cpus(resources.cpuQuota, resources.cpuPeriod) > 0) {
    const total = cpus(resources.cpuQuota, resources.cpuPeriod) + (o ? cpus(o.cpuQuota, o.cpuPeriod) : 0);
    cpuPeriod = resources.cpuPeriod > 0n ? resources.cpuPeriod : DEFAULT_PERIOD;
    cpuQuota = BigInt(Math.round(total * Number(cpuPeriod)));
  }
  const cpuShares = resources.cpuShares > 0n && o && o.cpuShares > 0n ? resources.cpuShares + o.cpuShares : resources.cpuShares;
  const memoryBytes =
    resources.memoryLimitInBytes > 0n && o && o.memoryLimitInBytes > 0n ? resources.memoryLimitInBytes + o.memoryLimitInBytes : resources.memoryLimitInBytes;
  return { cpuPeriod, cpuQuota, cpuShares, memoryBytes };
}

/** The io.kubernetes.cri.sandbox-* annotations Kata reads. */
export function sizeAnnotations(s: SandboxSize): Record<string, string> {
  return {
    [ANNOTATION.sandboxCpuPeriod]: s.cpuPeriod.toString(),
    [ANNOTATION.sandboxCpuQuota]: s.cpuQuota.toString(),
    [ANNOTATION.sandboxCpuShares]: s.cpuShares.toString(),
    [ANNOTATION.sandboxMemory]: s.memoryBytes.toString(),
  };
}

/** What Kata will add to its default VM for this size (vCPUs rounded up, whole MiB). */
export function vmAddition(s: SandboxSize): { vcpus: number; memoryMiB: number } {
  return {
    vcpus: Math.ceil(cpus(s.cpuQuota, s.cpuPeriod)),
    memoryMiB: s.memoryBytes > 0n ? Number(s.memoryBytes / (1024n * 1024n)) : 0,
  };
}
