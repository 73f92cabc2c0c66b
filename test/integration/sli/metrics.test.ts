/**
 * SLI metrics of a real berthd with real pods (runc, real cgroups, CNI): the Prometheus endpoint
 * parsed with the strict exposition parser (test/unit/sli/prom-parse.ts), CRI
 * ListPodSandboxMetrics, and the admin SLI report. CPU numbers are tolerant: 2 shared cores.
 */
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../../src/admin/client.js';
import type { SliReport } from '../../../src/sli/index.js';
import { eventually, startPodEnv, type PodEnv } from '../../helpers/pod-env.js';
import { processCpuNs } from '../../helpers/proc.js';
import { parseExposition, samplesOf, type ParsedFamily, type ParsedSample } from '../../unit/sli/prom-parse.js';

let env: PodEnv;
let admin: AdminClient;
let url: string;
const pods: Record<string, string> = {};
const ctrs: Record<string, string> = {};

const MiB = 1024 * 1024;

beforeAll(async () => {
  env = await startPodEnv({
    config: {
      metrics: { address: '127.0.0.1:0' },
      sli: { cgroupIntervalSeconds: 0.5, nodeIntervalSeconds: 0.5, schedstatIntervalSeconds: 0.5, windowSeconds: 4, thresholds: { cpuThrottledRatio: 0.1 } },
    },
  });
  admin = new AdminClient(env.d.adminSocket);
  const r = await admin.get<SliReport>('/v1/sli');
  expect(r.exporter.listening).toBe(true);
  url = `http://${r.exporter.address}/metrics`;
  const run = async (pod: string, name: string, cmd: string, extra = {}) => {
    pods[pod] ??= await env.runPod(pod);
    ctrs[name] = await env.runContainer(pods[pod]!, name, ['sh', '-c', cmd], extra);
  };
  await run('busy', 'burn', 'while :; do :; done');
  await run('capped', 'capped', 'while :; do :; done', { linux: { resources: { cpuPeriod: 100_000n, cpuQuota: 20_000n } } });
  // awk doubles a string until the 32 MiB limit OOM-kills it; the shell survives and goes again.
  await run('oom', 'eater', 'while :; do awk \'BEGIN { s = "x"; while (1) s = s s }\'; sleep 1; done', {
    linux: { resources: { memoryLimitInBytes: BigInt(32 * MiB), memorySwapLimitInBytes: BigInt(32 * MiB) } },
  });
  await run('idle', 'sleeper', 'sleep 100000');
});

afterAll(async () => {
  await env?.cleanup();
});

async function scrape(): Promise<Map<string, ParsedFamily>> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

const of = (fams: Map<string, ParsedFamily>, name: string, container: string): ParsedSample | undefined => samplesOf(fams, name).find((s) => s.labels.container === container);

/** Rate of a container counter over ~`ms`, per second. */
async function rate(name: string, container: string, ms = 3000): Promise<number> {
  const a = of(await scrape(), name, container);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  const b = of(await scrape(), name, container);
  expect(a, `${name}{container="${container}"}`).toBeDefined();
  return (b!.value - a!.value) / ((Date.now() - t0) / 1000);
}

