/**
 * StartContainer: stdio fifos and the CRI log, then the task in the pod's shim (started with
 * the container's bundle, the shim answers with the pod's existing socket), then Start. A
 * failed start leaves the container EXITED with reason StartError, as containerd does.
 */
import { join } from 'node:path';
import { failedPrecondition } from '../../util/errors.js';
import type { Lc } from './context.js';
import { containerConfigOf, getContainer, nowNsString, overlayRootfs, requireReadyPod } from './common.js';
import { ContainerIo } from './container-io.js';
import { deleteTask, podShim } from './shim-ops.js';
import type { ContainerRecord } from './types.js';

/** Overlay lowerdirs of a container's rootfs, top first (older records: from its image). */
function hostLayers(lc: Lc, c: ContainerRecord): string[] {
  return c.layerChainIds?.length ? lc.images.snapshotPaths(c.layerChainIds) : lc.images.snapshotChain(c.image.id);
}

export async function startContainer(lc: Lc, id: string): Promise<ContainerRecord> {
  const c0 = getContainer(lc, id);
  return lc.locks.run(`ctr:${c0.id}`, async () => {
    const c = getContainer(lc, c0.id);
    if (c.phase !== 'created') throw failedPrecondition(`container ${c.id} is ${c.phase}, only a created container can be started`);
    const pod = requireReadyPod(lc, c.podId);
    const cfg = containerConfigOf(c);
    const backend = lc.handlers.get(pod.handler)!;
    let io: ContainerIo | undefined;
    let taskCreated = false;
    try {
      io = await ContainerIo.create(join(lc.layout.io, c.id), { stdin: cfg.stdin, tty: cfg.tty, logPath: c.logPath });
      const options = backend.shimOptions(lc.layout.runcRoot);
      // The pod's shim serves every container of the pod: containerd runs `<shim> start` per
      // container only to be told the same socket again, which costs a process start.
      const shim = await podShim(lc, pod);
      if (!shim) throw failedPrecondition(`the shim of pod ${pod.id} is not reachable`);
      await shim.task.create({
        id: c.id,
        bundle: c.bundle,
        // Guest pull: the image is pulled inside the VM, nothing is mounted on the host. Else the
        // snapshots recorded at CreateContainer (GC keeps them even if the image goes).
        rootfs: backend.imagePull === 'guest' ? [] : overlayRootfs(hostLayers(lc, c), c.rwDir),
        stdin: io.paths.stdin,
        stdout: io.paths.stdout,
        stderr: io.paths.stderr,
        terminal: io.paths.terminal,
        options,
      });
      taskCreated = true;
      lc.io.set(c.id, io);
      lc.exits.watch(c.id, shim.task);
      const startedAt = nowNsString();
      c.pid = (await shim.task.start(c.id)).pid;
      c.phase = 'running';
      c.startedAtNs = startedAt;
      await lc.containers.save(c);
      lc.log.info({ container: c.id, pod: pod.id, pid: c.pid }, 'container started');
      lc.events.safeEmit('container-started', { container: c, pod });
      return c;
    } catch (err) {
      c.phase = 'exited';
      c.exitCode = 128;
      c.reason = 'StartError';
      c.message = (err as Error).message;
      c.finishedAtNs = nowNsString();
      await lc.containers.save(c);
      if (taskCreated) await deleteTask(lc.shims.get(pod.shim!.address), c.id).catch(() => {});
      lc.io.delete(c.id);
      await io?.close();
      throw err;
    }
  });
}
