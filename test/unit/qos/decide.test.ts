/** One decision step over synthetic views: what each class gets, neutral values, v1 vs v2 knobs, disabled policy. */
import { describe, expect, it } from 'vitest';
import { decide, neutralKnobs } from '../../../src/qos/decide.js';
import { DEFAULT_POLICY, policySchema } from '../../../src/qos/policy/schema.js';
import { initialState } from '../../../src/qos/strategies/types.js';
import type { NodeView, PodView, TargetView } from '../../../src/qos/types.js';

const MiB = 2 ** 20;

function node(over: Partial<NodeView> = {}): NodeView {
  return {
    mode: 'v1',
    onlineCpus: [0, 1, 2, 3],
    cpuCapacityCores: 4,
    cpuUsedCores: 2,
    periodMs: 1000,
    memTotalBytes: 1000 * MiB,
    memUsedBytes: 300 * MiB,
    unsupported: { cpuBvtWarpNs: 'no bvt', cgroupPriority: 'no RUE', memoryHigh: 'v1', memoryLow: 'v1', memoryMin: 'v1' },
    cgroupPsi: true,
    burstCappedAtQuota: true,
    ...over,
  };
}

function target(id: string, over: Partial<TargetView> = {}): TargetView {
  return { kind: 'container', id, name: id, path: `/berth/${id}`, own: {}, usage: {}, primary: true, createdAtNs: '1', ...over };
}

function pod(id: string, annotations: Record<string, string>, containers: TargetView[], over: Partial<PodView> = {}): PodView {
  return {
    id,
    name: id,
    namespace: 'ns',
    annotations,
    labels: {},
    cgroupParent: '',
    handler: 'runc',
    qosScope: 'container',
    priority: 0,
    createdAtNs: '1',
    sandbox: target(id, { kind: 'sandbox', primary: false, own: { cpuShares: 2 } }),
    containers,
    ...over,
  };
}

const BE = { 'berth.dev/qos-class': 'BE' };
const LS = { 'berth.dev/qos-class': 'LS' };
const LSR = { 'berth.dev/qos-class': 'LSR' };

