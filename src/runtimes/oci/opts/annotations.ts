import type { LinuxContainerResources, PodSandboxConfig } from '../../../gen/runtime/v1/api.js';
import { setAnnotation, type SpecOpt } from '../spec-opt.js';

/** The io.kubernetes.cri.* annotation keys runtimes and VM agents (Kata) look for. */
export const ANNOTATION = {
  containerType: 'io.kubernetes.cri.container-type',
  sandboxId: 'io.kubernetes.cri.sandbox-id',
  sandboxName: 'io.kubernetes.cri.sandbox-name',
  sandboxNamespace: 'io.kubernetes.cri.sandbox-namespace',
  sandboxUid: 'io.kubernetes.cri.sandbox-uid',
  sandboxLogDirectory: 'io.kubernetes.cri.sandbox-log-directory',
  sandboxImageName: 'io.kubernetes.cri.podsandbox.image-name',
  containerName: 'io.kubernetes.cri.container-name',
  imageName: 'io.kubernetes.cri.image-name',
  sandboxCpuPeriod: 'io.kubernetes.cri.sandbox-cpu-period',
  sandboxCpuQuota: 'io.kubernetes.cri.sandbox-cpu-quota',
  sandboxCpuShares: 'io.kubernetes.cri.sandbox-cpu-shares',
  sandboxMemory: 'io.kubernetes.cri.sandbox-memory',
} as const;

function podIdentity(spec: Parameters<SpecOpt>[0], sandboxId: string, config: PodSandboxConfig): void {
  setAnnotation(spec, ANNOTATION.sandboxId, sandboxId);
  setAnnotation(spec, ANNOTATION.sandboxNamespace, config.metadata?.namespace ?? '');
  setAnnotation(spec, ANNOTATION.sandboxUid, config.metadata?.uid ?? '');
  setAnnotation(spec, ANNOTATION.sandboxName, config.metadata?.name ?? '');
}

export function withSandboxAnnotations(sandboxId: string, config: PodSandboxConfig, imageName: string): SpecOpt {
  return (spec) => {
    podIdentity(spec, sandboxId, config);
    setAnnotation(spec, ANNOTATION.sandboxLogDirectory, config.logDirectory);
    setAnnotation(spec, ANNOTATION.sandboxImageName, imageName);
    setAnnotation(spec, ANNOTATION.containerType, 'sandbox');
  };
}

export function withContainerAnnotations(sandboxId: string, sandboxConfig: PodSandboxConfig, containerName: string, imageName: string): SpecOpt {
  return (spec) => {
    podIdentity(spec, sandboxId, sandboxConfig);
    setAnnotation(spec, ANNOTATION.containerName, containerName);
    setAnnotation(spec, ANNOTATION.imageName, imageName);
    setAnnotation(spec, ANNOTATION.containerType, 'container');
  };
}

/** The pod's declared size (sum of its containers, sent by kubelets >= 1.23), for VM runtimes. */
export function withSandboxSizeAnnotations(r: LinuxContainerResources | undefined): SpecOpt {
  return (spec) => {
    if (!r) return;
    setAnnotation(spec, ANNOTATION.sandboxCpuPeriod, r.cpuPeriod.toString());
    setAnnotation(spec, ANNOTATION.sandboxCpuQuota, r.cpuQuota.toString());
    setAnnotation(spec, ANNOTATION.sandboxCpuShares, r.cpuShares.toString());
    setAnnotation(spec, ANNOTATION.sandboxMemory, r.memoryLimitInBytes.toString());
  };
}

/** Shell-style match: `*` any run and `?` one character, neither crossing "/". */
export function globMatch(pattern: string, key: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : `\\${c}`));
  return new RegExp(`^${re}$`).test(key);
}

/** Copy the annotations whose keys match one of `patterns` (runtime pod/container_annotations). */
export function withPassthroughAnnotations(source: Record<string, string>, patterns: readonly string[]): SpecOpt {
  return (spec) => {
    if (patterns.length === 0) return;
    for (const [k, v] of Object.entries(source)) {
      if (patterns.some((p) => globMatch(p, k))) setAnnotation(spec, k, v);
    }
  };
}
