/** Shim calls shared by pods and containers, tolerant of objects that are already gone. */
import { BerthError, Code } from '../../util/errors.js';
import type { Shim } from '../shim/index.js';
import type { Lc } from './context.js';
import type { SandboxRecord } from './types.js';
import { markLost } from './container-teardown.js';

export const SIGKILL = 9;
export const SIGTERM = 15;

export function isGone(err: unknown): boolean {
  return err instanceof BerthError && (err.code === Code.NOT_FOUND || err.code === Code.UNAVAILABLE);
}

const watched = new WeakSet<Shim>();

/**
 * When a pod's shim dies under us, its pod is no longer ready and its running containers
 * are lost: record that with the reason (the kubelet will recreate them).
 */
export function watchShim(lc: Lc, podId: string, shim: Shim): Shim {
  if (watched.has(shim)) return shim;
  watched.add(shim);
  shim.once('close', (ev) => {
    if (!ev.unexpected) return;
    const why = `the shim of pod ${podId} exited unexpectedly${ev.reason ? ` (${ev.reason})` : ''}`;
    lc.log.warn({ pod: podId }, why);
    void (async () => {
      for (const c of lc.containers.all().filter((c) => c.podId === podId && c.phase === 'running')) {
        await lc.locks.run(`ctr:${c.id}`, () => markLost(lc, c, why)).catch(() => {});
      }
      const pod = lc.pods.get(podId);
      if (pod && pod.phase === 'ready') {
        pod.phase = 'notready';
        pod.stoppedReason = why;
        await lc.pods.save(pod).catch(() => {});
      }
    })();
  });
  return shim;
}

/** The connected shim of a pod, reconnecting if needed; undefined when it is gone. */
export async function podShim(lc: Lc, pod: SandboxRecord): Promise<Shim | undefined> {
  if (!pod.shim) return undefined;
  const live = lc.shims.get(pod.shim.address);
  if (live) return live;
  try {
    const shim = await lc.shims.connect({ id: pod.id, address: pod.shim.address, bundle: pod.shim.bundle, binary: pod.shim.binary });
    return watchShim(lc, pod.id, shim);
  } catch {
    return undefined;
  }
}

/** Delete a task's state in the shim (reaps it, unmounts its rootfs); gone is fine. */
export async function deleteTask(shim: Shim | undefined, id: string): Promise<void> {
  if (!shim) return;
  try {
    await shim.task.delete(id);
  } catch (err) {
    if (!isGone(err) && !/not found|does not exist/i.test((err as Error).message)) throw err;
  }
}

/** Send a signal to a task's init (all its processes with `all`); gone or already stopped is fine. */
export async function killTask(shim: Shim | undefined, id: string, signal: number, all = false): Promise<void> {
  if (!shim) return;
  try {
    await shim.task.kill(id, signal, { all });
  } catch (err) {
    if (isGone(err) || /not found|process already finished|not running|does not exist/i.test((err as Error).message)) return;
    throw err;
  }
}

/** Wait for `p` up to `ms`; true if it settled in time. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (t = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(t);
  }
}