describe('decide', () => {
  it('gives BE cpu.idle, the lowest I/O weight and the whole allowance as quota; LS burst and a soft limit (v1)', () => {
    const pods = [
      pod('be', BE, [target('be1', { usage: { cpuCores: 0.5 } })]),
      pod('ls', LS, [target('ls1', { own: { cpuQuota: 200_000, cpuPeriod: 100_000, memoryRequestBytes: 64 * MiB }, usage: { cpuCores: 1.0 } })]),
    ];
    const d = decide({ node: node(), pods, pageSize: 4096 }, policySchema.parse({ cpuSuppressPolicy: 'cfsQuota' }), initialState());
    const be = d.targets.find((t) => t.path === '/berth/be1')!;
    expect(be.cls).toBe('BE');
    expect(be.knobs.cpuIdle).toBe(true);
    expect(be.knobs.cpuShares).toBeUndefined();
    expect(be.neutral.cpuShares).toBeUndefined();
    expect(be.knobs.blkioWeight).toBe(10);
    // 4 × 65 % − 1.0 (LS) − 0.5 (system: 2 − 1.5) = 1.1 cores, all of it for the one BE container.
    expect((d.reports.cpuSuppress as { allowanceCores: number }).allowanceCores).toBeCloseTo(1.1, 3);
    expect(be.knobs.cpuMax).toEqual({ quota: 110_000, period: 100_000 });
    expect(d.targets.find((t) => t.path === '/berth/be')!.knobs.cpuIdle).toBe(true); // the BE sandbox too
    const ls = d.targets.find((t) => t.path === '/berth/ls1')!;
    expect(ls.knobs.cpuBurst).toBe(200_000);
    expect(ls.knobs.memorySoftLimit).toBe(64 * MiB);
    expect(ls.knobs.cpuIdle).toBeUndefined();
    expect(ls.neutral).toMatchObject({ cpuIdle: false, cpuMax: { quota: 200_000, period: 100_000 }, memoryMax: 'max', memorySoftLimit: 'max', cpusetCpus: '0-3' });
    expect(ls.neutral.cpuBvtWarpNs).toBeUndefined(); // unsupported knobs are not managed at all
    expect(d.degraded.map((x) => x.feature)).toContain('cpu.burst');
  });

  it('uses memory.low/min on v2 and squeezes BE with memory.high above the memory threshold, then evicts', () => {
    const v2 = node({ mode: 'v2', unsupported: {}, memUsedBytes: 900 * MiB });
    const policy = policySchema.parse({ memoryProtection: { minPercent: 50, lowPercent: 100 } });
    const pods = [
      pod('be', BE, [target('be1', { usage: { workingSetBytes: 100 * MiB, memoryUsageBytes: 150 * MiB } })], { priority: 5 }),
      pod('be2', BE, [target('be2c', { usage: { workingSetBytes: 50 * MiB, memoryUsageBytes: 50 * MiB } })], { priority: 1 }),
      pod('ls', LS, [target('ls1', { own: { memoryRequestBytes: 64 * MiB } })]),
    ];
    const first = decide({ node: v2, pods, pageSize: 4096 }, policy, initialState());
    expect(first.targets.find((t) => t.path === '/berth/ls1')!.knobs).toMatchObject({ memoryLow: 64 * MiB, memoryMin: 32 * MiB });
    expect(first.targets.find((t) => t.path === '/berth/be1')!.knobs.memoryHigh).toBe(104 * MiB);
    expect(first.evictions).toEqual([]);
    const second = decide({ node: v2, pods, pageSize: 4096 }, policy, first.next);
    expect(second.evictions.map((e) => e.containerId)).toEqual(['be2c', 'be1']);
    expect(second.evictions[0]!.message).toMatch(/memoryEvictThresholdPercent 70%/);
  });

  it('evicts a BE VM pod whole (its sandbox holds the VM’s memory), never a container inside it', () => {
    const over = node({ memUsedBytes: 900 * MiB });
    const vmSandbox = target('vm', { kind: 'sandbox', path: '/berth/vm', usage: { workingSetBytes: 150 * MiB }, createdAtNs: '5' });
    const pods = [
      pod('vm', BE, [target('guest1', { primary: false, usage: { workingSetBytes: 900 * MiB } })], { qosScope: 'sandbox', sandbox: vmSandbox, priority: 1 }),
      pod('be', BE, [target('be1', { usage: { workingSetBytes: 100 * MiB } })], { priority: 5 }),
    ];
    const first = decide({ node: over, pods, pageSize: 4096 }, DEFAULT_POLICY, initialState());
    // Squeezed first: the runc container's limit, never the VM's (its memory is the guest's).
    expect(first.targets.find((t) => t.path === '/berth/be1')!.knobs.memoryMax).toBe(104 * MiB);
    expect(first.targets.find((t) => t.path === '/berth/vm')!.knobs.memoryMax).toBeUndefined();
    const second = decide({ node: over, pods, pageSize: 4096 }, DEFAULT_POLICY, first.next);
    expect(second.evictions.map((e) => [e.kind, e.podId, e.containerId])).toEqual([
      ['sandbox', 'vm', 'vm'],
      ['container', 'be', 'be1'],
    ]);
    expect(second.evictions[0]).toMatchObject({ name: 'vm (VM sandbox)', workingSetBytes: 150 * MiB, message: expect.stringMatching(/evicted as a BE VM pod \(priority 1, working set 150 MiB\)/) });
  });

  it('gives LSR containers exclusive CPUs that everyone else, BE included, stays off', () => {
    const pods = [
      pod('lsr', LSR, [target('r1', { own: { cpuQuota: 200_000, cpuPeriod: 100_000 } })]),
      pod('ls', LS, [target('l1')]),
      pod('be', BE, [target('b1')]),
    ];
    const d = decide({ node: node(), pods, pageSize: 4096 }, DEFAULT_POLICY, initialState());
    const cpus = (p: string) => d.targets.find((t) => t.path === p)!.knobs.cpusetCpus;
    expect(cpus('/berth/r1')).toBe('2-3');
    expect(cpus('/berth/l1')).toBe('0-1');
    // 4 × 65 % − 2 (system) = 0.6 cores: one CPU of the shared pool, with a quota for 0.6.
    expect(cpus('/berth/b1')).toBe('1');
    expect(d.targets.find((t) => t.path === '/berth/b1')!.knobs.cpuMax).toEqual({ quota: 60_000, period: 100_000 });
    expect(cpus('/berth/lsr')).toBe('0-1'); // the LSR pod's own sandbox is shared too
    expect(d.next.exclusive.get('r1')).toEqual([2, 3]);
  });

  it('confines BE to the whole shared CPUs its allowance covers (the default policy), and leaves the quota alone', () => {
    const pods = [pod('be', BE, [target('b1', { usage: { cpuCores: 0.2 } })])];
    const d = decide({ node: node({ cpuUsedCores: 0.2 }), pods, pageSize: 4096 }, DEFAULT_POLICY, initialState());
    // 4 × 65 % − 0 (system) = 2.6 cores → 2 whole CPUs, the highest ones, and no throttling.
    const be = d.targets.find((t) => t.path === '/berth/b1')!;
    expect(DEFAULT_POLICY.cpuSuppressPolicy).toBe('cpuset');
    expect(be.knobs.cpusetCpus).toBe('2-3');
    expect(be.knobs.cpuMax).toBeUndefined();
    expect(be.neutral.cpuMax).toEqual({ quota: 'max', period: 100_000 });
    expect((d.reports.cpuSuppress as { cpus: string; shares: object }).cpus).toBe('2-3');
    expect((d.reports.cpuSuppress as { shares: object }).shares).toEqual({});
  });

  it('adds a quota on the one BE CPU when the allowance is under one CPU (cpuset policy)', () => {
    const pods = [pod('be', BE, [target('b1', { usage: { cpuCores: 1 } })]), pod('be2', BE, [target('b2', { usage: { cpuCores: 1 } })])];
    // 4 × 65 % − 1.8 (system: 3.8 − 2 BE) = 0.8 cores, split between two hungry BE containers.
    const d = decide({ node: node({ cpuUsedCores: 3.8 }), pods, pageSize: 4096 }, DEFAULT_POLICY, initialState());
    for (const p of ['/berth/b1', '/berth/b2']) {
      const t = d.targets.find((x) => x.path === p)!;
      expect(t.knobs.cpusetCpus).toBe('3');
      expect(t.knobs.cpuMax).toEqual({ quota: 40_000, period: 100_000 });
    }
    // Without cpu.cfs_quota the cpuset still holds, and the missing quota is reported.
    const noQuota = decide({ node: node({ cpuUsedCores: 3.8, unsupported: { ...node().unsupported, cpuMax: 'no cfs bandwidth' } }), pods, pageSize: 4096 }, DEFAULT_POLICY, initialState());
    expect(noQuota.targets.find((x) => x.path === '/berth/b1')!.knobs).toMatchObject({ cpusetCpus: '3' });
    expect(noQuota.targets.find((x) => x.path === '/berth/b1')!.knobs.cpuMax).toBeUndefined();
    expect(noQuota.degraded.map((x) => x.reason).join()).toMatch(/under one CPU cannot be enforced: no cfs bandwidth/);
  });

  it('falls back to quotas when the kernel has no cpusets (cpuset policy)', () => {
    const pods = [pod('be', BE, [target('b1', { usage: { cpuCores: 1 } })])];
    // 4 × 65 % − 1.0 (system) = 1.6 cores: a 1.6-core quota on every CPU instead of one whole CPU.
    const d = decide({ node: node({ cpuUsedCores: 2, unsupported: { ...node().unsupported, cpusetCpus: 'cpuset not delegated' } }), pods, pageSize: 4096 }, DEFAULT_POLICY, initialState());
    const be = d.targets.find((x) => x.path === '/berth/b1')!;
    expect(be.knobs.cpuMax).toEqual({ quota: 160_000, period: 100_000 });
    expect(be.knobs.cpusetCpus).toBeUndefined();
    expect(d.degraded.find((x) => x.feature === 'cpuset')!.reason).toMatch(/cpuset not delegated; suppressing by CFS quota instead/);
  });

  it('tightens on LS stall, but not on stall an LS container’s own quota caused', () => {
    const mk = (throttled: boolean) => [
      pod('be', BE, [target('b1', { usage: { cpuCores: 0.5 } })]),
      pod('ls', LS, [target('l1', { usage: { cpuCores: 0.8, cpuPressurePct: 60, throttled } })]),
    ];
    const psi = (throttled: boolean) => (decide({ node: node(), pods: mk(throttled), pageSize: 4096 }, DEFAULT_POLICY, initialState()).reports.cpuSuppress as { psi: { action: string; factor: number } }).psi;
    expect(psi(false)).toMatchObject({ action: 'tighten', factor: 0.7 });
    expect(psi(true)).toMatchObject({ factor: 1 });
  });

  it('carries a saved allowance, PSI factor and mean through a first step that has no rates', () => {
    const pods = [pod('be', BE, [target('b1')]), pod('ls', LS, [target('l1')])];
    const saved = { ...initialState(), allowanceCores: 0.77, psiFactor: 0.5, psiPressurePct: 30 };
    const d = decide({ node: node({ cpuUsedCores: undefined, cpuPressurePct: undefined, periodMs: undefined }), pods, pageSize: 4096 }, DEFAULT_POLICY, saved);
    expect(d.next).toMatchObject({ allowanceCores: 0.77, psiFactor: 0.5, psiPressurePct: 30 });
    expect(d.targets.find((t) => t.path === '/berth/b1')!.knobs.cpuMax).toEqual({ quota: 77_000, period: 100_000 });
  });

  it('keeps the BE parent idle, but not while a pod that is no longer BE runs under it', () => {
    const be = pod('be', BE, [target('b1', { path: '/berth-besteffort/b1' })]);
    const parentOf = (pods: PodView[]) => {
      const d = decide({ node: node(), pods, pageSize: 4096, beParent: '/berth-besteffort' }, DEFAULT_POLICY, initialState());
      return { parent: d.targets.find((t) => t.path === '/berth-besteffort')!, degraded: d.degraded };
    };
    expect(parentOf([be]).parent.knobs).toMatchObject({ cpuIdle: true });
    // Placed there as BE under another policy, LS now (no class label: the default class).
    const stray = pod('was-be', {}, [target('x1', { path: '/berth-besteffort/x1' })]);
    const { parent, degraded } = parentOf([be, stray]);
    expect(parent.knobs).toEqual({});
    expect(parent.neutral).toMatchObject({ cpuIdle: false });
    expect(degraded).toContainEqual({ feature: 'be-parent', reason: expect.stringMatching(/pod ns\/was-be is LS .* under the BE parent \/berth-besteffort/) });
  });

  it('starts BE at the floor before any rate is known', () => {
    const pods = [pod('be', BE, [target('b1')])];
    const d = decide({ node: node({ cpuUsedCores: undefined }), pods, pageSize: 4096 }, DEFAULT_POLICY, initialState());
    expect(d.targets.find((t) => t.path === '/berth/b1')!.knobs.cpuMax).toEqual({ quota: 50_000, period: 100_000 });
  });

  it('manages nothing but neutral values when the policy is disabled', () => {
    const pods = [pod('be', BE, [target('b1', { own: { cpuQuota: 30_000, cpuPeriod: 100_000, memoryLimitBytes: 64 * MiB } })])];
    const d = decide({ node: node(), pods, pageSize: 4096 }, policySchema.parse({ enabled: false }), { ...initialState(), allowanceCores: 0.7 });
    const be = d.targets.find((t) => t.path === '/berth/b1')!;
    expect(be.knobs).toEqual({});
    expect(be.neutral).toMatchObject({ cpuIdle: false, cpuMax: { quota: 30_000, period: 100_000 }, memoryMax: 64 * MiB });
    expect(d.next.allowanceCores).toBeUndefined();
    expect(d.pods[0]!.cls).toBe('BE');
  });

  it('takes the neutral cpuset and shares from the pod’s own spec', () => {
    const n = neutralKnobs(target('x', { own: { cpusetCpus: '1', cpuShares: 512 } }), node());
    expect(n.cpusetCpus).toBe('1');
    expect(n.cpuShares).toBe(512);
  });
});
