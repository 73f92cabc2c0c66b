/**
 * StopContainer (stop signal, grace period, then SIGKILL), RemoveContainer, and recording
 * exits. Callers hold the container's lock; exit recording does not take it (StopContainer
 * waits for the exit while holding it).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { constants } from 'node:os';
import { mountsUnder, unmount } from '../../util/mount.js';
import type { Lc } from './context.js';
import { nowNsString } from './common.js';
import { deleteTask, killTask, podShim, SIGKILL, SIGTERM, within } from './shim-ops.js';
import type { ContainerRecord } from './types.js';

const KILL_WAIT_MS = 30_000;
const IO_DRAIN_MS = 2_000;
/** How long an exit by a SIGKILL berthd did not send waits for the shim's OOM event. */
const OOM_EVENT_GRACE_MS = 1_000;

/** "SIGTERM", "TERM", "15" → 15; unknown → SIGTERM. */
export function signalNumber(name: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  const n = name.toUpperCase().startsWith('SIG') ? name.toUpperCase() : `SIG${name.toUpperCase()}`;
  return (constants.signals as Record<string, number>)[n] ?? SIGTERM;
}

export function exitReason(c: Pick<ContainerRecord, 'oomKilled' | 'exitCode'>): string {
  if (c.oomKilled) return 'OOMKilled';
  return c.exitCode === 0 ? 'Completed' : 'Error';
}

/** The kernel OOM-killed a process of `c`; the event may come after the exit was recorded. */
export async function recordOom(lc: Pick<Lc, 'containers'>, c: ContainerRecord): Promise<void> {
  if (c.oomKilled) return;
  c.oomKilled = true;
  if (c.phase === 'exited') c.reason = exitReason(c);
  await lc.containers.save(c);
}

/** Record the exit of a container's init: state, reason, then reap the task and drain its logs. */
export async function recordContainerExit(lc: Lc, c: ContainerRecord, exitStatus: number, exitedAtNs: bigint): Promise<void> {
  if (c.phase !== 'running') return;
  if (!c.oomKilled && lc.exits.mayAwaitOom(c.id, exitStatus)) {
    await within(lc.exits.oomReported(c.id), OOM_EVENT_GRACE_MS);
    if (c.phase !== 'running') return; // recorded meanwhile (Wait and the exit event both report it)
  }
  c.phase = 'exited';
  c.exitCode = exitStatus;
  const finished = exitedAtNs > 0n ? exitedAtNs : BigInt(nowNsString());
  // A process that exits at once may beat our own start timestamp: keep finished >= started.
  c.finishedAtNs = (finished > BigInt(c.startedAtNs) ? finished : BigInt(c.startedAtNs)).toString();
  c.reason = exitReason(c);
  await lc.containers.save(c);
  lc.log.info({ container: c.id, exitCode: exitStatus, reason: c.reason }, 'container exited');
  lc.events.safeEmit('container-exited', { container: c });
  const pod = lc.pods.get(c.podId);
  if (pod) await deleteTask(lc.shims.get(pod.shim?.address ?? ''), c.id).catch((err: unknown) => lc.log.warn({ container: c.id, err }, 'task delete after exit failed'));
  const io = lc.io.get(c.id);
  if (io) {
    await within(io.finished(), IO_DRAIN_MS);
    await io.close();
    lc.io.delete(c.id);
  }
}

/** Mark a container whose shim vanished as exited, with the reason. */
export async function markLost(lc: Lc, c: ContainerRecord, why: string): Promise<void> {
  if (c.phase !== 'running') return;
  c.phase = 'exited';
  c.exitCode = 255;
  c.reason = 'Error';
  c.message = why;
  c.finishedAtNs = nowNsString();
  await lc.containers.save(c);
  const io = lc.io.get(c.id);
  await io?.close();
  lc.io.delete(c.id);
  lc.exits.forget(c.id);
}

export async function stopContainerLocked(lc: Lc, c: ContainerRecord, timeoutSec: number): Promise<void> {
  if (c.phase !== 'running') return;
  const pod = lc.pods.get(c.podId);
  const shim = pod ? await podShim(lc, pod) : undefined;
  if (!shim) {
    await markLost(lc, c, `the shim of pod ${c.podId} is gone`);
    return;
  }
  const exited = lc.exits.exited(c.id);
  lc.exits.watch(c.id, shim.task);
  if (timeoutSec > 0) {
    await killTask(shim, c.id, signalNumber(c.stopSignal));
    if (await within(exited, timeoutSec * 1000)) return;
    lc.log.info({ container: c.id, timeoutSec }, 'stop signal timed out; sending SIGKILL');
  }
  lc.exits.killing(c.id);
  await killTask(shim, c.id, SIGKILL, true);
  if (!(await within(exited, KILL_WAIT_MS))) {
    // The task ignored SIGKILL for 30 s (uninterruptible sleep?): ask the shim for its state.
    const st = await shim.task.state(c.id).catch(() => undefined);
    if (!st || st.status === 'stopped') await lc.exits.exit(c.id, st?.exitStatus ?? 137, st?.exitedAtNs ?? 0n);
    else throw new Error(`container ${c.id} did not exit after SIGKILL within ${KILL_WAIT_MS} ms`);
  }
}

export async function removeContainerLocked(lc: Lc, c: ContainerRecord): Promise<void> {
  if (!lc.containers.get(c.id)) return;
  if (c.phase === 'running') await stopContainerLocked(lc, c, 0);
  if (c.phase !== 'removing') {
    c.phase = 'removing';
    await lc.containers.save(c);
  }
  const pod = lc.pods.get(c.podId);
  await deleteTask(pod ? lc.shims.get(pod.shim?.address ?? '') : undefined, c.id).catch(() => {});
  const io = lc.io.get(c.id);
  await io?.close();
  lc.io.delete(c.id);
  for (const m of await mountsUnder(c.bundle)) await unmount(m, `unmounting the rootfs of ${c.id}`);
  await rm(c.bundle, { recursive: true, force: true });
  await rm(join(lc.layout.io, c.id), { recursive: true, force: true });
  await rm(join(lc.layout.containersRoot, c.id), { recursive: true, force: true });
  await lc.containers.delete(c.id);
  lc.containerNames.release(c.name, c.id);
  lc.exits.forget(c.id);
  lc.log.info({ container: c.id }, 'container removed');
  lc.events.safeEmit('container-removed', { container: c });
}
