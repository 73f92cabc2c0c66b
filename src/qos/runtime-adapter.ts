/**
 * Binds QoS to the pod lifecycle: ready pods and running containers as RuntimePods (cgroup
 * paths, own resources, annotations), container memory from the shared stats sampler, and
 * eviction — stop the container at once, then show `BerthEvicted` and the reason in its status.
 */
import { cgroupPathFromOci } from '../cgroups/index.js';
import { LinuxContainerResources } from '../gen/runtime/v1/api.js';
import { containerConfigOf, podConfigOf } from '../runtimes/lifecycle/common.js';
import type { ContainerRecord, Lifecycle, SandboxRecord } from '../runtimes/lifecycle/index.js';
import { SANDBOX_CPU_SHARES } from '../runtimes/oci/defaults.js';
import type { StatsSampler } from '../sli/sampler.js';
import type { Logger } from '../util/log.js';
import { MEMORY_REQUEST_KEY, parseQuantity, priorityOf } from './classes.js';
import type { QosRuntime, RuntimeContainer, RuntimePod } from './collect.js';
import type { OwnResources } from './types.js';

export const EVICTED_REASON = 'BerthEvicted';

const pos = (v: bigint | undefined): number | undefined => (v !== undefined && v > 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined);

/** A container's own resources from its CRI config (or the last UpdateContainerResources). */
export function ownResources(r: LinuxContainerResources | undefined, annotations: Record<string, string>, podAnnotations: Record<string, string>): OwnResources {
  const own: OwnResources = {};
  if (r) {
    own.cpuQuota = pos(r.cpuQuota);
    own.cpuPeriod = pos(r.cpuPeriod);
    own.cpuShares = pos(r.cpuShares);
    if (r.cpusetCpus) own.cpusetCpus = r.cpusetCpus;
    own.memoryLimitBytes = pos(r.memoryLimitInBytes);
  }
  own.memoryRequestBytes = parseQuantity(annotations[MEMORY_REQUEST_KEY]) ?? parseQuantity(r?.unified?.['memory.min']) ?? parseQuantity(podAnnotations[MEMORY_REQUEST_KEY]);
  for (const k of Object.keys(own) as Array<keyof OwnResources>) if (own[k] === undefined) delete own[k];
  return own;
}

/** Parsed once per record: configs are immutable, resources change only by UpdateContainerResources. */
class ParseCache<T> {
  private readonly map = new Map<string, { keys: unknown[]; value: T }>();
  get(id: string, keys: unknown[], make: () => T): T {
    const hit = this.map.get(id);
    if (hit && hit.keys.length === keys.length && hit.keys.every((k, i) => k === keys[i])) return hit.value;
    const value = make();
    this.map.set(id, { keys, value });
    return value;
  }
  retain(ids: Set<string>): void {
    for (const id of this.map.keys()) if (!ids.has(id)) this.map.delete(id);
  }
}

