/**
 * A runtime backend is what differs between runtime handlers (ARCHITECTURE.md, "Why shim v2
 * for every backend"): which shim binary and options, how specs and annotations are
 * adjusted, where images are unpacked, and what the host must provide. Everything else —
 * shim start, task API, state — is one code path.
 */
import type { ContainerConfig, PodSandboxConfig } from '../gen/runtime/v1/api.js';
import type { Any } from '../gen/google/protobuf/any.js';
import type { HandlerConfig } from '../daemon/config.js';
import type { Spec } from './oci/spec-types.js';

export type BackendType = HandlerConfig['type'];

/** Result of checking the host for what a handler needs. */
export interface HostSupport {
  ok: boolean;
  /** Each missing piece, said precisely (binary name and where it was looked for, device, kernel flag). */
  missing: string[];
  /** Resolved binaries and files, and facts worth showing (tee, hypervisor), for the verbose status. */
  found: Record<string, string>;
  checkedAt: number;
}

/** Host facts some backends check against (detected once by the daemon). */
export interface HostCgroupInfo {
  mode: 'v1' | 'hybrid' | 'v2';
  /** Controllers on the cgroup2 hierarchy (in hybrid mode they make crun refuse to run). */
  unifiedControllers: string[];
}

/** The image a container runs, as the store knows it (for guest pull: what the guest is told to pull). */
export interface SpecImage {
  /** As the CRI request named it (the kubelet usually sends the image id). */
  name: string;
  id: string;
  repoDigests: string[];
  repoTags: string[];
  /** ImageSpec.user_specified_image, when the kubelet sent it. */
  userSpecified?: string;
}

export interface SpecContext {
  podId: string;
  containerId: string;
  kind: 'sandbox' | 'container';
  podAnnotations: Record<string, string>;
  containerAnnotations: Record<string, string>;
  /** The pod's CRI config (sizing, privileged). */
  pod?: PodSandboxConfig;
  /** The container's CRI config (kind "container"). */
  container?: ContainerConfig;
  /** The container's image (kind "container"). */
  image?: SpecImage;
}

export interface RuntimeBackend {
  readonly name: string;
  readonly type: BackendType;
  readonly config: HandlerConfig;
  /** Shim binary as configured (resolved through PATH when started). */
  readonly shimBinary: string;
  /** Options Any for the shim's start and Create (runc: containerd.runc.v1.Options); `runtimeRoot` is berth's runc state dir. */
  shimOptions(runtimeRoot: string): Any | undefined;
  /** Check the host (cached by the registry). */
  checkHost(): Promise<HostSupport>;
  /**
   * Adjust a generated spec for this backend (annotations pass-through, VM sizing, initdata …).
   * Throws a BerthError (INVALID_ARGUMENT) for pod input it refuses, e.g. malformed initdata.
   */
  adjustSpec(spec: Spec, ctx: SpecContext): void | Promise<void>;
  /**
   * Are image layers unpacked on the host (runc, kata) or pulled in the guest (coco)? With
   * "guest" the shim gets no rootfs mounts, the spec carries the image reference, and the
   * image's /etc/passwd is not read on the host (numeric users only).
   */
  readonly imagePull: 'host' | 'guest';
  /** Pods run in host namespaces ("container") or in a VM. */
  readonly isolation: 'container' | 'vm';
  /** Where container stats come from: host cgroups, or the shim's Task.Stats (the guest's cgroups). */
  readonly statsSource: 'cgroup' | 'shim';
  /** Which cgroup QoS knobs apply to: each container's, or only the pod's sandbox cgroup (a VM's threads live there). */
  readonly qosScope: 'container' | 'sandbox';
  /** A CoCo handler whose guest runs in a hardware TEE (for runtime-class policy). */
  readonly confidential: boolean;
  /** What to show about the handler in verbose status (runtime binary, config, tee …). */
  describe(): Record<string, string>;
}

/** Does `key` match one of the allowlist patterns (exact, or prefix with a trailing "*")? */
export function annotationAllowed(key: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('*') ? key.startsWith(p.slice(0, -1)) : key === p));
}

/** Copy allowlisted annotations into the spec, as containerd's pod_annotations does. */
export function passThroughAnnotations(spec: Spec, ctx: SpecContext, cfg: HandlerConfig): void {
  spec.annotations ??= {};
  for (const [k, v] of Object.entries(ctx.podAnnotations)) if (annotationAllowed(k, cfg.podAnnotations)) spec.annotations[k] = v;
  if (ctx.kind === 'container') {
    for (const [k, v] of Object.entries(ctx.containerAnnotations)) {
      if (annotationAllowed(k, cfg.containerAnnotations)) spec.annotations[k] = v;
    }
  }
}

/**
 * `privilegedWithoutHostDevices`: a privileged container keeps only the devices its CRI
 * config asked for (a VM runtime would otherwise hand every host device to the guest), and
 * the devices cgroup goes back to deny-all plus those devices, as containerd does.
 */
export function dropHostDevices(spec: Spec, container: ContainerConfig | undefined): void {
  const linux = spec.linux;
  if (!linux) return;
  const wanted = (container?.devices ?? []).map((d) => ({ path: d.containerPath || d.hostPath, access: d.permissions || 'rwm' }));
  const accessFor = (path: string) => wanted.find((w) => path === w.path || path.startsWith(`${w.path}/`))?.access;
  const kept = (linux.devices ?? []).filter((d) => accessFor(d.path) !== undefined);
  if (kept.length) linux.devices = kept;
  else delete linux.devices;
  if (linux.resources) {
    linux.resources.devices = [
      { allow: false, access: 'rwm' },
      ...kept.map((d) => ({ allow: true, type: d.type, major: d.major, minor: d.minor, access: accessFor(d.path)! })),
    ];
  }
}

/** Is the container (or, for the sandbox, the pod) privileged? */
export function isPrivileged(ctx: SpecContext): boolean {
  return ctx.kind === 'container'
    ? (ctx.container?.linux?.securityContext?.privileged ?? false)
    : (ctx.pod?.linux?.securityContext?.privileged ?? false);
}
