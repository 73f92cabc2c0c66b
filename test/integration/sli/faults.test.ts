/**
 * Faults on the real kernel, in-process: a cgroup removed between reads (cached descriptors see
 * ENODEV), a container cgroup without processes, a pod whose pause process is gone. The series
 * go absent; nothing throws; the scrape and the report still answer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CgroupManager } from '../../../src/cgroups/index.js';
import { podSandboxMetrics } from '../../../src/cri/metrics.js';
import { DEFAULT_SLI_OPTIONS, SliService } from '../../../src/sli/index.js';
import { StatsSampler, type Target } from '../../../src/sli/sampler.js';
import { logger } from '../../../src/util/log.js';
import { parseExposition, samplesOf } from '../../unit/sli/prom-parse.js';

const cg = CgroupManager.detect();
const ROOT = `/berth-sli-faults-${process.pid}`;
const procs: ChildProcess[] = [];
const targets: { pods: Target[]; containers: Target[] } = { pods: [], containers: [] };
let sampler: StatsSampler;
let sli: SliService;

/** One sampler pass, to its end (a pass may pause between cgroups). */
const tick = () => (sampler as unknown as { tick(): Promise<void> }).tick();

beforeAll(async () => {
  await cg.create(`${ROOT}/pod`);
  for (const name of ['live', 'doomed', 'empty']) await cg.create(`${ROOT}/pod/${name}`);
  for (const name of ['live', 'doomed']) {
    const p = spawn('sleep', ['300'], { stdio: 'ignore' });
    procs.push(p);
    await cg.attach(`${ROOT}/pod/${name}`, p.pid!);
    targets.containers.push({ id: name, pid: p.pid!, cgroupPath: `${ROOT}/pod/${name}` });
  }
  // A container whose processes are all gone but whose cgroup is still there.
  targets.containers.push({ id: 'empty', pid: process.pid, cgroupPath: `${ROOT}/pod/empty` });
  targets.pods.push({ id: 'pod', pid: procs[0]!.pid!, cgroupPath: `${ROOT}/pod` });
  sampler = new StatsSampler(cg, { containers: () => targets.containers, pods: () => targets.pods }, logger('test'), { intervalMs: 3_600_000, fullEvery: 1, psiEvery: 1 });
  const inventory = {
    pods: () => [{ id: 'pod', namespace: 'ns', name: 'pod', uid: 'u', handler: 'runc', labels: {}, annotations: {}, ownCgroup: true, hostNetwork: false }],
    containers: () => targets.containers.map((t) => ({ id: t.id, podId: 'pod', name: t.id, image: 'img' })),
  };
  const options = { ...DEFAULT_SLI_OPTIONS, metrics: { ...DEFAULT_SLI_OPTIONS.metrics, enabled: false }, sli: { ...DEFAULT_SLI_OPTIONS.sli, schedstatIntervalSeconds: 3600 } };
  sli = new SliService({ cg, sampler, inventory, options, log: logger('test'), nodeInfo: false });
  await sli.start();
  sampler.start();
  await tick();
  await sli.sched.collect();
});

afterAll(async () => {
  await sli?.stop();
  sampler?.stop();
  for (const p of procs) p.kill('SIGKILL');
  await cg.destroy(ROOT).catch(() => {});
});

describe('SLI faults on real cgroups', () => {
  it('reads all three cgroups; the one without processes has zero tasks', async () => {
    const fams = parseExposition(await sli.metricsText());
    const threads = samplesOf(fams, 'container_threads');
    expect(threads.map((s) => `${s.labels.container}=${s.value}`).sort()).toEqual(['=2', 'doomed=1', 'empty=0', 'live=1']);
  });

  it('a cgroup removed between passes: its series go, the rest stay, nothing throws', async () => {
    await cg.destroy(`${ROOT}/pod/doomed`); // kills its process, removes the cgroup; cached descriptors now read ENODEV
    await expect(tick()).resolves.toBeUndefined();
    await expect(sli.sched.collect()).resolves.toBeUndefined();
    await tick();
    const fams = parseExposition(await sli.metricsText());
    const names = samplesOf(fams, 'container_cpu_usage_seconds_total').map((s) => s.labels.container);
    expect(names.sort()).toEqual(['', 'empty', 'live']);
    expect(samplesOf(fams, 'container_memory_working_set_bytes').some((s) => s.labels.container === 'doomed')).toBe(false);
    const cri = podSandboxMetrics(sli.view())[0]!;
    expect(cri.containerMetrics.find((c) => c.containerId === 'doomed')!.metrics).toEqual([]);
    const doomed = sli.report().pods[0]!.containers.find((c) => c.id === 'doomed')!.signals;
    expect(doomed.cpuCores).toBeUndefined();
    expect(doomed.memoryWorkingSetBytes).toBeUndefined();
  });

  it('a cgroup re-created at the same path is read afresh, not through stale descriptors', async () => {
    await cg.create(`${ROOT}/pod/doomed`);
    const p = spawn('sleep', ['300'], { stdio: 'ignore' });
    procs.push(p);
    await cg.attach(`${ROOT}/pod/doomed`, p.pid!);
    targets.containers[1]!.pid = p.pid!;
    await tick();
    const s = sampler.latest('doomed')!;
    expect(s.stats.partial).toBeUndefined();
    expect(s.stats.pids!.current).toBe(1);
  });

  it('a pod whose pause process is gone keeps its cgroup series and loses only its network', async () => {
    procs[0]!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    await tick();
    const s = sampler.latest('pod')!;
    expect(s.network).toBeUndefined();
    expect(s.stats.cpu).toBeDefined();
    parseExposition(await sli.metricsText());
  });
});
