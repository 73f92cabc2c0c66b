/** UpdateContainerResources and ReopenContainerLog. */
import { join } from 'node:path';
import { LinuxContainerResources } from '../../gen/runtime/v1/api.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { failedPrecondition, invalidArgument } from '../../util/errors.js';
import { applyOpts, defaultHostProbes } from '../oci/index.js';
import { withResources } from '../oci/opts/resources.js';
import type { Spec } from '../oci/index.js';
import { readFile } from 'node:fs/promises';
import type { Lc } from './context.js';
import { getContainer } from './common.js';
import { podShim } from './shim-ops.js';
import { cgroupPathFromOci } from '../../cgroups/index.js';

type OciResources = NonNullable<NonNullable<Spec['linux']>['resources']>;

/** CRI resources → the OCI LinuxResources object the shim's Update takes. */
export async function ociResources(lc: Lc, r: LinuxContainerResources): Promise<OciResources> {
  const scratch: Spec = { ociVersion: '1.0.2', linux: {} };
  await applyOpts(scratch, { log: lc.log, probes: defaultHostProbes }, [withResources(r, lc.host)]);
  return scratch.linux?.resources ?? {};
}

/**
 * Make an update the kernel will take on a cgroup QoS manages: it refuses a CFS quota below
 * the CPU burst (EINVAL), so the burst is lowered to the new quota first (QoS re-grows it on
 * its next loop); and it refuses cpu.shares / cpu.weight while cpu.idle is set (BE pods), so
 * shares are left out of the update then (the idle setting wins, as QoS intends).
 */
async function prepareCgroupForUpdate(lc: Lc, cgroupsPath: string, r: LinuxContainerResources, res: OciResources): Promise<void> {
  const cg = lc.cgroups;
  if (!cg || !cgroupsPath) return;
  try {
    const path = cgroupPathFromOci(lc.config.cgroupDriver, cgroupsPath);
    if (r.cpuQuota > 0n && cg.supports('cpuBurst').supported) {
      const quota = Number(r.cpuQuota);
      if (cg.read(path, 'cpuBurst') > quota) await cg.write(path, 'cpuBurst', quota);
    }
    if (res.cpu?.shares !== undefined && cg.supports('cpuIdle').supported && cg.read(path, 'cpuIdle')) {
      delete res.cpu.shares;
      lc.log.info({ cgroupsPath }, 'cpu.idle is set (QoS BE): cpu shares left out of the update');
    }
  } catch (err) {
    lc.log.warn({ cgroupsPath, err: (err as Error).message }, 'could not prepare the cgroup for a resource update');
  }
}

const UPDATE_ATTEMPTS = 3;

/** runc's error when the kernel refuses a CFS quota write (EINVAL: below the burst). */
function quotaRefused(err: unknown): boolean {
  const m = err instanceof Error ? err.message : String(err);
  return /(cpu\.max|cpu\.cfs_quota_us)\b.*invalid argument/.test(m);
}

export async function updateContainerResources(lc: Lc, id: string, r: LinuxContainerResources | undefined, annotations: Record<string, string>): Promise<void> {
  if (!r) throw invalidArgument('UpdateContainerResources: linux resources are required');
  if (r.cpuQuota !== 0n && r.cpuQuota > 0n && r.cpuPeriod > 0n && r.cpuQuota < 1000n) throw invalidArgument(`cpu_quota ${r.cpuQuota} is below the kernel minimum of 1000`);
  const c0 = getContainer(lc, id);
  await lc.locks.run(`ctr:${c0.id}`, async () => {
    const c = getContainer(lc, c0.id);
    if (c.phase !== 'created' && c.phase !== 'running') throw failedPrecondition(`container ${c.id} is ${c.phase}; only created or running containers can be updated`);
    const res = await ociResources(lc, r);
    if (c.phase === 'running') {
      const pod = lc.pods.get(c.podId);
      const shim = pod ? await podShim(lc, pod) : undefined;
      if (!shim) throw failedPrecondition(`the shim of pod ${c.podId} is not reachable`);
      // The QoS loop derives the burst from the record's resources: show it the new ones now (in
      // memory; saved below), so it does not grow the burst back above the quota being set. A
      // step already under way may still do that (to it the lowered burst is drift), and the
      // kernel then refuses the quota: lower the burst again and retry.
      const before = c.resources;
      c.resources = LinuxContainerResources.toJSON(r);
      for (let attempt = 1; ; attempt++) {
        await prepareCgroupForUpdate(lc, c.cgroupsPath, r, res);
        try {
          await shim.task.update(c.id, res, annotations);
          break;
        } catch (err) {
          if (attempt >= UPDATE_ATTEMPTS || !quotaRefused(err)) {
            c.resources = before;
            throw err;
          }
          lc.log.info({ container: c.id, attempt }, 'the kernel refused the new CPU quota (burst above it); retrying the update');
        }
      }
    }
    // Keep the bundle's spec in step so a restart of the task uses the new values.
    const specPath = join(c.bundle, 'config.json');
    const spec = JSON.parse(await readFile(specPath, 'utf8')) as Spec;
    spec.linux = { ...spec.linux, resources: { ...spec.linux?.resources, ...res } };
    await writeJsonAtomic(specPath, spec);
    c.resources = LinuxContainerResources.toJSON(r);
    await lc.containers.save(c);
  });
}

export async function reopenContainerLog(lc: Lc, id: string): Promise<void> {
  const c = getContainer(lc, id);
  if (c.phase !== 'running') throw failedPrecondition(`container ${c.id} is not running; its log cannot be reopened`);
  const io = lc.io.get(c.id);
  if (!io) throw failedPrecondition(`container ${c.id} has no log stream attached`);
  await io.reopenLog();
}
