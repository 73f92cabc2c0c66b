/** ContainerStats / ListContainerStats / PodSandboxStats / ListPodSandboxStats from the sampler's cache. */
import {
  ContainerStats,
  ContainerStatsResponse,
  ListContainerStatsResponse,
  ListPodSandboxStatsResponse,
  PodSandboxStats,
  PodSandboxStatsResponse,
  StreamContainerStatsResponse,
  StreamPodSandboxStatsResponse,
  type ContainerStatsFilter,
  type PodSandboxStatsFilter,
} from '../gen/runtime/v1/api.js';
import type { ContainerRecord, Lifecycle, SandboxRecord } from '../runtimes/lifecycle/index.js';
import { containerConfigOf, podConfigOf } from '../runtimes/lifecycle/common.js';
import type { Sample, StatsSampler } from '../sli/sampler.js';
import { idMatches, labelsMatch } from './filters.js';
import type { RuntimeHandlers } from './server.js';

const u64 = (n: number | undefined) => (n === undefined ? undefined : { value: BigInt(Math.max(0, Math.round(n))) });

function cpuOf(s: Sample | undefined) {
  if (!s?.stats.cpu) return undefined;
  return { timestamp: s.timestampNs, usageCoreNanoSeconds: u64(s.stats.cpu.usageNs), usageNanoCores: u64(s.usageNanoCores ?? 0) };
}

function memoryOf(s: Sample | undefined) {
  const m = s?.stats.memory;
  if (!s || !m) return undefined;
  const limit = typeof m.limitBytes === 'number' && m.limitBytes < 2 ** 62 ? m.limitBytes : undefined;
  return {
    timestamp: s.timestampNs,
    workingSetBytes: u64(m.workingSetBytes),
    availableBytes: limit !== undefined ? u64(limit - m.workingSetBytes) : undefined,
    usageBytes: u64(m.usageBytes),
    rssBytes: u64(m.rssBytes),
    pageFaults: u64(m.pgfault),
    majorPageFaults: u64(m.pgmajfault),
  };
}

export interface StatsDeps {
  lifecycle: Lifecycle;
  sampler: StatsSampler;
  /** Mountpoint of the filesystem holding writable layers. */
  containerFsMountpoint: string;
}

/** A pod without a pod cgroup: its usage is the sum of the pause container and its containers. */
function sumSamples(base: Sample, parts: (Sample | undefined)[]): Sample {
  const all = [base, ...parts.filter((x): x is Sample => x !== undefined)];
  const sum = (f: (x: Sample) => number | undefined) => all.reduce((a, x) => a + (f(x) ?? 0), 0);
  return {
    ...base,
    usageNanoCores: sum((x) => x.usageNanoCores),
    stats: {
      ...base.stats,
      cpu: base.stats.cpu ? { ...base.stats.cpu, usageNs: sum((x) => x.stats.cpu?.usageNs) } : undefined,
      memory: base.stats.memory
        ? {
            ...base.stats.memory,
            usageBytes: sum((x) => x.stats.memory?.usageBytes),
            workingSetBytes: sum((x) => x.stats.memory?.workingSetBytes),
            rssBytes: sum((x) => x.stats.memory?.rssBytes),
            pgfault: sum((x) => x.stats.memory?.pgfault),
            pgmajfault: sum((x) => x.stats.memory?.pgmajfault),
            limitBytes: undefined,
          }
        : undefined,
      pids: base.stats.pids ? { ...base.stats.pids, current: sum((x) => x.stats.pids?.current) } : undefined,
    },
  };
}

async function containerStats(d: StatsDeps, c: ContainerRecord): Promise<ContainerStats> {
  const cfg = containerConfigOf(c);
  const target = { ...d.lifecycle.statsTarget(c), pid: c.phase === 'running' ? c.pid : 0 };
  const s = d.sampler.get(target, 'container');
  const disk = await d.sampler.disk(target);
  return ContainerStats.fromPartial({
    attributes: { id: c.id, metadata: cfg.metadata, labels: cfg.labels, annotations: cfg.annotations },
    cpu: cpuOf(s) ?? { timestamp: BigInt(Date.now()) * 1_000_000n },
    memory: memoryOf(s) ?? { timestamp: BigInt(Date.now()) * 1_000_000n },
    writableLayer: disk
      ? { timestamp: disk.timestampNs, fsId: { mountpoint: d.containerFsMountpoint }, usedBytes: u64(disk.bytes), inodesUsed: u64(disk.inodes) }
      : undefined,
  });
}

