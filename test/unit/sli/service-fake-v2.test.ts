/**
 * The whole SLI pipeline (sampler → window/schedstat → report, Prometheus, CRI) over a fake
 * cgroup v2 tree: the v2-only paths (memory.events, per-cgroup PSI, cgroup.threads) on a v1 host.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CgroupManager } from '../../../src/cgroups/manager.js';
import { podSandboxMetrics } from '../../../src/cri/metrics.js';
import { DEFAULT_SLI_OPTIONS, SliService } from '../../../src/sli/index.js';
import { StatsSampler } from '../../../src/sli/sampler.js';
import { SchedCollector } from '../../../src/sli/schedstat.js';
import { logger } from '../../../src/util/log.js';
import { createFakeCgroupfs, type FakeCgroupfs } from '../../helpers/fake-cgroupfs.js';
import { containerMeta, podMeta } from './fixtures.js';
import { parseExposition, samplesOf } from './prom-parse.js';

let fake: FakeCgroupfs;
let cg: CgroupManager;
beforeEach(() => {
  fake = createFakeCgroupfs();
  fake.addCgroup('/kubepods');
  cg = CgroupManager.detect({ procRoot: fake.procRoot, probeCgroup: '/kubepods' });
  fake.addCgroup('/kubepods/pod1');
  fake.addCgroup('/kubepods/pod1/c1', {
    'cpu.stat': 'usage_usec 1000000\nuser_usec 900000\nsystem_usec 100000\nnr_periods 10\nnr_throttled 5\nthrottled_usec 250000\n',
    'memory.events': 'low 0\nhigh 7\nmax 2\noom 1\noom_kill 1\n',
    'cgroup.threads': '101\n102\n',
  });
  // schedstat: our own (available), and the container's two threads
  for (const [pid, text] of [
    ['self', '5000 600 7\n'],
    ['101', '100 2000000000 3\n'],
    ['102', '100 1000000000 3\n'],
  ]) {
    mkdirSync(join(fake.procRoot, pid), { recursive: true });
    writeFileSync(join(fake.procRoot, pid, 'schedstat'), text);
  }
});
afterEach(() => fake.cleanup());

function service(live: { c1: boolean; ghost?: boolean }, sliceMs?: number) {
  const sampler = new StatsSampler(
    cg,
    {
      containers: () => [
        ...(live.c1 ? [{ id: 'c1', pid: process.pid, cgroupPath: '/kubepods/pod1/c1' }] : []),
        ...(live.ghost ? [{ id: 'c9', pid: process.pid, cgroupPath: '/kubepods/pod1/c9' }] : []),
      ],
      pods: () => [{ id: 'p1', pid: process.pid, cgroupPath: '/kubepods/pod1' }],
    },
    logger('test'),
    { intervalMs: 3_600_000, sliceMs },
  );
  const inventory = {
    pods: () => [podMeta('p1', { hostNetwork: true })],
    containers: () => [...(live.c1 ? [containerMeta('c1', 'p1', 'app')] : []), ...(live.ghost ? [containerMeta('c9', 'p1', 'ghost')] : [])],
  };
  const options = { ...DEFAULT_SLI_OPTIONS, metrics: { ...DEFAULT_SLI_OPTIONS.metrics, enabled: false, processMetrics: false }, sli: { ...DEFAULT_SLI_OPTIONS.sli, thresholds: { ...DEFAULT_SLI_OPTIONS.sli.thresholds, memoryHighEvents: 0 } } };
  const sli = new SliService({ cg, sampler, inventory, options, log: logger('test'), procRoot: fake.procRoot, nodeInfo: false });
  return { sampler, sli };
}

/** One sampler pass, to its end. */
const tick = (sampler: StatsSampler) => (sampler as unknown as { tick(): Promise<void> }).tick();

