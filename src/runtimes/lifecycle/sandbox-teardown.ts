/**
 * StopPodSandbox, RemovePodSandbox and the rollback of a half-created sandbox. Every step is
 * idempotent: the kubelet calls Stop more than once, and recovery replays these after a crash.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { removeNetns } from '../../network/netns.js';
import { mountsUnder, unmount } from '../../util/mount.js';
import type { Lc } from './context.js';
import { removePodFiles } from './pod-files.js';
import { deleteTask, killTask, podShim, SIGKILL, within } from './shim-ops.js';
import type { SandboxRecord } from './types.js';
import { removeContainerLocked, stopContainerLocked } from './container-teardown.js';

const PAUSE_EXIT_WAIT_MS = 10_000;

/** Kill and delete the pause task and shut the pod's shim down (containers are gone by now). */
async function stopSandboxTask(lc: Lc, pod: SandboxRecord): Promise<void> {
  const shim = await podShim(lc, pod);
  if (shim) {
    await killTask(shim, pod.id, SIGKILL, true);
    await within(lc.exits.exited(pod.id), PAUSE_EXIT_WAIT_MS);
    await deleteTask(shim, pod.id);
    await shim.shutdown().catch(() => false);
  } else if (pod.shim) {
    // The shim is gone: let its binary clean up runc state and mounts, as containerd does.
    await lc.shims.cleanupDeadShim({ binary: pod.shim.binary, id: pod.id, bundle: pod.bundle, address: pod.shim.address }).catch(() => {});
  }
  for (const m of await mountsUnder(pod.bundle)) await unmount(m, `unmounting the sandbox rootfs of ${pod.id}`);
}

/**
 * CNI DEL, then the netns. A failing DEL keeps the netns (so a retry can reach the pod's
 * interfaces) unless `force` (RemovePodSandbox after a failed stop): then the CNI cache is
 * dropped with a logged error and the netns goes anyway.
 */
async function releaseNetwork(lc: Lc, pod: SandboxRecord, force = false): Promise<void> {
  if (!pod.hostNetwork) {
    try {
      await lc.cni.teardown({ podId: pod.id, netnsPath: pod.netnsPath, force });
    } catch (err) {
      if (!force) throw err;
      lc.log.error({ pod: pod.id, err }, 'CNI teardown failed; removing the namespace anyway');
    }
  }
  if (pod.netnsPath) await removeNetns(pod.netnsPath);
  pod.ip = '';
  pod.additionalIps = [];
}

export async function stopSandboxLocked(lc: Lc, pod: SandboxRecord): Promise<void> {
  for (const c of lc.containers.all().filter((c) => c.podId === pod.id)) {
    await lc.locks.run(`ctr:${c.id}`, () => stopContainerLocked(lc, c, 0));
  }
  await stopSandboxTask(lc, pod);
  await releaseNetwork(lc, pod);
  for (const m of await mountsUnder(pod.runtimeDir)) await unmount(m, `unmounting the pod /dev/shm of ${pod.id}`);
  if (pod.phase !== 'notready') {
    pod.phase = 'notready';
    await lc.pods.save(pod);
  }
  lc.log.info({ pod: pod.id }, 'pod sandbox stopped');
  lc.events.safeEmit('pod-stopped', { pod });
}

export async function removeSandboxLocked(lc: Lc, pod: SandboxRecord): Promise<void> {
  if (pod.phase !== 'removing') {
    try {
      await stopSandboxLocked(lc, pod);
    } catch (err) {
      lc.log.warn({ pod: pod.id, err: (err as Error).message }, 'stop during remove failed; forcing');
      await releaseNetwork(lc, pod, true);
    }
    pod.phase = 'removing';
    await lc.pods.save(pod);
  }
  for (const c of lc.containers.all().filter((c) => c.podId === pod.id)) {
    await lc.locks.run(`ctr:${c.id}`, () => removeContainerLocked(lc, c));
  }
  await removeSandboxFiles(lc, pod);
  await lc.pods.delete(pod.id);
  lc.podNames.release(pod.name, pod.id);
  lc.exits.forget(pod.id);
  lc.log.info({ pod: pod.id }, 'pod sandbox removed');
  lc.events.safeEmit('pod-removed', { pod });
}

async function removeSandboxFiles(lc: Lc, pod: SandboxRecord): Promise<void> {
  for (const m of await mountsUnder(pod.bundle)) await unmount(m, `unmounting under ${pod.bundle}`);
  await rm(pod.bundle, { recursive: true, force: true });
  await removePodFiles(pod.persistentDir, pod.runtimeDir);
  await rm(join(lc.layout.io, pod.id), { recursive: true, force: true });
}

/** Undo exactly what the journal of a half-created sandbox lists, newest first; drop the record. */
export async function rollbackSandbox(lc: Lc, pod: SandboxRecord): Promise<void> {
  const done = new Set(pod.journal);
  if (done.has('task') || done.has('shim')) await stopSandboxTask(lc, pod);
  if (done.has('netns') || done.has('network')) await releaseNetwork(lc, pod, true);
  await removeSandboxFiles(lc, pod);
  await lc.pods.delete(pod.id);
  lc.exits.forget(pod.id);
}
