/**
 * Static per-class settings on real pods, read back from cgroupfs (cgroup v1 here): BE gets
 * cpu.idle, the lowest blkio weight, oom_score_adj 1000 and (the default cpuset suppression
 * policy) the whole CPUs of its allowance, at most floor(65 % of the node); LS gets CPU burst
 * (capped at its quota by the kernel) and a memory soft limit from its request. Knobs changed
 * behind berth's back are restored within a loop period; missing kernel features are reported
 * with reasons instead of failing.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandCpuList } from '../../../src/cgroups/index.js';
import { eventually } from '../../helpers/pod-env.js';
import { startQosEnv, type QosEnv } from './support.js';

let q: QosEnv;
beforeAll(async () => {
  q = await startQosEnv({});
});
afterAll(async () => {
  await q?.cleanup();
});

const MiB = 1024 * 1024;

async function pidOf(id: string): Promise<number> {
  const r = await q.env.cri.runtime.containerStatus({ containerId: id, verbose: true });
  return JSON.parse(r.info.info!).pid as number;
}

describe('static QoS settings (cgroup v1)', () => {
  it('sets class knobs, restores drift, and reports what the kernel lacks', async () => {
    const { env, cg } = q;
    const be = await env.runPod('be', { annotations: { 'berth.dev/qos-class': 'BE' } });
    const beCtr = await env.runContainer(be, 'sleeper', ['sleep', '1000']);
    const ls = await env.runPod('ls', { labels: { 'koordinator.sh/qosClass': 'LS' } });
    const lsCtr = await env.runContainer(ls, 'web', ['sleep', '1000'], {
      annotations: { 'berth.dev/memory-request': '64Mi' },
      linux: { resources: { cpuQuota: 50_000n, cpuPeriod: 100_000n, cpuShares: 512n, memoryLimitInBytes: BigInt(256 * MiB) } } as never,
    });

    const paths = await eventually(async () => {
      const s = await q.status();
      const bePod = s.pods.find((p) => p.podId === be);
      const lsPod = s.pods.find((p) => p.podId === ls);
      const bePath = bePod?.targets.find((t) => t.id === beCtr)?.path;
      const beSandbox = bePod?.targets.find((t) => t.id === be)?.path;
      const lsPath = lsPod?.targets.find((t) => t.id === lsCtr)?.path;
      return bePod?.cls === 'BE' && lsPod?.cls === 'LS' && bePath && lsPath && beSandbox ? { bePath, lsPath, beSandbox } : undefined;
    });
    await eventually(async () => cg.read(paths.bePath, 'cpuIdle') && cg.read(paths.lsPath, 'cpuBurst') === 50_000);

    // A BE pod without a cgroup_parent lives under the BE parent, idle at the top level; LS under /berth.
    const beParent = q.env.d.beParent;
    expect(paths.bePath.startsWith(`${beParent}/`)).toBe(true);
    expect(paths.beSandbox.startsWith(`${beParent}/`)).toBe(true);
    expect(paths.lsPath.startsWith('/berth/')).toBe(true);
    expect(cg.read(beParent, 'cpuIdle')).toBe(true);
    // The process itself is there in the cpu hierarchy (v1 "N:cpu…:" or v2 "0::").
    const lines = readFileSync(`/proc/${await pidOf(beCtr)}/cgroup`, 'utf8').trim().split('\n');
    const cpuLine = lines.find((l) => l.split(':')[1]!.split(',').includes('cpu')) ?? lines.find((l) => l.startsWith('0::'));
    expect(cpuLine?.endsWith(`:${paths.bePath}`)).toBe(true);

    // BE: SCHED_IDLE (the kernel then reports the weight as 3), lowest I/O weight, first to be
    // OOM-killed, and confined to the whole CPUs of its allowance (at most 65 % of the node).
    expect(cg.read(paths.bePath, 'cpuIdle')).toBe(true);
    expect(cg.read(paths.beSandbox, 'cpuIdle')).toBe(true);
    expect(cg.read(paths.bePath, 'cpuShares')).toBe(3);
    if (cg.supports('blkioWeight').supported) expect(cg.read(paths.bePath, 'blkioWeight')).toBe(10);
    const online = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
    const beCpus = () => expandCpuList(cg.read(paths.bePath, 'cpusetCpus'));
    // The allowance is at most 65 % of the node, so at most that many whole CPUs (at least one).
    expect(beCpus().length).toBeGreaterThan(0);
    expect(beCpus().length).toBeLessThanOrEqual(Math.max(1, Math.floor(expandCpuList(online).length * 0.65)));
    expect(cg.read(paths.beSandbox, 'cpusetCpus')).toBe(cg.read(paths.bePath, 'cpusetCpus'));
    expect(Number(readFileSync(`/proc/${await pidOf(beCtr)}/oom_score_adj`, 'utf8'))).toBe(1000);

    // LS: burst = quota × 1000 % capped at the quota (the kernel refuses more), soft limit = request.
    expect(cg.read(paths.lsPath, 'cpuIdle')).toBe(false);
    expect(cg.read(paths.lsPath, 'cpuMax')).toEqual({ quota: 50_000, period: 100_000 });
    expect(cg.read(paths.lsPath, 'cpuBurst')).toBe(50_000);
    expect(cg.read(paths.lsPath, 'memorySoftLimit')).toBe(64 * MiB);
    expect(cg.read(paths.lsPath, 'memoryMax')).toBe(256 * MiB);

    // Drift: change knobs behind berth's back; the next steps put them back.
    const before = (await q.status()).counters.driftRestored;
    await cg.write(paths.bePath, 'cpuIdle', false);
    await cg.write(paths.lsPath, 'cpuBurst', 0);
    await cg.write(paths.bePath, 'cpusetCpus', online);
    await cg.write(beParent, 'cpuIdle', false);
    await eventually(async () => cg.read(paths.bePath, 'cpuIdle') && cg.read(paths.lsPath, 'cpuBurst') === 50_000 && cg.read(paths.bePath, 'cpusetCpus') !== online && cg.read(beParent, 'cpuIdle'), 5000);
    const s = await q.status();
    // The cpuset may have been due for a change anyway (then it counts as a plain set).
    expect(s.counters.driftRestored - before).toBeGreaterThanOrEqual(2);
    expect(s.lastActions.some((a) => a.why === 'drift' && a.knob === 'cpuIdle' && a.path === paths.bePath)).toBe(true);
    expect(s.lastActions.some((a) => a.why === 'drift' && a.knob === 'cpuBurst' && a.path === paths.lsPath)).toBe(true);
    expect(s.lastActions.some((a) => a.why === 'drift' && a.knob === 'cpuIdle' && a.path === beParent)).toBe(true);

    // What this kernel lacks is reported with reasons (and logged), not fatal.
    const features = s.degraded.map((d) => d.feature);
    expect(features.length, "each feature once: the step's own account replaces the start-up one").toBe(new Set(features).size);
    if (!cg.supports('cpuBvtWarpNs').supported) expect(features).toContain('cpu.bvt_warp_ns');
    if (cg.mode !== 'v2') expect(s.degraded.find((d) => d.feature === 'memory.high')?.reason).toMatch(/memory\.limit_in_bytes instead/);
    expect(s.degraded.find((d) => d.feature === 'cpu.burst')?.reason).toMatch(/burst/);
    expect(env.d.logs.join('')).toMatch(/QoS feature unavailable; degrading/);
    expect(s.counters.stepErrors).toBe(0);
  });
});