describe('Prometheus /metrics', () => {
  it('parses strictly with no duplicate series, and has every acceptance series', async () => {
    const fams = await eventually(async () => {
      const f = await scrape();
      const names = new Set(samplesOf(f, 'container_cpu_usage_seconds_total').map((x) => x.labels.container));
      return ['burn', 'capped', 'eater', 'sleeper'].every((n) => names.has(n)) ? f : undefined;
    });
    // node PSI
    const psi = samplesOf(fams, 'berth_node_pressure_stall_seconds_total');
    expect(psi.map((s) => `${s.labels.resource}/${s.labels.kind}`)).toEqual(expect.arrayContaining(['cpu/some', 'memory/some', 'memory/full', 'io/some', 'io/full']));
    // container CPU / memory / throttling series for each running container, with pod labels
    for (const [pod, name] of [
      ['busy', 'burn'],
      ['capped', 'capped'],
      ['oom', 'eater'],
      ['idle', 'sleeper'],
    ]) {
      for (const series of ['container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', 'container_cpu_cfs_throttled_periods_total', 'container_cpu_cfs_throttled_seconds_total']) {
        expect(of(fams, series, name), `${series} of ${name}`).toMatchObject({ labels: { namespace: 'test', pod, container: name, runtime_handler: 'runc', qos_class: 'LS' } });
      }
    }
    // CRI latency histogram, pod start histogram by handler, image pulls
    expect(fams.get('berth_cri_request_duration_seconds')!.type).toBe('histogram');
    const runPod = samplesOf(fams, 'berth_cri_request_duration_seconds_count').find((s) => s.labels.rpc === 'RunPodSandbox');
    expect(runPod).toMatchObject({ labels: { service: 'RuntimeService' } });
    expect(runPod!.value).toBeGreaterThanOrEqual(4);
    const starts = samplesOf(fams, 'berth_pod_start_duration_seconds_count').find((s) => s.labels.runtime_handler === 'runc');
    expect(starts!.value).toBeGreaterThanOrEqual(4);
    expect(samplesOf(fams, 'berth_image_pull_bytes_total')[0]!.value).toBeGreaterThan(0);
    // BE allowance: the family is always declared; it has a value when the QoS engine is connected and deciding
    expect(fams.get('berth_qos_be_allowance_cores')!.type).toBe('gauge');
    if (samplesOf(fams, 'berth_qos_connected')[0]!.value === 1) {
      const allowance = await eventually(async () => samplesOf(await scrape(), 'berth_qos_be_allowance_cores')[0], 15_000, 500);
      expect(allowance.value).toBeGreaterThanOrEqual(0);
    }
  });

  it('a busy-loop container shows the CPU the kernel counted for it', async () => {
    // What the loop gets depends on the other test files running beside it (0.45 of a core
    // once, under the whole suite): compare with the kernel's count for its process instead.
    const st = await env.cri.runtime.containerStatus({ containerId: ctrs.burn!, verbose: true });
    const pid = JSON.parse(st.info.info!).pid as number;
    const cpuSeconds = () => processCpuNs(pid) / 1e9;
    const c0 = cpuSeconds();
    const t0 = Date.now();
    const cores = await rate('container_cpu_usage_seconds_total', 'burn', 4000);
    const truth = (cpuSeconds() - c0) / ((Date.now() - t0) / 1000);
    expect(truth).toBeGreaterThan(0.1);
    // Samples are 0.5 s apart, so the two windows differ by up to that at each end.
    expect(Math.abs(cores - truth)).toBeLessThan(0.25);
    expect(cores).toBeLessThan(1.3);
  });

  it('a quota-limited container shows throttling, and its LS pod is judged degraded while the idle pod is ok', async () => {
    const throttled = await rate('container_cpu_cfs_throttled_periods_total', 'capped');
    expect(throttled).toBeGreaterThan(1); // periods are 100 ms: up to 10 a second
    expect(await rate('container_cpu_usage_seconds_total', 'capped', 2000)).toBeLessThan(0.35);
    const report = await eventually(async () => {
      const r = await admin.get<SliReport>('/v1/sli');
      return r.pods.find((p) => p.name === 'capped')?.verdict?.status === 'degraded' ? r : undefined;
    });
    const capped = report.pods.find((p) => p.name === 'capped')!;
    expect(capped.verdict!.crossed).toContainEqual(expect.objectContaining({ signal: 'cpuThrottledRatio', scope: 'capped', threshold: 0.1 }));
    expect(capped.containers[0]!.signals.cpuThrottledRatio).toBeGreaterThan(0.1);
    expect(report.pods.find((p) => p.name === 'idle')!.verdict).toEqual({ status: 'ok', crossed: [] });
    expect(report.classes.LS!.pods).toBe(4);
    const filtered = await admin.get<SliReport>('/v1/sli?pod=capped');
    expect(filtered.pods.map((p) => p.name)).toEqual(['capped']);
  });

  it('an OOM-killed process increments its container’s OOM series and the node’s', async () => {
    const kills = await eventually(
      async () => {
        const f = await scrape();
        const v = of(f, 'container_oom_events_total', 'eater')?.value ?? 0;
        return v >= 1 ? { v, node: samplesOf(f, 'berth_node_oom_kills_total')[0]!.value } : undefined;
      },
      20_000,
      500,
    );
    // The node's counter comes from its own collector (/proc/vmstat each second), which may read
    // it up to a second after the sampler saw the container's: wait for both.
    const later = await eventually(async () => {
      const f = await scrape();
      const v = of(f, 'container_oom_events_total', 'eater')!.value;
      return v > kills.v && samplesOf(f, 'berth_node_oom_kills_total')[0]!.value > kills.node ? f : undefined;
    }, 20_000, 500);
    expect(samplesOf(later, 'berth_node_oom_kills_total')[0]!.value).toBeGreaterThan(kills.node);
    expect(of(later, 'container_oom_events_total', 'burn')!.value).toBe(0);
  });

  it('node CPU PSI parses and grows under load', async () => {
    const load = await env.runContainer(pods.busy!, 'load', ['sh', '-c', 'for i in 1 2 3; do (while :; do :; done) & done; wait']);
    try {
      const total = async () => samplesOf(await scrape(), 'berth_node_pressure_stall_seconds_total').find((s) => s.labels.resource === 'cpu' && s.labels.kind === 'some')!.value;
      const before = await total();
      await new Promise((r) => setTimeout(r, 2500));
      const after = await total();
      expect(after - before).toBeGreaterThan(0.1); // ≥ 100 ms of stall in 2.5 s with 5 busy loops on 2 cores
      const ratio = samplesOf(await scrape(), 'berth_node_pressure_ratio').find((s) => s.labels.resource === 'cpu' && s.labels.kind === 'some' && s.labels.window === '10s')!;
      expect(ratio.value).toBeGreaterThan(0);
      expect(ratio.value).toBeLessThanOrEqual(1);
    } finally {
      await env.cri.runtime.stopContainer({ containerId: load, timeout: 0n });
    }
  });

  it('node facts come from systeminformation, node CPU and memory from /proc', async () => {
    const info = await eventually(async () => samplesOf(await scrape(), 'berth_node_info')[0], 30_000, 1000);
    expect(Number(info.labels.cores)).toBe(os.cpus().length);
    expect(info.labels.kernel).toBe(os.release());
    const fams = await scrape();
    expect(samplesOf(fams, 'berth_node_cpu_cores')[0]!.value).toBe(os.cpus().length);
    expect(samplesOf(fams, 'berth_node_cpu_utilisation_ratio').map((x) => x.labels.cpu)).toContain('total');
    const avail = samplesOf(fams, 'berth_node_memory_available_bytes')[0]!.value;
    expect(avail).toBeGreaterThan(0);
    expect(avail).toBeLessThanOrEqual(samplesOf(fams, 'berth_node_memory_total_bytes')[0]!.value);
    const r = await admin.get<SliReport>('/v1/sli');
    expect(r.node.info!.cores).toBe(os.cpus().length);
  });

  it('run-queue wait is exported when the kernel keeps it, or marked absent with the reason', async () => {
    const fams = await scrape();
    const feature = samplesOf(fams, 'berth_sli_feature_available').find((s) => s.labels.feature === 'schedstat')!;
    const wait = of(fams, 'berth_container_sched_wait_seconds_total', 'burn');
    if (feature.value === 1) expect(wait!.value).toBeGreaterThanOrEqual(0);
    else {
      expect(wait).toBeUndefined();
      expect(feature.labels.reason).not.toBe('');
    }
  });
});

