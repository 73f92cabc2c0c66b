/**
 * Host side of a pod's volumes, done by the CLI before RunPodSandbox (as the kubelet does):
 * hostPath type checks and creation, emptyDir directories (tmpfs for medium Memory) with
 * fsGroup ownership, subPath directories; and their removal with the pod.
 */
import { chmod, chown, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { failure } from './errors.js';
import { mount, mountsUnder, unmount } from '../util/mount.js';
import type { PodPlan } from './manifest/translate.js';
import type { VolumePrep } from './manifest/volumes.js';
import { podVolumesDir } from './manifest/volumes.js';

const KIND_CHECK: Record<string, [string, (s: import('node:fs').Stats) => boolean]> = {
  Directory: ['a directory', (s) => s.isDirectory()],
  File: ['a file', (s) => s.isFile()],
  Socket: ['a unix socket', (s) => s.isSocket()],
  CharDevice: ['a character device', (s) => s.isCharacterDevice()],
  BlockDevice: ['a block device', (s) => s.isBlockDevice()],
};

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

async function prepareHostPath(v: Extract<VolumePrep, { kind: 'hostPath' }>): Promise<void> {
  const where = `spec.volumes[${v.index}].hostPath (${v.name})`;
  const st = await statOrUndefined(v.path);
  if (v.type === 'DirectoryOrCreate') {
    if (!st) await mkdir(v.path, { recursive: true, mode: 0o755 });
    else if (!st.isDirectory()) throw failure(`${where}: ${v.path} exists but is not a directory`);
    return;
  }
  if (v.type === 'FileOrCreate') {
    if (!st) {
      try {
        await writeFile(v.path, '', { mode: 0o644, flag: 'wx' });
      } catch (err) {
        throw failure(`${where}: cannot create ${v.path}: ${(err as Error).message} (FileOrCreate does not create parent directories)`);
      }
    } else if (!st.isFile()) throw failure(`${where}: ${v.path} exists but is not a file`);
    return;
  }
  const check = KIND_CHECK[v.type];
  if (!check) return; // type "": no checks, as in Kubernetes
  if (!st) throw failure(`${where}: ${v.path} does not exist (type ${v.type}); create it, or use type ${v.type === 'File' ? 'FileOrCreate' : 'DirectoryOrCreate'}`);
  if (!check[1](st)) throw failure(`${where}: ${v.path} is not ${check[0]} (type ${v.type})`);
}

async function prepareEmptyDir(v: Extract<VolumePrep, { kind: 'emptyDir' }>, fsGroup: number | undefined): Promise<void> {
  await mkdir(v.path, { recursive: true, mode: 0o777 });
  if (v.memory) {
    const opts = ['nodev', 'nosuid', 'mode=0777'];
    if (v.sizeLimitBytes) opts.push(`size=${v.sizeLimitBytes}`);
    await mount('tmpfs', v.path, 'tmpfs', opts, `emptyDir ${v.name} (medium Memory)`);
  }
  // Like the kubelet: world-writable; with fsGroup, group-owned and setgid.
  if (fsGroup !== undefined) {
    await chown(v.path, -1, fsGroup);
    await chmod(v.path, 0o2777);
  } else {
    await chmod(v.path, 0o777);
  }
}

/** Create what the pod's volumes need on the host. */
export async function prepareVolumes(plan: PodPlan): Promise<void> {
  for (const v of plan.volumes) {
    if (v.kind === 'hostPath') await prepareHostPath(v);
    else await prepareEmptyDir(v, plan.fsGroup);
  }
  for (const c of [...plan.init, ...plan.containers]) {
    for (const d of c.subPathDirs) await mkdir(d, { recursive: true, mode: 0o755 });
  }
}

/** Remove a pod's emptyDir volumes (unmounting tmpfs ones). No-op when there are none. */
export async function removePodVolumes(berthRoot: string, podUid: string): Promise<void> {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(podUid)) return;
  const dir = podVolumesDir(berthRoot, podUid);
  if (!(await statOrUndefined(dir))) return;
  for (const m of await mountsUnder(dir)) await unmount(m, `emptyDir volume of pod ${podUid}`);
  await rm(dir, { recursive: true, force: true });
}
