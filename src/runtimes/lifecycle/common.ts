/** Small shared pieces of the lifecycle: ids, names, record access, rootfs mounts, image user dbs. */
import { randomBytes } from 'node:crypto';
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerConfig, PodSandboxConfig } from '../../gen/runtime/v1/api.js';
import type { Mount } from '../../gen/containerd/types/mount.js';
import { failedPrecondition, invalidArgument, notFound } from '../../util/errors.js';
import { mount, unmount } from '../../util/mount.js';
import { loadUserDb } from '../oci/opts/user.js';
import { cgroupsPathFor } from '../oci/index.js';
import type { UserDb } from '../oci/user-db.js';
import type { Lc } from './context.js';
import type { ContainerRecord, SandboxRecord } from './types.js';

export const newId = (): string => randomBytes(32).toString('hex');

/**
 * Pods without a cgroup_parent (crictl, critest) still get an absolute cgroup of their own:
 * a relative path would put containers under the shim's cgroups, which differ per v1
 * controller and make accounting unreadable.
 */
export const DEFAULT_CGROUP_PARENT = { cgroupfs: '/berth', systemd: 'berth.slice' } as const;

/**
 * Picks a cgroup parent for a pod whose config has none (undefined: the default). The QoS
 * engine registers one that puts BE pods under a parent it keeps idle at the top level.
 */
export type CgroupParentChooser = (pod: PodSandboxConfig, handler: string) => Promise<string | undefined>;

/** linux.cgroupsPath for a sandbox or container `id`: the config's parent, else `chosen`, else the default. */
export function cgroupsPathOf(lc: Lc, pod: PodSandboxConfig, id: string, chosen?: string): string {
  const parent = pod.linux?.cgroupParent || chosen || DEFAULT_CGROUP_PARENT[lc.config.cgroupDriver];
  return cgroupsPathFor(lc.config.cgroupDriver, parent, id)!;
}

export function nowNsString(): string {
  return (BigInt(Date.now()) * 1_000_000n).toString();
}

/** <name>_<namespace>_<uid>_<attempt>, the name containerd reserves for a sandbox. */
export function sandboxName(cfg: PodSandboxConfig): string {
  const m = cfg.metadata;
  if (!m || !m.name) throw invalidArgument('RunPodSandbox: config.metadata.name is required');
  if (!m.namespace) throw invalidArgument('RunPodSandbox: config.metadata.namespace is required');
  if (!m.uid) throw invalidArgument('RunPodSandbox: config.metadata.uid is required');
  return [m.name, m.namespace, m.uid, m.attempt].join('_');
}

export function containerName(cfg: ContainerConfig, pod: PodSandboxConfig): string {
  const m = cfg.metadata;
  if (!m || !m.name) throw invalidArgument('CreateContainer: config.metadata.name is required');
  const p = pod.metadata!;
  return [m.name, p.name, p.namespace, p.uid, m.attempt].join('_');
}

export const podConfigOf = (rec: SandboxRecord): PodSandboxConfig => PodSandboxConfig.fromJSON(rec.config);
export const containerConfigOf = (rec: ContainerRecord): ContainerConfig => ContainerConfig.fromJSON(rec.config);

/** Find a sandbox by id or unique id prefix. */
export function findPod(lc: Lc, id: string): SandboxRecord | undefined {
  if (!id) return undefined;
  const m = lc.pods.matchPrefix(id);
  if (m.length > 1) throw invalidArgument(`pod sandbox id prefix ${JSON.stringify(id)} is ambiguous (${m.length} matches)`);
  return m[0];
}

export function getPod(lc: Lc, id: string): SandboxRecord {
  if (!id) throw invalidArgument('pod_sandbox_id is required');
  const p = findPod(lc, id);
  if (!p) throw notFound(`pod sandbox ${JSON.stringify(id)} not found`);
  return p;
}

export function findContainer(lc: Lc, id: string): ContainerRecord | undefined {
  if (!id) return undefined;
  const m = lc.containers.matchPrefix(id);
  if (m.length > 1) throw invalidArgument(`container id prefix ${JSON.stringify(id)} is ambiguous (${m.length} matches)`);
  return m[0];
}

export function getContainer(lc: Lc, id: string): ContainerRecord {
  if (!id) throw invalidArgument('container_id is required');
  const c = findContainer(lc, id);
  if (!c) throw notFound(`container ${JSON.stringify(id)} not found`);
  return c;
}

export function requireReadyPod(lc: Lc, id: string): SandboxRecord {
  const p = getPod(lc, id);
  if (p.phase !== 'ready') throw failedPrecondition(`pod sandbox ${p.id} is not ready (${p.phase}${p.stoppedReason ? `: ${p.stoppedReason}` : ''})`);
  return p;
}

/** The overlay mount the shim puts at <bundle>/rootfs: image layers + a writable upper. */
export function overlayRootfs(lowerDirs: string[], rwDir: string): Mount[] {
  return [
    {
      type: 'overlay',
      source: 'overlay',
      target: '',
      options: [`lowerdir=${lowerDirs.join(':')}`, `upperdir=${join(rwDir, 'upper')}`, `workdir=${join(rwDir, 'work')}`, 'index=off'],
    },
  ];
}

export async function makeRwDirs(rwDir: string): Promise<void> {
  await mkdir(join(rwDir, 'upper'), { recursive: true, mode: 0o755 });
  await mkdir(join(rwDir, 'work'), { recursive: true, mode: 0o700 });
}

/**
 * The image's /etc/passwd and /etc/group, parsed once per image (layers never change).
 * Multi-layer images are read through a short-lived read-only overlay of their layers.
 */
export function imageUserDb(lc: Lc, imageId: string): Promise<UserDb> {
  let p = lc.userDbs.get(imageId);
  if (!p) {
    p = readImageUserDb(lc, imageId);
    lc.userDbs.set(imageId, p);
    p.catch(() => lc.userDbs.delete(imageId));
  }
  return p;
}

async function readImageUserDb(lc: Lc, imageId: string): Promise<UserDb> {
  const layers = lc.images.snapshotChain(imageId);
  if (layers.length === 1) return loadUserDb(layers[0]!);
  const view = join(lc.config.state, 'views', imageId.replace(/^sha256:/, '').slice(0, 32));
  await mkdir(view, { recursive: true });
  await mount('overlay', view, 'overlay', ['ro', `lowerdir=${layers.join(':')}`], `reading /etc/passwd of image ${imageId}`);
  try {
    return await loadUserDb(view);
  } finally {
    await unmount(view, 'unmounting an image view');
    await rmdir(view).catch(() => {});
  }
}
