/**
 * The collector: the I/O half of a step. It asks the runtime for its pods, reads what the
 * decisions need (node CPU time, memory and PSI from /proc; per-cgroup CPU time and PSI
 * through src/cgroups; container memory from the shared stats sampler when it has a sample)
 * and turns rates into the plain views strategies take.
 */
import { CgroupStatsReader, defaultMaxOpen, readNodePressure, type CgroupManager, type KnobName } from '../cgroups/index.js';
import type { DecideInput } from './decide.js';
import { pressurePercent } from './math/psi.js';
import { coresBetween, nodeReader, type CpuTimes, type NodeReader } from './node-stats.js';
import type { NodeView, OwnResources, PodView, TargetUsage, TargetView } from './types.js';
import { CpuSlicer } from '../util/yield.js';

export interface RuntimeContainer {
  id: string;
  name: string;
  /** Cgroup path (as src/cgroups addresses it); undefined when it cannot be derived. */
  cgroupPath?: string;
  createdAtNs: string;
  own: OwnResources;
}

export interface RuntimePod {
  id: string;
  name: string;
  namespace: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  cgroupParent: string;
  handler: string;
  qosScope: 'container' | 'sandbox';
  priority: number;
  createdAtNs: string;
  sandboxCgroupPath?: string;
  sandboxOwn: OwnResources;
  containers: RuntimeContainer[];
}

/** What QoS needs from the pod lifecycle (runtime-adapter.ts binds it to the Lifecycle). */
export interface QosRuntime {
  /** Ready pods with their running containers. */
  pods(): RuntimePod[];
  /** The shared sampler's latest memory reading of a container, if it has one. */
  containerMemory?(containerId: string): { usageBytes: number; workingSetBytes: number } | undefined;
  /** Kill a container and record BerthEvicted with `message` as its status reason. */
  evict(containerId: string, message: string): Promise<void>;
  /** Stop a whole pod (a VM pod: the VM holds its memory), recording BerthEvicted with `message` on each of its containers. */
  evictPod?(podId: string, message: string): Promise<void>;
  /** Where a runtime handler's pods take QoS knobs: their containers, or (VMs) the sandbox. */
  qosScopeOf?(handler: string): 'container' | 'sandbox';
}

/** The knobs whose availability decisions need to know. */
const KNOBS_USED: KnobName[] = ['cpuIdle', 'cpuShares', 'cpuMax', 'cpuBurst', 'cpusetCpus', 'memoryMax', 'memoryHigh', 'memoryLow', 'memoryMin', 'memorySoftLimit', 'blkioWeight', 'cgroupPriority', 'cpuBvtWarpNs'];

interface Prev {
  usageNs?: number;
  psiUs?: number;
  throttledPeriods?: number;
  atMs: number;
}

export class Collector {
  private prevNode?: { cpu?: CpuTimes; psiUs?: number; atMs: number };
  private readonly prev = new Map<string, Prev>();
  private readonly unsupported: NodeView['unsupported'] = {};
  private readonly cgroupPsi: boolean;
  private readonly stats: CgroupStatsReader;

  constructor(
    private readonly cg: CgroupManager,
    private readonly runtime: QosRuntime,
    private readonly node: NodeReader = nodeReader(),
    private readonly procRoot = '/proc',
    private readonly slicer = new CpuSlicer(0),
  ) {
    for (const k of KNOBS_USED) {
      const s = cg.supports(k);
      if (!s.supported) this.unsupported[k] = s.reason;
    }
    this.cgroupPsi = cg.feature('psi.cgroup').available;
    // Half the budget one stats reader may keep open (the executor's knob files take the other half).
    this.stats = new CgroupStatsReader(cg.system, { psi: this.cgroupPsi, maxOpen: Math.max(32, Math.floor(defaultMaxOpen() / 2)) });
  }

  /** Close the descriptors kept open between steps. */
  close(): void {
    this.stats.close();
  }

  /** Knobs this host lacks, with reasons. */
  get unsupportedKnobs(): NodeView['unsupported'] {
    return this.unsupported;
  }

