import { describe, expect, it } from 'vitest';
import { buildReport, cgroupSignals } from '../../../src/sli/report.js';
import { classOf, isBestEffort } from '../../../src/sli/qos-view.js';
import { DEFAULT_THRESHOLDS, verdictOf } from '../../../src/sli/verdict.js';
import type { NodeSnapshot } from '../../../src/sli/node.js';
import { containerMeta, entity, podMeta, sample } from './fixtures.js';

const node: NodeSnapshot = { timestampMs: 1, psi: {}, missing: {} };
const self = { cri: {}, podStart: {}, imagePulls: { count: 0, failed: 0, bytes: 0, seconds: 0 } };
const base = { node, qosConnected: false, thresholds: DEFAULT_THRESHOLDS, windowSeconds: 30, exporter: { path: '/metrics', listening: true }, self, nowMs: 0 };

describe('verdicts', () => {
  it('names every crossing, worst first; equal to the threshold is not a crossing', () => {
    const v = verdictOf(
      [
        { scope: 'pod', signals: { cpuThrottledRatio: 0.25, cpuPressure: 0.5 } },
        { scope: 'web', signals: { oomKills: 1, memoryLimitRatio: 0.5 } },
      ],
      DEFAULT_THRESHOLDS,
    );
    expect(v.status).toBe('degraded');
    expect(v.crossed.map((c) => `${c.scope}:${c.signal}`)).toEqual(['web:oomKills', 'pod:cpuPressure']);
    expect(v.crossed[1]).toEqual({ signal: 'cpuPressure', scope: 'pod', value: 0.5, threshold: 0.1 });
    expect(verdictOf([{ scope: 'pod', signals: { cpuPressure: 0.01 } }], DEFAULT_THRESHOLDS)).toEqual({ status: 'ok', crossed: [] });
  });
});

describe('co-location classes', () => {
  it('come from the QoS engine, then pod labels/annotations, else LS', () => {
    const p = podMeta('a', { annotations: { 'koordinator.sh/qosClass': 'BE' } });
    expect(classOf(p, { podClasses: new Map([['a', 'LSR']]) })).toEqual({ cls: 'LSR', source: 'qos' });
    expect(classOf(p, { podClasses: { b: 'LS' } })).toEqual({ cls: 'BE', source: 'pod' });
    expect(classOf(podMeta('c'), undefined)).toEqual({ cls: 'LS', source: 'default' });
    expect(isBestEffort('be')).toBe(true);
    expect(isBestEffort('LSE')).toBe(false);
  });
});

describe('SLI report', () => {
  it('judges LS pods per cgroup, skips BE pods, aggregates classes and reports QoS', () => {
    const ls = podMeta('ls');
    const be = podMeta('be');
    const throttled = { spanSeconds: 30, cpuCores: 0.2, cpuThrottledRatio: 0.6 };
    const view = [
      entity(ls, 'LS', [{ meta: containerMeta('c1', 'ls', 'web'), sample: sample('c1', '/p/ls/c1'), rates: throttled }], sample('ls', '/p/ls'), { spanSeconds: 30, cpuCores: 0.2 }),
      entity(be, 'BE', [{ meta: containerMeta('c2', 'be', 'batch'), sample: sample('c2', '/p/be/c2'), rates: { spanSeconds: 30, cpuCores: 1.5, cpuThrottledRatio: 0.9 } }]),
      entity(podMeta('idle'), 'LS', [{ meta: containerMeta('c3', 'idle') }]),
    ];
    const r = buildReport({ ...base, view, qos: { beAllowanceCores: 0.5, beUsedCores: 0.25, suppressions: 2, evictions: 1, podClasses: { be: 'BE' } }, qosConnected: true, features: {} });
    const [lsPod, bePod, idle] = r.pods;
    expect(lsPod!.verdict!.status).toBe('degraded');
    expect(lsPod!.verdict!.crossed).toEqual([{ signal: 'cpuThrottledRatio', scope: 'web', value: 0.6, threshold: 0.25 }]);
    expect(lsPod!.containers[0]!.signals).toMatchObject({ cpuCores: 0.2, cpuThrottledRatio: 0.6, memoryWorkingSetBytes: 800, memoryLimitRatio: 0.8, oomKillsTotal: 2 });
    expect(bePod!.verdict).toBeUndefined();
    expect(idle!.verdict).toEqual({ status: 'ok', crossed: [] });
    expect(idle!.containers[0]!.signals).toEqual({});
    expect(r.classes.LS).toMatchObject({ latencySensitive: true, pods: 2, containers: 2, cpuCores: 0.2, degradedPods: 1 });
    expect(r.classes.BE).toMatchObject({ latencySensitive: false, pods: 1, cpuCores: 1.5, degradedPods: 0 });
    expect(r.qos).toEqual({ connected: true, beAllowanceCores: 0.5, beUsedCores: 0.25, suppressions: 2, evictions: 1 });
    expect(r.generatedAt).toBe('1970-01-01T00:00:00.000Z');
  });

  it('a pod without its own cgroup reports its containers: usage summed, ratios the worst', () => {
    const pod = podMeta('agg', { ownCgroup: false });
    const view = [
      entity(pod, 'LS', [
        { meta: containerMeta('a', 'agg'), sample: sample('a', '/berth/a'), rates: { spanSeconds: 30, cpuCores: 1, cpuThrottledRatio: 0.1 } },
        { meta: containerMeta('b', 'agg'), sample: sample('b', '/berth/b'), rates: { spanSeconds: 30, cpuCores: 0.5, cpuThrottledRatio: 0.3 } },
      ], sample('agg', '/berth/agg', { usageNanoCores: 1e6 })),
    ];
    const p = buildReport({ ...base, view, features: {} }).pods[0]!;
    expect(p.podCgroup).toBe('containers');
    expect(p.signals).toMatchObject({ cgroup: '/berth/agg', cpuCores: 1.501, memoryWorkingSetBytes: 2400, cpuThrottledRatio: 0.3, tasks: 9 });
  });

  it('lists the signals a host cannot measure', () => {
    const r = buildReport({
      ...base,
      view: [],
      features: { psiCgroup: { available: false, reason: 'v1' }, schedstat: { available: false, reason: 'zeros' }, memoryEvents: { available: true } },
    });
    expect(r.signalsNotEvaluated).toEqual({ cpuPressure: 'v1', memoryPressure: 'v1', ioPressure: 'v1', schedWaitRatio: 'zeros' });
  });

  it('an unlimited memory limit gives no fill ratio; a partial read is marked', () => {
    const s = sample('c', '/c', {}, { memory: { usageBytes: 5, workingSetBytes: 5, limitBytes: 'max', stat: {} }, partial: { reason: 'cgroup removed while reading' } });
    const sig = cgroupSignals(s, undefined);
    expect(sig.memoryLimitRatio).toBeUndefined();
    expect(sig.cpuCores).toBe(0.5);
    expect(sig.partial).toMatch(/removed/);
  });
});
