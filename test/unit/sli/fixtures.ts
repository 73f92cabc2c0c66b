/** Hand-built samples and views for the SLI unit tests. */
import type { CgroupStats } from '../../../src/cgroups/index.js';
import type { ContainerMeta, PodMeta } from '../../../src/sli/inventory.js';
import type { Sample } from '../../../src/sli/sampler.js';
import type { ContainerEntity, PodEntity } from '../../../src/sli/view.js';
import type { WindowRates } from '../../../src/sli/window.js';

export function stats(over: Partial<CgroupStats> = {}): CgroupStats {
  return {
    path: '/x',
    mode: 'v2',
    timestampMs: 1,
    cpu: { usageNs: 2.5e9, userNs: 2e9, systemNs: 0.5e9, periods: 10, throttledPeriods: 4, throttledNs: 1.5e9 },
    memory: {
      usageBytes: 1000,
      workingSetBytes: 800,
      limitBytes: 1000,
      rssBytes: 500,
      cacheBytes: 200,
      pgfault: 9,
      pgmajfault: 1,
      oomKills: 2,
      events: { low: 0, high: 3, max: 1, oom: 2, oomKill: 2 },
      stat: {},
    },
    pids: { current: 3, max: 'max' },
    psi: { cpu: { some: { avg10: 1, avg60: 0, avg300: 0, totalUs: 2_000_000 }, full: { avg10: 0, avg60: 0, avg300: 0, totalUs: 1_000_000 } } },
    ...over,
  };
}

export function sample(id: string, cgroupPath: string, over: Partial<Sample> = {}, st: Partial<CgroupStats> = {}): Sample {
  return { id, kind: 'container', timestampNs: 1_700_000_000_000_000_000n, cgroupPath, stats: stats({ path: cgroupPath, ...st }), usageNanoCores: 5e8, ...over };
}

export function podMeta(id: string, over: Partial<PodMeta> = {}): PodMeta {
  return { id, namespace: 'ns', name: `pod-${id}`, uid: `uid-${id}`, handler: 'runc', labels: {}, annotations: {}, ownCgroup: true, hostNetwork: false, ...over };
}

export function containerMeta(id: string, podId: string, name = `c-${id}`): ContainerMeta {
  return { id, podId, name, image: 'busybox:1' };
}

export function entity(pod: PodMeta, cls: string, containers: { meta: ContainerMeta; sample?: Sample; rates?: WindowRates }[], podSample?: Sample, podRates?: WindowRates): PodEntity {
  const cs: ContainerEntity[] = containers.map((c) => ({ meta: c.meta, pod, cls, sample: c.sample, rates: c.rates }));
  return { meta: pod, cls, classSource: 'default', sample: podSample, rates: podRates, containers: cs };
}