describe('SLI service (fake v2 tree)', () => {
  it('exports v2 memory events, per-cgroup PSI and run-queue wait, and judges with window rates', async () => {
    const { sampler, sli } = service({ c1: true });
    await sli.start();
    sampler.start(); // first pass, before the schedstat collector's first
    await sli.sched.collect();
    await new Promise((r) => setTimeout(r, 20));
    await tick(sampler);
    // one second later: more CPU, more throttling, more memory.high events, more wait
    await new Promise((r) => setTimeout(r, 1100));
    fake.write('/kubepods/pod1/c1', 'cpu.stat', 'usage_usec 1900000\nuser_usec 1800000\nsystem_usec 100000\nnr_periods 20\nnr_throttled 14\nthrottled_usec 650000\n');
    fake.write('/kubepods/pod1/c1', 'memory.events', 'low 0\nhigh 9\nmax 2\noom 1\noom_kill 1\n');
    writeFileSync(join(fake.procRoot, '101/schedstat'), '100 2500000000 4\n');
    await tick(sampler); // CPU moved: the schedstat pass reads c1
    await sli.sched.collect();
    await new Promise((r) => setTimeout(r, 20));
    await tick(sampler);

    const fams = parseExposition(await sli.metricsText());
    const c1 = (name: string) => samplesOf(fams, name).filter((s) => s.labels.container === 'app');
    expect(c1('container_cpu_cfs_throttled_periods_total')[0]!.value).toBe(14);
    expect(c1('berth_container_memory_events_total').find((s) => s.labels.event === 'high')!.value).toBe(9);
    expect(c1('container_pressure_cpu_waiting_seconds_total')).toHaveLength(1);
    expect(c1('berth_container_sched_wait_seconds_total')[0]!.value).toBeCloseTo(3.5);
    expect(samplesOf(fams, 'berth_sli_feature_available').find((s) => s.labels.feature === 'schedstat')!.value).toBe(1);

    const r = sli.report();
    expect(r.features.memoryEvents!.available).toBe(true);
    const pod = r.pods[0]!;
    expect(pod.containers[0]!.signals).toMatchObject({ cpuThrottledRatio: 0.9, memoryHighEvents: 2, schedWaitSecondsTotal: 3.5, tasks: 2 });
    expect(pod.verdict!.status).toBe('degraded');
    expect(pod.verdict!.crossed.map((c) => c.signal).sort()).toEqual(['cpuThrottledRatio', 'memoryHighEvents', 'schedWaitRatio']);
    await sli.stop();
    sampler.stop();
  });

  it('a running container without a readable cgroup has no series; the scrape, report and CRI still answer', async () => {
    const { sampler, sli } = service({ c1: true, ghost: true });
    await sli.start();
    sampler.start();
    await sli.sched.collect();
    const fams = parseExposition(await sli.metricsText());
    expect(samplesOf(fams, 'container_cpu_usage_seconds_total').map((s) => s.labels.container)).toEqual(['', 'app']);
    const pods = podSandboxMetrics(sli.view());
    expect(pods[0]!.containerMetrics.find((c) => c.containerId === 'c9')).toEqual({ containerId: 'c9', metrics: [] });
    expect(sli.report().pods[0]!.containers.find((c) => c.id === 'c9')!.signals).toEqual({});
    await sli.stop();
    sampler.stop();
  });

  it('a kernel without per-task schedstat: no wait series, and the reason is exported', async () => {
    writeFileSync(join(fake.procRoot, 'self/schedstat'), '0 0 0\n');
    const { sampler, sli } = service({ c1: true });
    await sli.start();
    sampler.start();
    await sli.sched.collect();
    const fams = parseExposition(await sli.metricsText());
    expect(samplesOf(fams, 'berth_container_sched_wait_seconds_total')).toEqual([]);
    const f = samplesOf(fams, 'berth_sli_feature_available').find((s) => s.labels.feature === 'schedstat')!;
    expect(f.value).toBe(0);
    expect(f.labels.reason).toMatch(/zeros/);
    expect(sli.report().signalsNotEvaluated.schedWaitRatio).toMatch(/zeros/);
    await sli.stop();
    sampler.stop();
  });

  it('a sampler pass pauses between cgroups and leaves the event loop free; a second tick joins the running pass', async () => {
    const { sampler } = service({ c1: true, ghost: false }, 0);
    // Queued before the pass: it runs while the pass is paused, not after it (a pass in one
    // synchronous block would have finished first).
    let passesSeen = -1;
    setImmediate(() => (passesSeen = sampler.passes));
    const a = tick(sampler);
    const b = tick(sampler);
    expect(b).toBe(a);
    await a;
    expect(passesSeen).toBe(0);
    expect(sampler.passes).toBe(1);
    expect(sampler.latest('c1')?.stats.cpu?.usageNs).toBe(1_000_000_000);
    sampler.stop();
  });

  it('a schedstat pass pauses between containers and leaves the event loop free; a second collect joins the running pass', async () => {
    fake.addCgroup('/kubepods/pod1/c2', { 'cgroup.threads': '102\n' });
    const targets = [
      { id: 'c1', cgroupPath: '/kubepods/pod1/c1' },
      { id: 'c2', cgroupPath: '/kubepods/pod1/c2' },
    ];
    const sched = new SchedCollector(cg, () => targets, logger('test'), { procRoot: fake.procRoot, sliceMs: 0 });
    let done = false;
    let doneWhenImmediateRan: boolean | undefined;
    // Queued before the pass: a pass in one synchronous block would have settled first.
    setImmediate(() => (doneWhenImmediateRan = done));
    const a = sched.collect().then(() => (done = true));
    expect(sched.collect()).toBe(sched.collect());
    await a;
    expect(doneWhenImmediateRan).toBe(false);
    expect(sched.wait('c1')?.totalNs).toBe(3_000_000_000);
    expect(sched.wait('c2')?.totalNs).toBe(1_000_000_000);
    // Stopped during a pause: the pass ends there, nothing throws.
    const b = sched.collect();
    sched.stop();
    await expect(b).resolves.toBeUndefined();
  });
});