export class LifecycleQosRuntime implements QosRuntime {
  /** Containers being evicted → the reason to show once their exit is recorded. */
  private readonly evicting = new Map<string, string>();
  private readonly podCache = new ParseCache<Omit<RuntimePod, 'containers'>>();
  private readonly ctrCache = new ParseCache<Omit<RuntimeContainer, 'id'>>();

  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly sampler: StatsSampler | undefined,
    private readonly log: Logger,
  ) {
    // Runs synchronously inside the exit recording, before any status can be read.
    lifecycle.events.on('container-exited', ({ container }) => {
      const message = this.evicting.get(container.id);
      if (message === undefined) return;
      this.evicting.delete(container.id);
      this.markEvicted(container, message);
    });
  }

  private get driver() {
    return this.lifecycle.lc.config.cgroupDriver;
  }

  private path(oci: string): string | undefined {
    try {
      return oci ? cgroupPathFromOci(this.driver, oci) : undefined;
    } catch {
      return undefined;
    }
  }

  pods(): RuntimePod[] {
    const running = new Map<string, ContainerRecord[]>();
    for (const c of this.lifecycle.containers()) {
      if (c.phase !== 'running') continue;
      const list = running.get(c.podId) ?? [];
      list.push(c);
      running.set(c.podId, list);
    }
    const pods = this.lifecycle.pods().filter((p) => p.phase === 'ready');
    const out = pods.map((p) => {
      const cfg = this.podCache.get(p.id, [p.config, p.cgroupsPath], () => this.pod(p));
      const containers = (running.get(p.id) ?? []).map((c) => ({ id: c.id, ...this.ctrCache.get(c.id, [c.config, c.resources, c.cgroupsPath], () => this.container(c, cfg.annotations)) }));
      return { ...cfg, containers };
    });
    this.podCache.retain(new Set(pods.map((p) => p.id)));
    this.ctrCache.retain(new Set([...running.values()].flat().map((c) => c.id)));
    return out;
  }

  qosScopeOf(handler: string): 'container' | 'sandbox' {
    return this.lifecycle.lc.handlers.get(handler)?.qosScope ?? 'container';
  }

  private pod(p: SandboxRecord): Omit<RuntimePod, 'containers'> {
    const cfg = podConfigOf(p);
    const meta = { annotations: cfg.annotations, labels: cfg.labels };
    const qosScope = this.qosScopeOf(p.handler);
    const sandboxOwn: OwnResources = qosScope === 'sandbox' ? ownResources(cfg.linux?.resources, {}, cfg.annotations) : { cpuShares: SANDBOX_CPU_SHARES };
    return {
      id: p.id,
      name: cfg.metadata?.name ?? p.name,
      namespace: cfg.metadata?.namespace ?? '',
      ...meta,
      cgroupParent: cfg.linux?.cgroupParent ?? '',
      handler: p.handler,
      qosScope,
      priority: priorityOf(meta),
      createdAtNs: p.createdAtNs,
      sandboxCgroupPath: this.path(p.cgroupsPath),
      sandboxOwn,
    };
  }

  private container(c: ContainerRecord, podAnnotations: Record<string, string>): Omit<RuntimeContainer, 'id'> {
    const cfg = containerConfigOf(c);
    const res = c.resources ? LinuxContainerResources.fromJSON(c.resources) : cfg.linux?.resources;
    return {
      name: cfg.metadata?.name ?? c.name,
      cgroupPath: this.path(c.cgroupsPath),
      createdAtNs: c.createdAtNs,
      own: ownResources(res, cfg.annotations, podAnnotations),
    };
  }

  containerMemory(containerId: string): { usageBytes: number; workingSetBytes: number } | undefined {
    if (!this.sampler) return undefined;
    let c: ContainerRecord;
    try {
      c = this.lifecycle.container(containerId);
    } catch {
      return undefined;
    }
    const m = this.sampler.get(this.lifecycle.statsTarget(c), 'container')?.stats.memory;
    return m ? { usageBytes: m.usageBytes, workingSetBytes: m.workingSetBytes } : undefined;
  }

  async evict(containerId: string, message: string): Promise<void> {
    const c = this.lifecycle.container(containerId);
    if (c.phase !== 'running') return;
    this.evicting.set(c.id, message);
    try {
      await this.lifecycle.stopContainer(c.id, 0);
    } finally {
      this.settle(c.id);
    }
  }

  /** Stop the pod (its containers, then the sandbox: a VM shuts down); each container that was running says BerthEvicted. */
  async evictPod(podId: string, message: string): Promise<void> {
    const p = this.lifecycle.pod(podId);
    if (p.phase !== 'ready') return;
    const running = this.lifecycle.containers().filter((c) => c.podId === podId && c.phase === 'running');
    for (const c of running) this.evicting.set(c.id, message);
    try {
      await this.lifecycle.stopPodSandbox(podId);
    } finally {
      for (const c of running) this.settle(c.id);
    }
  }

  /** After a stop: the exit listener normally marked the container; if its exit was recorded another way, mark it now. */
  private settle(id: string): void {
    const pending = this.evicting.get(id);
    if (pending === undefined) return;
    this.evicting.delete(id);
    const cur = this.lifecycle.lc.containers.get(id);
    if (cur && cur.phase === 'exited') this.markEvicted(cur, pending);
  }

  private markEvicted(c: ContainerRecord, message: string): void {
    c.reason = EVICTED_REASON;
    c.message = message;
    this.lifecycle.lc.containers.save(c).catch((err: unknown) => this.log.error({ container: c.id, err }, 'cannot persist the eviction reason'));
  }
}
