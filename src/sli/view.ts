/**
 * One joined picture of the pods and containers for an exporter pass: inventory metadata,
 * co-location class, the latest sample, run-queue wait and window rates. Built once per
 * scrape / report / CRI call from the caches, never from the kernel.
 */
import type { ContainerMeta, PodMeta } from './inventory.js';
import { classOf, type QosSnapshot } from './qos-view.js';
import type { Sample } from './sampler.js';
import type { WaitCounter } from './schedstat.js';
import type { WindowRates } from './window.js';

export interface ContainerEntity {
  meta: ContainerMeta;
  pod: PodMeta;
  cls: string;
  sample?: Sample;
  wait?: WaitCounter;
  rates?: WindowRates;
}

export interface PodEntity {
  meta: PodMeta;
  cls: string;
  classSource: 'qos' | 'pod' | 'default';
  /** The pod cgroup (ownCgroup) or the pause container's. */
  sample?: Sample;
  rates?: WindowRates;
  containers: ContainerEntity[];
}

export interface ViewSources {
  sample(id: string): Sample | undefined;
  wait(id: string): WaitCounter | undefined;
  rates(id: string): WindowRates | undefined;
}

export function joinView(pods: PodMeta[], containers: ContainerMeta[], src: ViewSources, qos: QosSnapshot | undefined): PodEntity[] {
  const byPod = new Map<string, PodEntity>();
  for (const p of pods) {
    const { cls, source } = classOf(p, qos);
    byPod.set(p.id, { meta: p, cls, classSource: source, sample: src.sample(p.id), rates: src.rates(p.id), containers: [] });
  }
  for (const c of containers) {
    const pod = byPod.get(c.podId);
    if (!pod) continue; // a container of a pod not ready (being torn down)
    pod.containers.push({ meta: c, pod: pod.meta, cls: pod.cls, sample: src.sample(c.id), wait: src.wait(c.id), rates: src.rates(c.id) });
  }
  return [...byPod.values()];
}
