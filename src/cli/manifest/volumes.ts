/**
 * hostPath and emptyDir volumes → what to prepare on the host and the CRI mounts of each
 * container (pure). emptyDirs live under `<berthd root>/volumes/<pod uid>/<name>` (the
 * kubelet's pods/<uid>/volumes/kubernetes.io~empty-dir/<name>), removed by `berth rm`.
 */
import { posix } from 'node:path';
import { MountPropagation, type Mount } from '../../gen/runtime/v1/api.js';
import { intValue, parseQuantity } from './quantity.js';
import type { Container, InitContainer, PodSpec } from './schema.js';

export type HostPathType = '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';

export type VolumePrep =
  | { name: string; index: number; kind: 'hostPath'; path: string; type: HostPathType }
  | { name: string; index: number; kind: 'emptyDir'; path: string; memory: boolean; sizeLimitBytes?: bigint };

/** The directory holding a pod's emptyDir volumes. */
export function podVolumesDir(berthRoot: string, podUid: string): string {
  return posix.join(berthRoot, 'volumes', podUid);
}

export function planVolumes(spec: PodSpec, volumesDir: string): Map<string, VolumePrep> {
  const out = new Map<string, VolumePrep>();
  spec.volumes?.forEach((v, index) => {
    if (v.hostPath) out.set(v.name, { name: v.name, index, kind: 'hostPath', path: posix.normalize(v.hostPath.path), type: v.hostPath.type ?? '' });
    else if (v.emptyDir) {
      const size = v.emptyDir.sizeLimit !== undefined ? parseQuantity(v.emptyDir.sizeLimit) : undefined;
      out.set(v.name, {
        name: v.name,
        index,
        kind: 'emptyDir',
        path: posix.join(volumesDir, v.name),
        memory: v.emptyDir.medium === 'Memory',
        sizeLimitBytes: size ? intValue(size) : undefined,
      });
    }
  });
  return out;
}

const PROPAGATION = {
  None: MountPropagation.PROPAGATION_PRIVATE,
  HostToContainer: MountPropagation.PROPAGATION_HOST_TO_CONTAINER,
  Bidirectional: MountPropagation.PROPAGATION_BIDIRECTIONAL,
} as const;

/** Host directories a container's subPath mounts need (created inside their volume). */
export function subPathDirs(c: Container | InitContainer, volumes: Map<string, VolumePrep>): string[] {
  return (c.volumeMounts ?? []).filter((m) => m.subPath).map((m) => posix.join(volumes.get(m.name)!.path, posix.normalize(m.subPath!)));
}

export function containerMounts(c: Container | InitContainer, volumes: Map<string, VolumePrep>): Mount[] {
  return (c.volumeMounts ?? []).map((m) => {
    const v = volumes.get(m.name)!;
    return {
      containerPath: m.mountPath,
      hostPath: m.subPath ? posix.join(v.path, posix.normalize(m.subPath)) : v.path,
      readonly: m.readOnly ?? false,
      selinuxRelabel: false,
      propagation: PROPAGATION[m.mountPropagation ?? 'None'],
      uidMappings: [],
      gidMappings: [],
      recursiveReadOnly: false,
      image: undefined,
      imageSubPath: '',
      mountOptions: [],
    };
  });
}
