import { NamespaceMode } from '../../gen/runtime/v1/api.js';
import { baselineOpts, emptySpec, optContext, type BuildDeps } from './base-spec.js';
import { SANDBOX_CPU_SHARES, SANDBOX_OOM_SCORE_ADJ } from './defaults.js';
import type { SandboxSpecInput } from './inputs.js';
import { withPassthroughAnnotations, withSandboxAnnotations, withSandboxSizeAnnotations } from './opts/annotations.js';
import { withDefaultMounts, withSandboxMounts } from './opts/mounts.js';
import { withSandboxNamespaces } from './opts/namespaces.js';
import { withCwd, withEnv, withHostname, withRoot, withSandboxArgs } from './opts/process.js';
import { cgroupsPathFor, withCgroupsPath, withCpuShares, withOomScoreAdj } from './opts/resources.js';
import { chooseSeccomp, withSeccomp } from './opts/seccomp.js';
import { withWritableMounts } from './opts/security.js';
import { validateSysctls, withSysctls } from './opts/sysctls.js';
import { loadUserDb, withSandboxUser } from './opts/user.js';
import { applyOpts, type SpecOpt } from './spec-opt.js';
import type { Spec } from './spec-types.js';

/** The pod's sysctls, validated, plus the runtime's unprivileged port / ICMP defaults. */
function sandboxSysctls(input: SandboxSpecInput, hostNetwork: boolean, hostIpc: boolean): Record<string, string> {
  const sysctls = validateSysctls(input.config.linux?.sysctls ?? {}, { hostNetwork, hostIpc });
  if (!hostNetwork) {
    if (input.runtime?.enableUnprivilegedPorts && !('net.ipv4.ip_unprivileged_port_start' in sysctls)) {
      sysctls['net.ipv4.ip_unprivileged_port_start'] = '0';
    }
    if (input.runtime?.enableUnprivilegedIcmp && !('net.ipv4.ping_group_range' in sysctls)) {
      sysctls['net.ipv4.ping_group_range'] = '0 2147483647';
    }
  }
  return sysctls;
}

/** The option list for a pod sandbox (pause) container, in the order they apply. */
export function sandboxSpecOpts(input: SandboxSpecInput): SpecOpt[] {
  const { config, image, host } = input;
  const linux = config.linux;
  const sc = linux?.securityContext;
  const ns = sc?.namespaceOptions;
  const hostNetwork = ns?.network === NamespaceMode.NODE;
  const hostIpc = ns?.ipc === NamespaceMode.NODE;
  const privileged = sc?.privileged ?? false;
  const seccomp = chooseSeccomp(sc?.seccomp, sc?.seccompProfilePath ?? '', input.runtime?.unsetSeccompProfile ?? '', privileged);
  return [
    ...baselineOpts,
    withRoot(input.rootPath ?? input.rootfs, true),
    withSandboxArgs(image, input.imageName),
    withEnv(image.env ?? []),
    withCwd(image.workingDir || '/'),
    withSandboxNamespaces(ns, input.netnsPath),
    withHostname(hostNetwork ? '' : config.hostname),
    withDefaultMounts({ cgroup: false }),
    withSandboxMounts(input.podFiles, hostIpc),
    ...(privileged ? [withWritableMounts('sysfs')] : []),
    withSysctls(sandboxSysctls(input, hostNetwork, hostIpc)),
    withCgroupsPath(input.cgroupsPath ?? cgroupsPathFor(input.cgroupDriver, linux?.cgroupParent ?? '', input.id)),
    withCpuShares(SANDBOX_CPU_SHARES),
    withOomScoreAdj(SANDBOX_OOM_SCORE_ADJ, host.oomScoreAdj),
    withSandboxSizeAnnotations(linux?.resources),
    withPassthroughAnnotations(config.annotations, input.runtime?.podAnnotations ?? []),
    withSandboxAnnotations(input.id, config, input.imageName),
    withSandboxUser(sc, image, input.userDb ?? (() => loadUserDb(input.rootfs))),
    withSeccomp(seccomp, host.arch),
  ];
}

/**
 * The OCI spec of a pod's sandbox container: the pause process, read-only root, the pod's
 * own network (the netns bind mount), ipc and uts namespaces (the host's with hostNetwork /
 * hostIPC / hostPID), the pod files, sysctls and the pod cgroup. Reads only the pause
 * image's /etc/passwd and /etc/group (and a Localhost seccomp profile, if named).
 */
export async function buildSandboxSpec(input: SandboxSpecInput, deps?: BuildDeps): Promise<Spec> {
  const ctx = optContext(deps, { sandbox: input.id });
  return applyOpts(emptySpec(), ctx, sandboxSpecOpts(input));
}
