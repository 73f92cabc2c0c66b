/**
 * What the SLI collectors label series with: the ready pods and running containers, with the
 * metadata a Prometheus user filters on. An interface so the bench and tests can feed their own;
 * lifecycleInventory() adapts the lifecycle (configs are parsed once per object).
 */
import type { Lifecycle } from '../runtimes/lifecycle/index.js';
import { containerConfigOf, podConfigOf } from '../runtimes/lifecycle/common.js';

export interface PodMeta {
  id: string;
  namespace: string;
  name: string;
  uid: string;
  /** Runtime handler (runc, crun, kata …). */
  handler: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** True when the pod has a cgroup of its own (the kubelet's cgroup_parent); false: its sample is the pause container's. */
  ownCgroup: boolean;
  /** Shares the node's network namespace (its interface counters are the node's). */
  hostNetwork: boolean;
}

export interface ContainerMeta {
  id: string;
  podId: string;
  name: string;
  image: string;
}

export interface Inventory {
  /** Ready pods. */
  pods(): PodMeta[];
  /** Running containers. */
  containers(): ContainerMeta[];
}

export function lifecycleInventory(lc: Lifecycle): Inventory {
  const pods = new Map<string, PodMeta>();
  const containers = new Map<string, ContainerMeta>();
  return {
    pods() {
      const out: PodMeta[] = [];
      const live = new Set<string>();
      for (const p of lc.pods()) {
        if (p.phase !== 'ready') continue;
        live.add(p.id);
        let m = pods.get(p.id);
        if (!m) {
          const cfg = podConfigOf(p);
          const md = cfg.metadata;
          m = {
            id: p.id,
            namespace: md?.namespace ?? '',
            name: md?.name ?? '',
            uid: md?.uid ?? '',
            handler: p.handler,
            labels: cfg.labels,
            annotations: cfg.annotations,
            ownCgroup: !lc.statsTarget(p).aggregate,
            hostNetwork: p.hostNetwork,
          };
          pods.set(p.id, m);
        }
        out.push(m);
      }
      for (const id of pods.keys()) if (!live.has(id)) pods.delete(id);
      return out;
    },
    containers() {
      const out: ContainerMeta[] = [];
      const live = new Set<string>();
      for (const c of lc.containers()) {
        if (c.phase !== 'running') continue;
        live.add(c.id);
        let m = containers.get(c.id);
        if (!m) {
          m = { id: c.id, podId: c.podId, name: containerConfigOf(c).metadata?.name ?? '', image: c.image.name };
          containers.set(c.id, m);
        }
        out.push(m);
      }
      for (const id of containers.keys()) if (!live.has(id)) containers.delete(id);
      return out;
    },
  };
}
