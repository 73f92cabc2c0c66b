/**
 * What berth persists per pod sandbox and per container (JSON under <root>/pods and
 * <root>/containers). CRI configs are kept as protobuf JSON (bigints as strings). `journal`
 * lists, in order, every host resource created for the object, so a crash mid-creation is
 * rolled back exactly (recovery.ts) instead of guessed.
 */
import type { PodFiles } from '../oci/inputs.js';

export type SandboxPhase = 'creating' | 'ready' | 'notready' | 'removing';
export type ContainerPhase = 'creating' | 'created' | 'running' | 'exited' | 'removing';

/** Host resources, named for the journal. */
export type Resource = 'podfiles' | 'netns' | 'network' | 'bundle' | 'shim' | 'task' | 'rwlayer' | 'io' | 'cgroup';

export interface ShimRef {
  address: string;
  binary: string;
  /** Bundle the shim was started in (the sandbox's). */
  bundle: string;
  pid: number;
}

export interface SandboxRecord {
  id: string;
  /** Reserved name: <name>_<namespace>_<uid>_<attempt>. */
  name: string;
  phase: SandboxPhase;
  createdAtNs: string;
  /** PodSandboxConfig as protobuf JSON. */
  config: unknown;
  handler: string;
  hostNetwork: boolean;
  netnsPath?: string;
  podFiles: PodFiles;
  persistentDir: string;
  runtimeDir: string;
  bundle: string;
  cgroupsPath: string;
  /**
   * The cgroup parent berth chose because the pod config had none (e.g. the BE parent the QoS
   * engine keeps idle); its containers go there too. Absent: the config's, or the default.
   */
  chosenCgroupParent?: string;
  image: { id: string; name: string };
  shim?: ShimRef;
  pid: number;
  ip: string;
  additionalIps: string[];
  journal: Resource[];
  /** Why the sandbox stopped on its own (shim gone, pause exited). */
  stoppedReason?: string;
}

export interface ContainerRecord {
  id: string;
  podId: string;
  /** Reserved name: <container>_<pod>_<namespace>_<uid>_<attempt>. */
  name: string;
  phase: ContainerPhase;
  createdAtNs: string;
  startedAtNs: string;
  finishedAtNs: string;
  exitCode: number;
  reason: string;
  message: string;
  pid: number;
  /** ContainerConfig as protobuf JSON. */
  config: unknown;
  /** The image as asked for, its id, and the ref reported as image_ref (repo digest or id). */
  image: { name: string; id: string; ref: string };
  /** Absolute log path ("" when the kubelet asked for none). */
  logPath: string;
  bundle: string;
  /** Writable layer: <root>/containers/<id>/rw/{upper,work}. */
  rwDir: string;
  /** linux.cgroupsPath given to the runtime. */
  cgroupsPath: string;
  /** Chain ids of the image layers the rootfs uses (kept alive against image GC). */
  layerChainIds: string[];
  stopSignal: string;
  /** Current LinuxContainerResources as protobuf JSON (after UpdateContainerResources). */
  resources?: unknown;
  oomKilled: boolean;
  /** The process user from the spec (for ContainerStatus.user). */
  user: { uid: number; gid: number; additionalGids: number[] };
  journal: Resource[];
}
