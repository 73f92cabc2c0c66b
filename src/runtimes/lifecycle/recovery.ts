/**
 * Start-up reconciliation after a restart or a crash (kill -9): reload every record, roll
 * back what a crash left half-created (per its journal), finish interrupted removals,
 * reconnect to live shims and resume log copying and exit watching, mark what died while
 * berthd was down, and remove host leftovers that no record owns.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { removeNetns } from '../../network/netns.js';
import { mountsUnder, unmount } from '../../util/mount.js';
import type { Lc } from './context.js';
import { containerConfigOf } from './common.js';
import { ContainerIo } from './container-io.js';
import { markLost, recordContainerExit, removeContainerLocked } from './container-teardown.js';
import { isGone, podShim } from './shim-ops.js';
import { removeSandboxLocked, rollbackSandbox } from './sandbox-teardown.js';
import type { ContainerRecord, SandboxRecord } from './types.js';

async function recoverContainer(lc: Lc, pod: SandboxRecord, c: ContainerRecord): Promise<void> {
  if (c.phase !== 'running') return;
  const shim = await podShim(lc, pod);
  if (!shim) return markLost(lc, c, 'its shim was gone when berthd restarted');
  let st;
  try {
    st = await shim.task.state(c.id);
  } catch (err) {
    if (isGone(err) || /not found/i.test((err as Error).message)) return markLost(lc, c, 'its task was gone when berthd restarted');
    throw err;
  }
  if (st.status === 'stopped') {
    await recordContainerExit(lc, c, st.exitStatus, st.exitedAtNs);
    return;
  }
  const cfg = containerConfigOf(c);
  const io = await ContainerIo.open(join(lc.layout.io, c.id), { stdin: cfg.stdin, tty: cfg.tty, logPath: c.logPath });
  lc.io.set(c.id, io);
  lc.exits.watch(c.id, shim.task);
}

async function recoverPod(lc: Lc, pod: SandboxRecord): Promise<void> {
  const containers = lc.containers.all().filter((c) => c.podId === pod.id);
  if (pod.phase === 'ready' || pod.phase === 'notready') {
    const shim = await podShim(lc, pod);
    if (!shim && pod.shim) {
      for (const c of containers) await markLost(lc, c, 'its shim was gone when berthd restarted');
      for (const c of containers.filter((c) => c.journal.length === 0)) {
        await lc.shims.cleanupDeadShim({ binary: pod.shim.binary, id: c.id, bundle: c.bundle }).catch(() => {});
      }
      await lc.shims.cleanupDeadShim({ binary: pod.shim.binary, id: pod.id, bundle: pod.bundle, address: pod.shim.address }).catch(() => {});
      if (pod.phase === 'ready') {
        pod.phase = 'notready';
        pod.stoppedReason = 'its shim was gone when berthd restarted';
        await lc.pods.save(pod);
      }
    } else if (shim && pod.phase === 'ready') {
      const st = await shim.task.state(pod.id).catch(() => undefined);
      if (!st || st.status === 'stopped') {
        pod.phase = 'notready';
        pod.stoppedReason = 'the sandbox process exited while berthd was down';
        await lc.pods.save(pod);
      } else {
        lc.exits.watch(pod.id, shim.task);
      }
    }
    for (const c of containers) await recoverContainer(lc, pod, c);
  }
}

/** Remove bundles, netns, io dirs and layer dirs that no record owns. */
async function removeOrphans(lc: Lc): Promise<void> {
  const pods = new Set(lc.pods.all().map((p) => p.id));
  const ctrs = new Set(lc.containers.all().map((c) => c.id));
  const owned = (id: string) => pods.has(id) || ctrs.has(id);
  const entries = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((n) => /^[a-f0-9]{64}$/.test(n));
  for (const id of await entries(lc.layout.bundles)) {
    if (owned(id)) continue;
    for (const m of await mountsUnder(join(lc.layout.bundles, id))) await unmount(m, 'removing an orphaned bundle');
    await rm(join(lc.layout.bundles, id), { recursive: true, force: true });
    lc.log.warn({ id }, 'removed an orphaned bundle');
  }
  for (const id of await lc.cni.cachedPods()) {
    if (pods.has(id)) continue;
    await lc.cni.teardown({ podId: id, force: true }).catch((err: unknown) => lc.log.error({ pod: id, err }, 'CNI teardown of an orphaned pod failed'));
  }
  for (const id of await entries(lc.layout.netns)) if (!pods.has(id)) await removeNetns(join(lc.layout.netns, id));
  for (const id of await entries(lc.layout.podsState)) {
    if (pods.has(id)) continue;
    for (const m of await mountsUnder(join(lc.layout.podsState, id))) await unmount(m, 'removing an orphaned pod dir');
    await rm(join(lc.layout.podsState, id), { recursive: true, force: true });
  }
  for (const id of await entries(lc.layout.io)) if (!owned(id)) await rm(join(lc.layout.io, id), { recursive: true, force: true });
  for (const id of await entries(lc.layout.podsRoot)) if (!pods.has(id)) await rm(join(lc.layout.podsRoot, id), { recursive: true, force: true });
  for (const id of await entries(lc.layout.containersRoot)) if (!ctrs.has(id)) await rm(join(lc.layout.containersRoot, id), { recursive: true, force: true });
}

export async function recover(lc: Lc): Promise<void> {
  const pods = await lc.pods.load();
  const containers = await lc.containers.load();
  for (const c of containers) {
    if (c.phase === 'creating') {
      lc.log.warn({ container: c.id }, 'rolling back a container whose creation was interrupted');
      await rm(c.bundle, { recursive: true, force: true });
      await rm(join(lc.layout.containersRoot, c.id), { recursive: true, force: true });
      await lc.containers.delete(c.id);
    } else {
      lc.containerNames.reserve(c.name, c.id);
    }
  }
  for (const pod of pods) {
    if (pod.phase === 'creating') {
      lc.log.warn({ pod: pod.id, journal: pod.journal }, 'rolling back a sandbox whose creation was interrupted');
      for (const c of lc.containers.all().filter((c) => c.podId === pod.id)) await removeContainerLocked(lc, c);
      await rollbackSandbox(lc, pod);
      continue;
    }
    lc.podNames.reserve(pod.name, pod.id);
    try {
      await recoverPod(lc, pod);
    } catch (err) {
      lc.log.error({ pod: pod.id, err }, 'recovering a pod failed; it stays listed');
    }
  }
  for (const pod of lc.pods.all().filter((p) => p.phase === 'removing')) await removeSandboxLocked(lc, pod).catch((err: unknown) => lc.log.error({ pod: pod.id, err }, 'finishing an interrupted pod removal failed'));
  for (const c of lc.containers.all().filter((c) => c.phase === 'removing')) await removeContainerLocked(lc, c).catch((err: unknown) => lc.log.error({ container: c.id, err }, 'finishing an interrupted container removal failed'));
  await removeOrphans(lc);
  lc.log.info({ pods: lc.pods.all().length, containers: lc.containers.all().length }, 'state recovered');
}
