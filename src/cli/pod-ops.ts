/**
 * Pod operations several commands share: stop (containers first, with the pod's grace
 * period, as the kubelet does), remove (with its emptyDir volumes), wait for a container to
 * exit, and the last lines of a container's log.
 */
import { open, rm } from 'node:fs/promises';
import { ContainerState, type ContainerStatus, type PodSandbox } from '../gen/runtime/v1/api.js';
import type { CliContext } from './context.js';
import { removePodVolumes } from './host-volumes.js';
import { CREATED_BY, POD_TERMINATION_GRACE_PERIOD, POD_UID } from './labels.js';
import { POD_LOG_ROOT } from './manifest/translate.js';
import { parseCriLine } from './logs/cri-format.js';
import { podContainers } from './resolve.js';

const STOP_DEADLINE_SLACK_MS = 30_000;

/** Stop every running container of the pod (grace period from its annotation), then the sandbox. */
export async function stopPod(ctx: CliContext, pod: PodSandbox, timeoutSeconds?: number): Promise<void> {
  const containers = await podContainers(ctx, pod.id);
  await Promise.all(
    containers
      .filter((c) => c.state === ContainerState.CONTAINER_RUNNING)
      .map((c) => {
        const grace = timeoutSeconds ?? Number(c.annotations[POD_TERMINATION_GRACE_PERIOD] ?? 30);
        return ctx.runtime.stopContainer({ containerId: c.id, timeout: BigInt(grace) }, { deadlineMs: grace * 1000 + STOP_DEADLINE_SLACK_MS });
      }),
  );
  await ctx.runtime.stopPodSandbox({ podSandboxId: pod.id }, { deadlineMs: 120_000 });
}

/** The log directory `berth run` gave a pod (the kubelet's layout), if it made the pod. */
export function runLogDirectory(pod: PodSandbox): string | undefined {
  const m = pod.metadata;
  if (pod.annotations[CREATED_BY] !== 'berth-run' || !m) return undefined;
  const dir = `${m.namespace}_${m.name}_${m.uid}`;
  return /^[a-z0-9][-a-z0-9.]*_[a-z0-9][-a-z0-9.]*_[A-Za-z0-9-]+$/.test(dir) ? `${POD_LOG_ROOT}/${dir}` : undefined;
}

/**
 * Stop and remove the pod; then what `berth run` made for it on the host, as the kubelet
 * would: its emptyDir volumes under `berthRoot` (when known) and its log directory.
 */
export async function removePod(ctx: CliContext, pod: PodSandbox, berthRoot: string | undefined, timeoutSeconds?: number): Promise<void> {
  await stopPod(ctx, pod, timeoutSeconds);
  await ctx.runtime.removePodSandbox({ podSandboxId: pod.id }, { deadlineMs: 120_000 });
  const uid = pod.labels[POD_UID] ?? pod.metadata?.uid;
  if (berthRoot && uid) await removePodVolumes(berthRoot, uid);
  const logs = runLogDirectory(pod);
  if (logs) await rm(logs, { recursive: true, force: true });
}

export async function containerStatus(ctx: CliContext, id: string): Promise<ContainerStatus> {
  const r = await ctx.runtime.containerStatus({ containerId: id, verbose: false });
  return r.status!;
}

/** Poll until the container has exited; resolves to its final status. */
export async function waitForExit(ctx: CliContext, id: string, pollMs = 200): Promise<ContainerStatus> {
  for (;;) {
    const s = await containerStatus(ctx, id);
    if (s.state === ContainerState.CONTAINER_EXITED) return s;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The content of the last `n` lines of a CRI log file ("" when unreadable). */
export async function lastLogLines(path: string, n: number, maxBytes = 64 * 1024): Promise<string[]> {
  if (!path) return [];
  try {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      const start = Math.max(0, size - maxBytes);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      const records = buf.toString('utf8').split('\n').slice(start > 0 ? 1 : 0);
      const lines: string[] = [];
      let partial = '';
      for (const r of records) {
        const rec = parseCriLine(r);
        if (!rec) continue;
        partial += rec.content;
        if (!rec.partial) {
          lines.push(partial);
          partial = '';
        }
      }
      return lines.slice(-n);
    } finally {
      await fh.close();
    }
  } catch {
    return [];
  }
}