  /**
   * Read everything a step decides on. Yields to the event loop after each pod: the reads are
   * synchronous (cheap one by one, see src/cgroups/fsio.ts), and a node's worth of them in one
   * block held CRI calls back for the whole of it (tens of ms at 20 pods).
   */
  async collect(): Promise<DecideInput> {
    const now = Date.now();
    const online = this.node.onlineCpus();
    const cpu = this.node.cpuTimes();
    const mem = this.node.meminfo();
    const psiUs = readNodePressure(this.procRoot).cpu?.some.totalUs;
    const prevNode = this.prevNode;
    const node: NodeView = {
      mode: this.cg.mode,
      onlineCpus: online,
      cpuCapacityCores: online.length,
      cpuUsedCores: prevNode?.cpu && cpu ? coresBetween(prevNode.cpu, cpu, online.length) : undefined,
      memTotalBytes: mem?.totalBytes ?? 0,
      memUsedBytes: mem ? mem.totalBytes - mem.availableBytes : 0,
      cpuPressurePct: prevNode ? pressurePercent(prevNode.psiUs, psiUs, now - prevNode.atMs) : undefined,
      periodMs: prevNode ? now - prevNode.atMs : undefined,
      unsupported: this.unsupported,
      cgroupPsi: this.cgroupPsi,
      burstCappedAtQuota: true,
    };
    this.prevNode = { cpu, psiUs, atMs: now };
    const seen = new Set<string>();
    const pods: PodView[] = [];
    for (const p of this.runtime.pods()) pods.push(await this.podView(p, seen));
    for (const path of this.prev.keys()) {
      if (seen.has(path)) continue;
      this.prev.delete(path);
      this.stats.forget(path);
    }
    this.stats.sweep();
    return { node, pods, pageSize: this.cg.system.pageSize };
  }

  /** One pod's view; the slicer may pause after each cgroup read. */
  private async podView(p: RuntimePod, seen: Set<string>): Promise<PodView> {
    const vm = p.qosScope === 'sandbox';
    const sandbox: TargetView | undefined = p.sandboxCgroupPath
      ? this.target('sandbox', p.id, p.name, p.sandboxCgroupPath, p.sandboxOwn, vm, p.createdAtNs, seen)
      : undefined;
    await this.slicer.pause();
    const containers: TargetView[] = [];
    for (const c of p.containers) {
      if (c.cgroupPath === undefined) continue;
      containers.push(this.target('container', c.id, c.name, c.cgroupPath, c.own, !vm, c.createdAtNs, seen));
      await this.slicer.pause();
    }
    return {
      id: p.id,
      name: p.name,
      namespace: p.namespace,
      annotations: p.annotations,
      labels: p.labels,
      cgroupParent: p.cgroupParent,
      handler: p.handler,
      qosScope: p.qosScope,
      priority: p.priority,
      createdAtNs: p.createdAtNs,
      sandbox,
      containers,
    };
  }

  private target(kind: 'container' | 'sandbox', id: string, name: string, path: string, own: OwnResources, primary: boolean, createdAtNs: string, seen: Set<string>): TargetView {
    seen.add(path);
    // Each cgroup's own read time: a step's reads are spread over event-loop turns.
    const now = Date.now();
    const sampled = kind === 'container' ? this.runtime.containerMemory?.(id) : undefined;
    // Kept descriptors, lean parsing; the slow-moving parts (limits, OOM counters) are not needed here.
    const stats = this.stats.read(path, { slow: false, memoryStat: sampled === undefined });
    const usage: TargetUsage = {};
    const prev = this.prev.get(path);
    const usageNs = stats?.cpu?.usageNs;
    const psiUs = stats?.psi?.cpu?.some.totalUs;
    if (prev && usageNs !== undefined && prev.usageNs !== undefined && now > prev.atMs) {
      usage.cpuCores = Math.max(0, (usageNs - prev.usageNs) / ((now - prev.atMs) * 1e6));
    }
    const throttledPeriods = stats?.cpu?.throttledPeriods;
    if (prev) {
      usage.cpuPressurePct = pressurePercent(prev.psiUs, psiUs, now - prev.atMs);
      if (throttledPeriods !== undefined && prev.throttledPeriods !== undefined && throttledPeriods > prev.throttledPeriods) usage.throttled = true;
    }
    const memory = sampled ?? (stats?.memory ? { usageBytes: stats.memory.usageBytes, workingSetBytes: stats.memory.workingSetBytes } : undefined);
    if (memory) {
      usage.memoryUsageBytes = memory.usageBytes;
      usage.workingSetBytes = memory.workingSetBytes;
    }
    if (stats) this.prev.set(path, { usageNs, psiUs, throttledPeriods, atMs: now });
    return { kind, id, name, path, own, usage, primary, createdAtNs };
  }
}
