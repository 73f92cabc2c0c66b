/**
 * The SLI service: collectors → caches → exporters.
 *
 *   const sli = new SliService({ cg, sampler, inventory, options, log });
 *   sli.attachLifecycle(lifecycle.events);        // pod start latency
 *   observeCalls((ev) => sli.self.recordCall(ev)); // CRI latency and errors
 *   images.observePulls((p) => sli.self.recordPull(p));
 *   await sli.start();                             // node + schedstat collectors, /metrics
 *   sli.report()                                   // JSON for GET /v1/sli
 *   sli.podMetrics()                               // CRI ListPodSandboxMetrics (src/cri/metrics.ts)
 *
 * Collectors, each on its own interval: the stats sampler (container and pod cgroups; shared
 * with CRI stats), the node collector (/proc), the schedstat collector (run-queue wait), node
 * info (systeminformation). Exporters only read their caches.
 */
import { collectDefaultMetrics } from 'prom-client';
import type { CgroupManager } from '../cgroups/index.js';
import type { LifecycleEmitter } from '../runtimes/lifecycle/events.js';
import type { Logger } from '../util/log.js';
import { registerFamilies, type Scrape } from './families.js';
import type { Inventory } from './inventory.js';
import { MetricsServer } from './metrics-server.js';
import { SliRegistry } from './prom-family.js';
import { NodeCollector } from './node.js';
import type { QosView } from './qos-view.js';
import { buildReport, type ExporterState, type FeatureState, type SliReport } from './report.js';
import type { StatsSampler } from './sampler.js';
import { SchedCollector } from './schedstat.js';
import { cpuMark, cpuNsSince } from './kernel-files.js';
import { SelfMetrics } from './self-metrics.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from './verdict.js';
import { joinView, type PodEntity } from './view.js';
import { CounterWindow, pointOf } from './window.js';

export type { SliReport } from './report.js';
export type { QosView, QosSnapshot } from './qos-view.js';
export type { Inventory, PodMeta, ContainerMeta } from './inventory.js';
export { lifecycleInventory } from './inventory.js';

export interface SliOptions {
  metrics: {
    /** Serve Prometheus text at all. */
    enabled: boolean;
    /** host:port (port 0: any free port). */
    address: string;
    path: string;
    /** Also prom-client's default process and Node.js runtime series (berth_nodejs_*, …): off by
     * default, they read /proc/self/fd (large: the collectors keep descriptors open) on every
     * scrape and sample the event loop; berth_process_cpu_seconds_total and friends are always on. */
    processMetrics: boolean;
  };
  sli: {
    nodeIntervalSeconds: number;
    nodeInfoIntervalSeconds: number;
    schedstatIntervalSeconds: number;
    windowSeconds: number;
    thresholds: Thresholds;
  };
}

export const DEFAULT_SLI_OPTIONS: SliOptions = {
  metrics: { enabled: true, address: '127.0.0.1:9464', path: '/metrics', processMetrics: false },
  sli: { nodeIntervalSeconds: 1, nodeInfoIntervalSeconds: 3600, schedstatIntervalSeconds: 5, windowSeconds: 30, thresholds: DEFAULT_THRESHOLDS },
};

export interface SliDeps {
  cg: CgroupManager;
  sampler: StatsSampler;
  inventory: Inventory;
  options?: SliOptions;
  log: Logger;
  /** Test seams. */
  procRoot?: string;
  nodeInfo?: boolean;
}

export interface ReportFilter {
  /** Pod id (prefix), or name. */
  pod?: string;
  namespace?: string;
  qosClass?: string;
}

export class SliService {
  readonly registry = new SliRegistry();
  readonly self: SelfMetrics;
  readonly node: NodeCollector;
  readonly sched: SchedCollector;
  private readonly window: CounterWindow;
  private readonly server: MetricsServer | undefined;
  private readonly opts: SliOptions;
  private qos: QosView | undefined;
  private current: Scrape | undefined;
  private unsubscribe: (() => void) | undefined;
  private renderNs = 0n;

