import type { ContainerConfig, PodSandboxConfig } from '../../gen/runtime/v1/api.js';
import type { LinuxDevice } from './spec-types.js';
import type { UserDb } from './user-db.js';

/** The part of an OCI image config (`config.config`) that shapes a container's process. */
export interface ImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  /** `name`, `uid`, `name:group`, `uid:gid`, `uid:group` or `name:gid`. */
  user?: string;
  stopSignal?: string;
  labels?: Record<string, string>;
}

export type CgroupDriver = 'cgroupfs' | 'systemd';

/**
 * Host paths of the files a pod owns and every one of its containers sees. Absent entries
 * are not mounted (a VM runtime may own them inside the guest).
 */
export interface PodFiles {
  hosts?: string;
  resolvConf?: string;
  hostname?: string;
  /** The per-pod /dev/shm directory (a tmpfs mounted by the caller). Ignored with hostIPC. */
  shm?: string;
}

/**
 * Facts about the node and about berthd itself that change the spec. Detected once at
 * start (see host-facts.ts for the non-cgroup ones; the cgroup ones come from cgroups/).
 */
export interface HostFacts {
  /** AppArmor is enabled in the kernel: only then is `process.apparmorProfile` written. */
  apparmorEnabled: boolean;
  /**
   * The profile RuntimeDefault maps to (berth's, loaded at start); undefined when it could not
   * be loaded, and RuntimeDefault then runs without AppArmor.
   */
  apparmorDefaultProfile?: string;
  /** The runtime accepts the `rro` mount option (runc >= 1.2 on kernel >= 5.12). */
  recursiveReadOnlyMounts: boolean;
  /**
   * berthd's own oom_score_adj. Without CAP_SYS_RESOURCE a process may not go lower, so
   * every requested value is clamped up to this one.
   */
  oomScoreAdj: number;
  /** berthd's effective capabilities ("CAP_…"): what a privileged container or "ALL" gets. */
  capabilities: string[];
  /** /sys/fs/cgroup is cgroup v2 (unified): non-privileged containers get a cgroup namespace. */
  cgroupV2: boolean;
  /** The memory controller accounts swap (memsw / memory.swap.max). */
  swapAccounting: boolean;
  /** The hugetlb controller exists; hugepage limits are dropped (with a log line) otherwise. */
  hugetlb: boolean;
  /** The node's hostname: HOSTNAME of containers in pods that set none (host network). */
  hostname: string;
  /** CPU architecture (Node's `process.arch` spelling): picks the seccomp architectures. */
  arch: string;
}

/**
 * The I/O a spec option may need, injected so the options stay testable without a host.
 * host-probes.ts has the real implementations.
 */
export interface HostProbes {
  /**
   * The device nodes at `hostPath` (one node, or every node under a directory), with their
   * path rewritten to live under `containerPath` (kept when empty). Throws for a path that
   * is not a device node.
   */
  lookupDevices(hostPath: string, containerPath: string): Promise<LinuxDevice[]>;
  /** Every device node under the host's /dev (for privileged containers). */
  hostDevices(): Promise<LinuxDevice[]>;
  /**
   * The propagation of the mount that holds `path`: "shared" if it has a shared peer group,
   * "slave" if it only receives, "private" otherwise.
   */
  mountPropagation(path: string): Promise<'shared' | 'slave' | 'private'>;
  /** Make a bind-mount source usable: create a missing directory, resolve symlinks. */
  prepareMountSource(hostPath: string): Promise<string>;
  /** Read a whole file (Localhost seccomp profiles). */
  readFile(path: string): Promise<string>;
}

/** Options that containerd keeps in its runtime config; berth takes them per call. */
export interface RuntimeOptions {
  /** Annotation patterns (`*`, `?` globs) copied from the pod config into the spec. */
  podAnnotations?: string[];
  /** Annotation patterns copied from the container config into the spec. */
  containerAnnotations?: string[];
  /**
   * Seccomp profile used when the CRI request names none (containerd's
   * `unset_seccomp_profile`): "", "runtime/default", "unconfined" or "localhost/<path>".
   * Empty (the default) means unconfined, as containerd and the kubelet expect.
   */
  unsetSeccompProfile?: string;
}

export interface SandboxSpecInput {
  id: string;
  config: PodSandboxConfig;
  /** Config of the pause image and the name it was asked for by. */
  image: ImageConfig;
  imageName: string;
  /** Absolute path of the pause image's rootfs (user lookup reads /etc/passwd there). */
  rootfs: string;
  /** `root.path` in the spec when it differs from `rootfs` (e.g. "rootfs", relative to a shim bundle). */
  rootPath?: string;
  /** The image's parsed /etc/passwd and /etc/group (cached per image by the caller); read from `rootfs` when absent. */
  userDb?: () => Promise<UserDb>;
  /** The pod's network namespace (bind mount under berth's state dir); unused with hostNetwork. */
  netnsPath?: string;
  podFiles: PodFiles;
  cgroupDriver: CgroupDriver;
  /** A cgroups path already resolved by the caller; computed from the pod's cgroup parent when absent. */
  cgroupsPath?: string;
  runtimeHandler: string;
  host: HostFacts;
  runtime?: RuntimeOptions & {
    /** Add net.ipv4.ip_unprivileged_port_start=0 unless the pod sets it (not with hostNetwork). */
    enableUnprivilegedPorts?: boolean;
    /** Add net.ipv4.ping_group_range="0 2147483647" unless the pod sets it (not with hostNetwork). */
    enableUnprivilegedIcmp?: boolean;
  };
}

export interface ContainerSpecInput {
  id: string;
  sandboxId: string;
  config: ContainerConfig;
  sandboxConfig: PodSandboxConfig;
  image: ImageConfig;
  /** The image as the user named it (annotation io.kubernetes.cri.image-name). */
  imageName: string;
  /** Absolute path of the container's rootfs, already mounted by the caller. */
  rootfs: string;
  /** `root.path` in the spec when it differs from `rootfs` (e.g. "rootfs", relative to a shim bundle). */
  rootPath?: string;
  /** The image's parsed /etc/passwd and /etc/group (cached per image by the caller); read from `rootfs` when absent. */
  userDb?: () => Promise<UserDb>;
  /** Pid of the sandbox (pause) process: the container joins its net, ipc, uts (and pid) namespaces. */
  sandboxPid: number;
  /** Pid of the target container's init for NamespaceMode TARGET. */
  targetPid?: number;
  podFiles: PodFiles;
  cgroupDriver: CgroupDriver;
  /** A cgroups path already resolved by the caller; computed from the pod's cgroup parent when absent. */
  cgroupsPath?: string;
  host: HostFacts;
  runtime?: RuntimeOptions;
}
