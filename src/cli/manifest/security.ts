/**
 * Pod and container security contexts → CRI, as the kubelet merges them (pure): container
 * settings override the pod's; namespaces from hostNetwork / hostPID / hostIPC /
 * shareProcessNamespace; fsGroup joins the supplemental groups; no seccomp profile means
 * Unconfined (the kubelet's default without --seccomp-default).
 */
import {
  LinuxContainerSecurityContext,
  LinuxSandboxSecurityContext,
  NamespaceMode,
  SecurityProfile_ProfileType,
  type NamespaceOption,
  type SecurityProfile,
} from '../../gen/runtime/v1/api.js';
import type { Container, InitContainer, PodSpec, SeccompProfile } from './schema.js';

export function namespaceOptions(spec: PodSpec): NamespaceOption {
  return {
    network: spec.hostNetwork ? NamespaceMode.NODE : NamespaceMode.POD,
    pid: spec.hostPID ? NamespaceMode.NODE : spec.shareProcessNamespace ? NamespaceMode.POD : NamespaceMode.CONTAINER,
    ipc: spec.hostIPC ? NamespaceMode.NODE : NamespaceMode.POD,
    targetId: '',
    usernsOptions: undefined,
  };
}

function seccomp(p: SeccompProfile | undefined): SecurityProfile {
  if (!p || p.type === 'Unconfined') return { profileType: SecurityProfile_ProfileType.Unconfined, localhostRef: '' };
  if (p.type === 'RuntimeDefault') return { profileType: SecurityProfile_ProfileType.RuntimeDefault, localhostRef: '' };
  return { profileType: SecurityProfile_ProfileType.Localhost, localhostRef: p.localhostProfile ?? '' };
}

const int64 = (v: number | undefined) => (v === undefined ? undefined : { value: BigInt(v) });

function supplementalGroups(spec: PodSpec): bigint[] {
  const sc = spec.securityContext;
  const groups = [...(sc?.supplementalGroups ?? [])];
  if (sc?.fsGroup !== undefined && !groups.includes(sc.fsGroup)) groups.push(sc.fsGroup);
  return groups.map(BigInt);
}

/** Whether any container (init ones too) is privileged: the sandbox must be, too. */
export function hasPrivileged(spec: PodSpec): boolean {
  return [...spec.containers, ...(spec.initContainers ?? [])].some((c) => c.securityContext?.privileged === true);
}

export function sandboxSecurityContext(spec: PodSpec): LinuxSandboxSecurityContext {
  const sc = spec.securityContext;
  return LinuxSandboxSecurityContext.fromPartial({
    namespaceOptions: namespaceOptions(spec),
    runAsUser: int64(sc?.runAsUser),
    runAsGroup: int64(sc?.runAsGroup),
    supplementalGroups: supplementalGroups(spec),
    privileged: hasPrivileged(spec),
    seccomp: seccomp(sc?.seccompProfile),
  });
}

/** The effective user of a container: its own runAsUser, else the pod's (undefined = the image's). */
export function effectiveRunAs(spec: PodSpec, c: Container | InitContainer): { uid?: number; gid?: number; nonRoot: boolean } {
  const pod = spec.securityContext;
  const own = c.securityContext;
  return {
    uid: own?.runAsUser ?? pod?.runAsUser,
    gid: own?.runAsGroup ?? pod?.runAsGroup,
    nonRoot: own?.runAsNonRoot ?? pod?.runAsNonRoot ?? false,
  };
}

export function containerSecurityContext(spec: PodSpec, c: Container | InitContainer): LinuxContainerSecurityContext {
  const own = c.securityContext;
  const runAs = effectiveRunAs(spec, c);
  return LinuxContainerSecurityContext.fromPartial({
    capabilities: own?.capabilities ? { addCapabilities: own.capabilities.add ?? [], dropCapabilities: own.capabilities.drop ?? [] } : undefined,
    privileged: own?.privileged ?? false,
    namespaceOptions: namespaceOptions(spec),
    runAsUser: int64(runAs.uid),
    runAsGroup: int64(runAs.gid),
    readonlyRootfs: own?.readOnlyRootFilesystem ?? false,
    supplementalGroups: supplementalGroups(spec),
    noNewPrivs: own?.allowPrivilegeEscalation === false,
    seccomp: seccomp(own?.seccompProfile ?? spec.securityContext?.seccompProfile),
  });
}