  constructor(private readonly deps: SliDeps) {
    const o = (this.opts = deps.options ?? DEFAULT_SLI_OPTIONS);
    this.self = new SelfMetrics(this.registry);
    this.node = new NodeCollector(deps.log, {
      intervalMs: o.sli.nodeIntervalSeconds * 1000,
      infoIntervalMs: o.sli.nodeInfoIntervalSeconds * 1000,
      procRoot: deps.procRoot,
      info: deps.nodeInfo,
    });
    const containerTargets = function* () {
      for (const s of deps.sampler.all().values()) if (s.kind === 'container') yield { id: s.id, cgroupPath: s.cgroupPath, usageNs: s.stats.cpu?.usageNs };
    };
    this.sched = new SchedCollector(deps.cg, containerTargets, deps.log, { intervalMs: o.sli.schedstatIntervalSeconds * 1000, procRoot: deps.procRoot });
    this.window = new CounterWindow(o.sli.windowSeconds * 1000);
    registerFamilies(this.registry, () => this.current ?? this.scrape());
    if (o.metrics.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'berth_runtime_' });
    if (o.metrics.enabled) this.server = new MetricsServer(() => this.metricsText(), o.metrics.path, deps.log);
  }

  async start(): Promise<void> {
    this.unsubscribe = this.deps.sampler.subscribe((samples) => {
      for (const s of samples.values()) this.window.push(s.id, pointOf(s, this.sched.wait(s.id)?.totalNs));
      if (this.window.size > samples.size) this.window.retain(new Set(samples.keys()));
    });
    this.node.start();
    this.sched.start();
    if (this.server) await this.server.listen(this.opts.metrics.address);
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.node.stop();
    this.sched.stop();
    await this.server?.close();
  }

  /** Connect (or disconnect) the QoS engine. */
  setQosView(v: QosView | undefined): void {
    this.qos = v;
  }

  /** Pod start latency from the lifecycle's events. Returns a function that detaches. */
  attachLifecycle(ev: LifecycleEmitter): () => void {
    const ready = ({ pod, receivedAtNs }: { pod: { id: string; handler: string }; receivedAtNs: bigint }) => this.self.podReady(pod.id, pod.handler, receivedAtNs);
    const started = ({ container }: { container: { podId: string; startedAtNs: string } }) =>
      this.self.containerStarted(container.podId, container.startedAtNs ? BigInt(container.startedAtNs) : undefined);
    const gone = ({ pod }: { pod: { id: string } }) => this.self.podGone(pod.id);
    ev.on('pod-ready', ready);
    ev.on('container-started', started);
    ev.on('pod-stopped', gone);
    ev.on('pod-removed', gone);
    return () => {
      ev.off('pod-ready', ready);
      ev.off('container-started', started);
      ev.off('pod-stopped', gone);
      ev.off('pod-removed', gone);
    };
  }

  exporterState(): ExporterState {
    return this.server?.state() ?? { path: this.opts.metrics.path, listening: false, error: 'metrics.enabled is false' };
  }

  features(): Record<string, FeatureState> {
    const { cg, sampler } = this.deps;
    const f = (x: { available: boolean; reason?: string } | undefined, fallback: string): FeatureState =>
      x ? { available: x.available, ...(x.reason ? { reason: x.reason } : {}) } : { available: false, reason: fallback };
    const nodePsiMissing = this.node.snapshot().missing.psi;
    return {
      psiNode: nodePsiMissing ? { available: false, reason: nodePsiMissing } : f(cg.feature('psi.node'), 'not detected'),
      psiCgroup: sampler.readsPsi ? f(cg.feature('psi.cgroup'), 'not detected') : { available: false, reason: cg.feature('psi.cgroup')?.reason ?? 'per-cgroup PSI not read on this host' },
      schedstat: { ...this.sched.availability },
      memoryEvents: cg.mode === 'v2' ? { available: true } : { available: false, reason: 'memory.events is cgroup v2 only (v1 reports OOM kills from memory.oom_control)' },
    };
  }

  /** The joined pods/containers picture, from the caches. */
  view(): PodEntity[] {
    const { inventory, sampler } = this.deps;
    return joinView(inventory.pods(), inventory.containers(), { sample: (id) => sampler.latest(id), wait: (id) => this.sched.wait(id), rates: (id) => this.window.rates(id) }, this.qosSnapshot());
  }

  private qosSnapshot() {
    try {
      return this.qos?.snapshot();
    } catch (err) {
      this.deps.log.debug({ err }, 'QoS snapshot failed');
      return undefined;
    }
  }

  private scrape(): Scrape {
    const view = this.view();
    const qos = this.qosSnapshot();
    const features = this.features();
    const node = this.node.snapshot();
    const report = buildReport({
      view,
      node,
      qos,
      qosConnected: this.qos !== undefined,
      thresholds: this.opts.sli.thresholds,
      windowSeconds: this.opts.sli.windowSeconds,
      features,
      exporter: this.exporterState(),
      self: this.self.summary(),
    });
    const s = this.deps.sampler;
    const sec = (ns: bigint) => Number(ns) / 1e9;
    const collectors = [
      { name: 'cgroups', busySeconds: sec(s.busyNs) },
      { name: 'node', busySeconds: sec(this.node.busyNs) },
      { name: 'schedstat', busySeconds: sec(this.sched.busyNs) },
      { name: 'scrape', busySeconds: sec(this.renderNs) },
    ];
    return { view, node, qos, qosConnected: this.qos !== undefined, report, features, collectors, openDescriptors: s.openDescriptors + this.sched.openDescriptors + this.node.openDescriptors };
  }

  /** CPU time spent rendering /metrics so far (ns). */
  get scrapeBusyNs(): bigint {
    return this.renderNs;
  }

  /** The Prometheus text exposition of everything. */
  async metricsText(): Promise<string> {
    const started = cpuMark();
    this.current = this.scrape();
    try {
      return await this.registry.metrics();
    } finally {
      this.current = undefined;
      this.renderNs += cpuNsSince(started);
    }
  }

  report(filter: ReportFilter = {}): SliReport {
    const r = this.scrape().report;
    const match = (p: SliReport['pods'][number]) =>
      (!filter.pod || p.id.startsWith(filter.pod) || p.name === filter.pod) &&
      (!filter.namespace || p.namespace === filter.namespace) &&
      (!filter.qosClass || p.qosClass === filter.qosClass);
    return filter.pod || filter.namespace || filter.qosClass ? { ...r, pods: r.pods.filter(match) } : r;
  }
}
