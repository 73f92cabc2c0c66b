import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { metricDescriptors, podSandboxMetrics } from '../../../src/cri/metrics.js';
import { MetricType } from '../../../src/gen/runtime/v1/api.js';
import { registerFamilies, type Scrape } from '../../../src/sli/families.js';
import { buildReport } from '../../../src/sli/report.js';
import { SelfMetrics } from '../../../src/sli/self-metrics.js';
import { DEFAULT_THRESHOLDS } from '../../../src/sli/verdict.js';
import type { NodeSnapshot } from '../../../src/sli/node.js';
import type { PodEntity } from '../../../src/sli/view.js';
import { containerMeta, entity, podMeta, sample } from './fixtures.js';
import { parseExposition, samplesOf } from './prom-parse.js';

const node: NodeSnapshot = {
  timestampMs: 1,
  cpu: { utilisation: 0.5, perCore: [{ cpu: 0, utilisation: 0.4 }, { cpu: 1, utilisation: 0.6 }], secondsTotal: { user: 1, nice: 0, system: 1, idle: 5, iowait: 0, irq: 0, softirq: 0, steal: 0 } },
  memory: { totalBytes: 100, availableBytes: 50 },
  psi: { cpu: { some: { avg10: 12.5, avg60: 1, avg300: 0, totalUs: 3_000_000 } } },
  missing: {},
};

function twoPodsSameName(): PodEntity[] {
  // Two pods with the same namespace/name (different uids), one without a pod cgroup, one on the host network.
  const a = podMeta('a', { name: 'web' });
  const b = podMeta('b', { name: 'web', ownCgroup: false, hostNetwork: true });
  const net = [
    { name: 'lo', rxBytes: 1, rxErrors: 0, txBytes: 1, txErrors: 0 },
    { name: 'eth0', rxBytes: 100, rxErrors: 1, txBytes: 200, txErrors: 0 },
  ];
  return [
    entity(a, 'LS', [{ meta: containerMeta('c1', 'a', 'app'), sample: sample('c1', '/kubepods/a/c1') }], sample('a', '/kubepods/a', { kind: 'pod', network: net })),
    entity(b, 'BE', [
      { meta: containerMeta('c2', 'b', 'app'), sample: sample('c2', '/berth/c2', {}, { cpu: { usageNs: 1e9 }, psi: undefined, memory: undefined, partial: { reason: 'cgroup removed while reading' } }) },
      { meta: containerMeta('c3', 'b', 'starting') },
    ], sample('b', '/berth/b', { kind: 'pod', network: net })),
  ];
}

function scrapeOf(view: PodEntity[]): Scrape {
  const features = { psiCgroup: { available: true }, schedstat: { available: false, reason: 'zeros "quoted"\nnewline' } };
  const self = { cri: {}, podStart: {}, imagePulls: { count: 0, failed: 0, bytes: 0, seconds: 0 } };
  const report = buildReport({ view, node, qosConnected: true, qos: { beAllowanceCores: 1.25, suppressions: 3, evictions: 0 }, thresholds: DEFAULT_THRESHOLDS, windowSeconds: 30, features, exporter: { path: '/metrics', listening: true }, self });
  return { view, node, qos: { beAllowanceCores: 1.25, suppressions: 3, evictions: 0 }, qosConnected: true, report, features, collectors: [{ name: 'cgroups', busySeconds: 0.5 }] };
}

async function render(view: PodEntity[], withSelf = false): Promise<string> {
  const reg = new Registry();
  const s = scrapeOf(view);
  registerFamilies(reg, () => s);
  if (withSelf) {
    const m = new SelfMetrics(reg);
    m.recordCall({ service: 'RuntimeService', rpc: 'RunPodSandbox', durationMs: 120, code: 0 });
    m.recordCall({ service: 'RuntimeService', rpc: 'RunPodSandbox', durationMs: 3, code: 9 });
    m.podReady('p', 'kata', 1_000_000_000n, 2_000_000_000n);
    m.containerStarted('p', 3_500_000_000n);
    m.containerStarted('p', 9_000_000_000n); // only the first container counts
    m.recordPull({ ref: 'busybox', bytes: 1234, durationMs: 2000, ok: true });
    expect(m.summary()).toMatchObject({
      cri: { 'RuntimeService/RunPodSandbox': { count: 2, errors: 1, maxMs: 120 } },
      podStart: { kata: { count: 1, meanSeconds: 2.5 } },
      imagePulls: { count: 1, bytes: 1234, seconds: 2 },
    });
  }
  return reg.metrics();
}