async function podStats(d: StatsDeps, p: SandboxRecord): Promise<PodSandboxStats> {
  const cfg = podConfigOf(p);
  const target = d.lifecycle.statsTarget(p);
  const containers = d.lifecycle.containers().filter((c) => c.podId === p.id && c.phase === 'running');
  let s = p.phase === 'ready' ? d.sampler.get(target, 'pod') : undefined;
  if (s && target.aggregate) s = sumSamples(s, containers.map((c) => d.sampler.get(d.lifecycle.statsTarget(c), 'container')));
  const eth0 = s?.network?.find((i) => i.name === 'eth0');
  const iface = (i: NonNullable<typeof eth0>) => ({ name: i.name, rxBytes: u64(i.rxBytes), rxErrors: u64(i.rxErrors), txBytes: u64(i.txBytes), txErrors: u64(i.txErrors) });
  return PodSandboxStats.fromPartial({
    attributes: { id: p.id, metadata: cfg.metadata, labels: cfg.labels, annotations: cfg.annotations },
    linux: {
      cpu: cpuOf(s),
      memory: memoryOf(s),
      network: s?.network
        ? { timestamp: s.timestampNs, defaultInterface: eth0 ? iface(eth0) : undefined, interfaces: s.network.filter((i) => i.name !== 'lo').map(iface) }
        : undefined,
      process: s?.stats.pids ? { timestamp: s.timestampNs, processCount: u64(s.stats.pids.current) } : undefined,
      containers: await Promise.all(containers.map((c) => containerStats(d, c))),
    },
  });
}

function matchContainers(d: StatsDeps, f: ContainerStatsFilter | undefined): ContainerRecord[] {
  return d.lifecycle
    .containers()
    .filter((c) => c.phase === 'running' || c.phase === 'created')
    .filter((c) => idMatches(c.id, f?.id) && idMatches(c.podId, f?.podSandboxId) && labelsMatch(containerConfigOf(c).labels, f?.labelSelector));
}

function matchPods(d: StatsDeps, f: PodSandboxStatsFilter | undefined): SandboxRecord[] {
  return d.lifecycle.pods().filter((p) => p.phase === 'ready' && idMatches(p.id, f?.id) && labelsMatch(podConfigOf(p).labels, f?.labelSelector));
}

export function statsHandlers(d: StatsDeps): RuntimeHandlers {
  return {
    async containerStats(req) {
      return ContainerStatsResponse.fromPartial({ stats: await containerStats(d, d.lifecycle.container(req.containerId)) });
    },
    async listContainerStats(req) {
      return ListContainerStatsResponse.fromPartial({ stats: await Promise.all(matchContainers(d, req.filter).map((c) => containerStats(d, c))) });
    },
    async streamContainerStats(req, _ctx, send) {
      const all = await Promise.all(matchContainers(d, req.filter).map((c) => containerStats(d, c)));
      for (let i = 0; i < all.length; i += 100) send(StreamContainerStatsResponse.fromPartial({ containerStats: all.slice(i, i + 100) }));
    },
    async podSandboxStats(req) {
      return PodSandboxStatsResponse.fromPartial({ stats: await podStats(d, d.lifecycle.pod(req.podSandboxId)) });
    },
    async listPodSandboxStats(req) {
      return ListPodSandboxStatsResponse.fromPartial({ stats: await Promise.all(matchPods(d, req.filter).map((p) => podStats(d, p))) });
    },
    async streamPodSandboxStats(req, _ctx, send) {
      const all = await Promise.all(matchPods(d, req.filter).map((p) => podStats(d, p)));
      for (let i = 0; i < all.length; i += 100) send(StreamPodSandboxStatsResponse.fromPartial({ podSandboxStats: all.slice(i, i + 100) }));
    },
  };
}