describe('CRI metrics', () => {
  it('ListPodSandboxMetrics returns the running pods with their containers’ series, matching ListMetricDescriptors', async () => {
    const { descriptors } = await env.cri.runtime.listMetricDescriptors({});
    const keys = new Map(descriptors.map((d) => [d.name, d.labelKeys.length]));
    expect(keys.get('container_cpu_usage_seconds_total')).toBe(3);
    const { podMetrics } = await env.cri.runtime.listPodSandboxMetrics({});
    const byId = new Map(podMetrics.map((p) => [p.podSandboxId, p]));
    for (const id of Object.values(pods)) expect(byId.has(id), id).toBe(true);
    const busy = byId.get(pods.busy!)!;
    const burn = busy.containerMetrics.find((c) => c.containerId === ctrs.burn)!;
    const usage = burn.metrics.find((m) => m.name === 'container_cpu_usage_seconds_total')!;
    expect(usage.labelValues).toEqual([ctrs.burn, 'burn', env.image]);
    expect(usage.value!.value).toBeGreaterThan(0n);
    expect(usage.timestamp).toBeGreaterThan(0n);
    expect(busy.metrics.some((m) => m.name === 'container_network_receive_bytes_total' && m.labelValues[3] === 'eth0')).toBe(true);
    for (const p of podMetrics) {
      for (const m of [...p.metrics, ...p.containerMetrics.flatMap((c) => c.metrics)]) expect(m.labelValues.length, m.name).toBe(keys.get(m.name));
    }
  });
});