describe('Prometheus exposition (prom-client registry, strict parser)', () => {
  it('parses strictly, has no duplicate series, and labels containers with their pod', async () => {
    const fams = parseExposition(await render(twoPodsSameName(), true));
    const cpu = samplesOf(fams, 'container_cpu_usage_seconds_total');
    expect(fams.get('container_cpu_usage_seconds_total')!.type).toBe('counter');
    expect(cpu.map((s) => [s.labels.pod, s.labels.container, s.labels.id, s.labels.qos_class])).toEqual([
      ['web', '', '/kubepods/a', 'LS'],
      ['web', 'app', '/kubepods/a/c1', 'LS'],
      ['web', 'POD', '/berth/b', 'BE'],
      ['web', 'app', '/berth/c2', 'BE'],
    ]);
    expect(cpu[1]).toMatchObject({ value: 2.5, labels: { namespace: 'ns', image: 'busybox:1', runtime_handler: 'runc' } });
    expect(samplesOf(fams, 'container_cpu_cfs_throttled_periods_total')[1]!.value).toBe(4);
    expect(samplesOf(fams, 'container_cpu_cfs_throttled_seconds_total')[1]!.value).toBe(1.5);
    expect(samplesOf(fams, 'container_memory_working_set_bytes')[1]!.value).toBe(800);
    expect(samplesOf(fams, 'container_oom_events_total')[1]!.value).toBe(2);
    expect(samplesOf(fams, 'berth_container_memory_events_total').filter((s) => s.labels.id === '/kubepods/a/c1').map((s) => `${s.labels.event}=${s.value}`)).toEqual(['low=0', 'high=3', 'max=1', 'oom=2', 'oom_kill=2']);
    expect(samplesOf(fams, 'container_pressure_cpu_waiting_seconds_total')[1]!.value).toBe(2);
  });

  it('a partially read container has only the series that were read; one without a sample has none', async () => {
    const fams = parseExposition(await render(twoPodsSameName()));
    const of = (name: string, id: string) => samplesOf(fams, name).filter((s) => s.labels.id === id);
    expect(of('container_cpu_usage_seconds_total', '/berth/c2')).toHaveLength(1);
    expect(of('container_memory_working_set_bytes', '/berth/c2')).toHaveLength(0);
    expect(of('container_pressure_cpu_waiting_seconds_total', '/berth/c2')).toHaveLength(0);
    expect(samplesOf(fams, 'container_threads').some((s) => s.labels.container === 'starting')).toBe(false);
  });

  it('network series are pod-level, skip lo and host-network pods', async () => {
    const net = samplesOf(parseExposition(await render(twoPodsSameName())), 'container_network_receive_bytes_total');
    expect(net).toEqual([{ name: 'container_network_receive_bytes_total', labels: expect.objectContaining({ id: '/kubepods/a', container: '', interface: 'eth0' }), value: 100, timestampMs: undefined }]);
  });

  it('exports node, QoS, class, verdict, feature and berth series', async () => {
    const fams = parseExposition(await render(twoPodsSameName(), true));
    expect(samplesOf(fams, 'berth_node_pressure_stall_seconds_total')).toEqual([expect.objectContaining({ labels: { resource: 'cpu', kind: 'some' }, value: 3 })]);
    expect(samplesOf(fams, 'berth_node_pressure_ratio').find((s) => s.labels.window === '10s')!.value).toBe(0.125);
    expect(samplesOf(fams, 'berth_node_cpu_utilisation_ratio').map((s) => s.labels.cpu)).toEqual(['total', '0', '1']);
    expect(samplesOf(fams, 'berth_qos_be_allowance_cores')[0]!.value).toBe(1.25);
    expect(samplesOf(fams, 'berth_class_pods').map((s) => `${s.labels.qos_class}=${s.value}`)).toEqual(['LS=1', 'BE=1']);
    expect(samplesOf(fams, 'berth_pod_sli_degraded')).toEqual([expect.objectContaining({ labels: expect.objectContaining({ uid: 'uid-a' }), value: 0 })]); // no window rates yet: ok
    const feature = samplesOf(fams, 'berth_sli_feature_available').find((s) => s.labels.feature === 'schedstat')!;
    expect(feature).toMatchObject({ value: 0, labels: { reason: 'zeros "quoted"\nnewline' } });
    expect(fams.get('berth_cri_request_duration_seconds')!.type).toBe('histogram');
    expect(samplesOf(fams, 'berth_cri_request_duration_seconds_count')[0]).toMatchObject({ labels: { service: 'RuntimeService', rpc: 'RunPodSandbox' }, value: 2 });
    expect(samplesOf(fams, 'berth_cri_request_errors_total')[0]!.labels.code).toBe('FAILED_PRECONDITION');
    expect(samplesOf(fams, 'berth_pod_start_duration_seconds_sum')[0]).toMatchObject({ labels: { runtime_handler: 'kata' }, value: 2.5 });
    expect(samplesOf(fams, 'berth_pod_sandbox_ready_duration_seconds_sum')[0]!.value).toBe(1);
    expect(samplesOf(fams, 'berth_image_pull_bytes_total')[0]!.value).toBe(1234);
  });

  it('an empty node (no pods, no PSI) still renders a valid exposition', async () => {
    const fams = parseExposition(await render([]));
    expect(samplesOf(fams, 'container_cpu_usage_seconds_total')).toEqual([]);
    expect(samplesOf(fams, 'berth_qos_connected')[0]!.value).toBe(1);
  });
});

