import { NamespaceMode } from '../../gen/runtime/v1/api.js';
import { invalidArgument } from '../../util/errors.js';
import { baselineOpts, emptySpec, optContext, type BuildDeps } from './base-spec.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_PATH_ENV, DEFAULT_READONLY_PATHS } from './defaults.js';
import type { ContainerSpecInput } from './inputs.js';
import { withContainerAnnotations, withPassthroughAnnotations } from './opts/annotations.js';
import { withCapabilityChanges } from './opts/capabilities.js';
import { withCriDevices } from './opts/devices.js';
import { bindFromCri, podFileBinds, withBindMounts, withDefaultMounts } from './opts/mounts.js';
import { withContainerNamespaces } from './opts/namespaces.js';
import { withContainerArgs, withCwd, withEnv, withRoot, withTty } from './opts/process.js';
import { cgroupsPathFor, withCgroupsPath, withOomScoreAdj, withResources } from './opts/resources.js';
import { chooseSeccomp, withSeccomp } from './opts/seccomp.js';
import {
  apparmorProfileName,
  profileFromString,
  withApparmor,
  withHostDevices,
  withMaskedPaths,
  withNoNewPrivileges,
  withPrivileged,
  withReadonlyPaths,
} from './opts/security.js';
import { loadUserDb, withContainerUser } from './opts/user.js';
import { applyOpts, kvText, type SpecOpt } from './spec-opt.js';
import type { Spec } from './spec-types.js';

/** PATH default, TERM with a tty, HOSTNAME, then the image's env, then the config's (which wins). */
function envOpts(input: ContainerSpecInput): SpecOpt[] {
  const { config, sandboxConfig, image, host } = input;
  const hostname = sandboxConfig.hostname || host.hostname;
  return [
    withEnv([DEFAULT_PATH_ENV]),
    ...(config.tty ? [withTty] : []),
    withEnv([`HOSTNAME=${hostname}`]),
    withEnv(image.env ?? []),
    withEnv(config.envs.map((e) => `${e.key}=${kvText(e.value)}`)),
  ];
}

/** Mounts: defaults + cgroupfs, the CRI mounts, the pod files. */
function mountOpts(input: ContainerSpecInput): SpecOpt[] {
  const sc = input.config.linux?.securityContext;
  const cri = input.config.mounts.map(bindFromCri);
  const extra = podFileBinds(input.podFiles, {
    readonly: sc?.readonlyRootfs ?? false,
    hostIpc: sc?.namespaceOptions?.ipc === NamespaceMode.NODE,
    taken: cri.map((b) => b.containerPath),
  });
  return [
    withDefaultMounts({ cgroup: true }),
    withBindMounts(cri, extra, { recursiveReadOnlyMounts: input.host.recursiveReadOnlyMounts }),
  ];
}

/** Capabilities, privileged mode, no_new_privs, masked paths, AppArmor, seccomp (last: it reads the caps). */
function securityOpts(input: ContainerSpecInput, what: string): SpecOpt[] {
  const { config, sandboxConfig, host } = input;
  const sc = config.linux?.securityContext;
  const privileged = sc?.privileged ?? false;
  if (privileged && !sandboxConfig.linux?.securityContext?.privileged) {
    throw invalidArgument(`${what}: a privileged container needs a privileged pod sandbox`);
  }
  const apparmor = apparmorProfileName(sc?.apparmor ?? profileFromString(sc?.apparmorProfile ?? '', 'apparmor_profile'), privileged, host.apparmorEnabled, host.apparmorEnabled ? host.apparmorDefaultProfile : undefined);
  const seccomp = chooseSeccomp(sc?.seccomp, sc?.seccompProfilePath ?? '', input.runtime?.unsetSeccompProfile ?? '', privileged);
  const masked = sc?.maskedPaths.length ? sc.maskedPaths : DEFAULT_MASKED_PATHS;
  const readonlyPaths = sc?.readonlyPaths.length ? sc.readonlyPaths : DEFAULT_READONLY_PATHS;
  return [
    withMaskedPaths(masked),
    withReadonlyPaths(readonlyPaths),
    withCriDevices(config.devices),
    withCapabilityChanges(sc?.capabilities, host.capabilities),
    ...(privileged ? [withPrivileged(host.capabilities), withHostDevices] : []),
    withNoNewPrivileges(sc?.noNewPrivs ?? false),
    withApparmor(apparmor),
    withSeccomp(seccomp, host.arch),
  ];
}

/** The option list for a container, in the order they apply. */
export function containerSpecOpts(input: ContainerSpecInput): SpecOpt[] {
  const { config, sandboxConfig, image, host } = input;
  const name = config.metadata?.name ?? '';
  const what = `container ${JSON.stringify(name)}`;
  const sc = config.linux?.securityContext;
  const privileged = sc?.privileged ?? false;
  const resources = config.linux?.resources;
  const cgroupsPath = input.cgroupsPath ?? cgroupsPathFor(input.cgroupDriver, sandboxConfig.linux?.cgroupParent ?? '', input.id);
  return [
    ...baselineOpts,
    withRoot(input.rootPath ?? input.rootfs, sc?.readonlyRootfs ?? false),
    withContainerArgs(config.command, config.args, image, what),
    ...envOpts(input),
    withCwd(config.workingDir || image.workingDir || '/'),
    withContainerNamespaces({
      opts: sc?.namespaceOptions,
      sandboxPid: input.sandboxPid,
      targetPid: input.targetPid,
      cgroupNamespace: host.cgroupV2 && !privileged,
    }),
    ...mountOpts(input),
    ...securityOpts(input, what),
    withResources(resources, host),
    ...(resources ? [withOomScoreAdj(Number(resources.oomScoreAdj), host.oomScoreAdj)] : []),
    withCgroupsPath(cgroupsPath),
    withPassthroughAnnotations(sandboxConfig.annotations, input.runtime?.podAnnotations ?? []),
    withPassthroughAnnotations(config.annotations, input.runtime?.containerAnnotations ?? []),
    withContainerAnnotations(input.sandboxId, sandboxConfig, name, input.imageName),
    withContainerUser(sc, image, input.userDb ?? (() => loadUserDb(input.rootfs))),
  ];
}

/**
 * The OCI spec of a container in a pod: the process from the CRI config and the image,
 * the pod's namespaces joined through the sandbox pid, mounts, devices, capabilities,
 * seccomp / AppArmor, resources and the cgroups path. Reads the container rootfs's
 * /etc/passwd and /etc/group, and the host through the injected probes (devices, bind
 * sources, mount propagation, a Localhost seccomp profile).
 */
export async function buildContainerSpec(input: ContainerSpecInput, deps?: BuildDeps): Promise<Spec> {
  const ctx = optContext(deps, { container: input.id, sandbox: input.sandboxId });
  return applyOpts(emptySpec(), ctx, containerSpecOpts(input));
}