describe('CRI metrics', () => {
  it('every metric has a descriptor and as many label values as it has label keys; seconds are whole', () => {
    const descriptors = new Map(metricDescriptors().map((d) => [d.name, d]));
    expect(descriptors.get('container_cpu_usage_seconds_total')!.labelKeys).toEqual(['id', 'name', 'image']);
    expect(descriptors.get('container_network_receive_bytes_total')!.labelKeys).toEqual(['id', 'name', 'image', 'interface']);
    const pods = podSandboxMetrics(twoPodsSameName());
    expect(pods.map((p) => p.podSandboxId)).toEqual(['a', 'b']);
    let n = 0;
    for (const p of pods) {
      for (const m of [...p.metrics, ...p.containerMetrics.flatMap((c) => c.metrics)]) {
        const d = descriptors.get(m.name);
        expect(d, m.name).toBeDefined();
        expect(m.labelValues).toHaveLength(d!.labelKeys.length);
        expect(m.timestamp).toBe(1_700_000_000_000_000_000n);
        n++;
      }
    }
    expect(n).toBeGreaterThan(40);
    const c1 = pods[0]!.containerMetrics[0]!;
    expect(c1.containerId).toBe('c1');
    const usage = c1.metrics.find((m) => m.name === 'container_cpu_usage_seconds_total')!;
    expect(usage).toMatchObject({ metricType: MetricType.COUNTER, labelValues: ['c1', 'app', 'busybox:1'], value: { value: 2n } });
    expect(c1.metrics.find((m) => m.name === 'container_memory_working_set_bytes')).toMatchObject({ metricType: MetricType.GAUGE, value: { value: 800n } });
    expect(pods[0]!.metrics.find((m) => m.name === 'container_network_receive_bytes_total')!.labelValues).toEqual(['a', 'POD', '', 'eth0']);
    expect(pods[1]!.metrics.some((m) => m.name.startsWith('container_network'))).toBe(false);
    expect(pods[1]!.containerMetrics.map((c) => [c.containerId, c.metrics.length > 0])).toEqual([
      ['c2', true],
      ['c3', false],
    ]);
  });
});
