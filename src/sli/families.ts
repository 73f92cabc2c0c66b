/**
 * The Prometheus families of the SLI exporter, registered once; each produces its samples at
 * scrape time from a Scrape (the joined view, node snapshot, report) prepared for that scrape.
 * Label sets: container series {namespace, pod, container, image, id, runtime_handler,
 * qos_class} (+ the series' own labels); `id` is the cgroup path, so two pods with equal names
 * never collide. Pod-level series have container="" (the pod's own cgroup) or "POD" (the pause
 * container's cgroup, for pods without a pod cgroup).
 */
import type { Registry } from 'prom-client';
import { CONTAINER_SERIES, type SeriesDef, type SeriesInput } from './container-series.js';
import { CPU_MODES } from './node-parse.js';
import type { NodeSnapshot } from './node.js';
import { familyText, formatLabelPairs, SnapshotFamily, valueText, type FamilySample, type TextFamily } from './prom-family.js';
import type { QosSnapshot } from './qos-view.js';
import type { FeatureState, SliReport } from './report.js';
import type { PodEntity } from './view.js';

export const BASE_LABELS = ['namespace', 'pod', 'container', 'image', 'id', 'runtime_handler', 'qos_class'] as const;

export interface Scrape {
  view: PodEntity[];
  node: NodeSnapshot;
  qos?: QosSnapshot;
  qosConnected: boolean;
  report: SliReport;
  features: Record<string, FeatureState>;
  collectors: { name: string; busySeconds: number }[];
  openDescriptors?: number;
}

type Labels = Record<string, string>;

/** One shared empty object: prom-client caches the formatting of `sharedLabels` per object. */
const NO_LABELS: Labels = Object.freeze({}) as Labels;

export interface CgroupSeries {
  /** Base label values, in BASE_LABELS order. */
  values: string[];
  /** The base labels formatted once: 'namespace="…",pod="…",…'. */
  formatted: string;
  input: SeriesInput;
}

/** Every cgroup of the view with its base labels and series input. */
export function cgroupsOf(view: PodEntity[]): CgroupSeries[] {
  const out: CgroupSeries[] = [];
  const add = (values: string[], input: SeriesInput) => out.push({ values, formatted: formatLabelPairs(BASE_LABELS, values), input });
  for (const p of view) {
    const { namespace, name, handler } = p.meta;
    if (p.sample) {
      const sample = p.meta.hostNetwork ? { ...p.sample, network: undefined } : p.sample;
      add([namespace, name, p.meta.ownCgroup ? '' : 'POD', '', p.sample.cgroupPath, handler, p.cls], { sample, leaf: false });
    }
    for (const c of p.containers) {
      if (!c.sample) continue; // no sample yet, or a container without a readable cgroup: no series
      add([namespace, name, c.meta.name, c.meta.image, c.sample.cgroupPath, handler, p.cls], { sample: c.sample, wait: c.wait, leaf: true });
    }
  }
  return out;
}

/** One container series family: produced per scrape from the joined view; renders its own text in an SliRegistry. */
class ContainerFamily extends SnapshotFamily implements TextFamily {
  constructor(
    reg: Registry,
    private readonly def: SeriesDef,
    private readonly cgroups: () => CgroupSeries[],
  ) {
    super(reg, def.name, def.help, def.type, [...BASE_LABELS, ...def.extraLabels], () => this.samples());
  }

  /** Each value's series name with its formatted label set ('name{…}'). */
  private each(fn: (metricName: string, value: number) => void): void {
    const def = this.def;
    for (const g of this.cgroups()) {
      if (def.scope === 'pod' && g.input.leaf) continue;
      for (const v of def.values(g.input)) {
        const extra = def.extraLabels.length ? `,${formatLabelPairs(def.extraLabels, v.extra)}` : '';
        fn(`${def.name}{${g.formatted}${extra}}`, v.value);
      }
    }
  }

  private samples(): FamilySample[] {
    const out: FamilySample[] = [];
    this.each((metricName, value) => out.push({ metricName, labels: NO_LABELS, sharedLabels: NO_LABELS, value }));
    return out;
  }

  renderText(): string {
    let lines = '';
    this.each((metricName, value) => {
      lines += `\n${metricName} ${valueText(value)}`;
    });
    return familyText(this.def.name, this.def.help, this.def.type, lines);
  }
}

function gauge(reg: Registry, name: string, help: string, labels: string[], produce: () => FamilySample[], kind: 'gauge' | 'counter' = 'gauge'): void {
  new SnapshotFamily(reg, name, help, kind, labels, produce);
}

const opt = (v: number | undefined, labels: Labels = {}): FamilySample[] => (v === undefined || !Number.isFinite(v) ? [] : [{ labels, value: v }]);

function nodeFamilies(reg: Registry, n: () => NodeSnapshot): void {
  gauge(reg, 'berth_node_cpu_utilisation_ratio', 'Busy fraction of CPU time over the node collector interval, per core and in total (cpu="total").', ['cpu'], () => {
    const c = n().cpu;
    if (!c) return [];
    return [...opt(c.utilisation, { cpu: 'total' }), ...c.perCore.flatMap((p) => opt(p.utilisation, { cpu: String(p.cpu) }))];
  });
  gauge(reg, 'berth_node_cpu_seconds_total', 'CPU time of all cores, by mode (/proc/stat).', ['mode'], () => {
    const c = n().cpu;
    return c ? CPU_MODES.map((mode) => ({ labels: { mode }, value: c.secondsTotal[mode] })) : [];
  }, 'counter');
  gauge(reg, 'berth_node_cpu_cores', 'Online logical CPUs.', [], () => opt(n().cpu?.perCore.length));
  const mem: [string, string, (m: NonNullable<NodeSnapshot['memory']>) => number | undefined][] = [
    ['berth_node_memory_total_bytes', 'MemTotal.', (m) => m.totalBytes],
    ['berth_node_memory_available_bytes', 'MemAvailable: memory available for new work without swapping.', (m) => m.availableBytes],
    ['berth_node_memory_free_bytes', 'MemFree.', (m) => m.freeBytes],
    ['berth_node_memory_page_cache_bytes', 'Page cache (Cached).', (m) => m.pageCacheBytes],
    ['berth_node_memory_buffers_bytes', 'Buffers.', (m) => m.buffersBytes],
    ['berth_node_swap_total_bytes', 'SwapTotal.', (m) => m.swapTotalBytes],
    ['berth_node_swap_free_bytes', 'SwapFree.', (m) => m.swapFreeBytes],
  ];
  for (const [name, help, get] of mem) gauge(reg, name, help, [], () => (n().memory ? opt(get(n().memory!)) : []));
  const psiLines = () => {
    const out: { resource: string; kind: string; line: { avg10: number; avg60: number; avg300: number; totalUs: number } }[] = [];
    for (const [resource, p] of Object.entries(n().psi)) {
      if (!p) continue;
      out.push({ resource, kind: 'some', line: p.some });
      if (p.full) out.push({ resource, kind: 'full', line: p.full });
    }
    return out;
  };
  gauge(reg, 'berth_node_pressure_stall_seconds_total', 'Node PSI: total time some/all tasks stalled on cpu, memory or io (/proc/pressure).', ['resource', 'kind'], () =>
    psiLines().map((l) => ({ labels: { resource: l.resource, kind: l.kind }, value: l.line.totalUs / 1e6 })),
  'counter');
  gauge(reg, 'berth_node_pressure_ratio', 'Node PSI averages over 10 s, 60 s and 300 s, as a fraction of wall time.', ['resource', 'kind', 'window'], () =>
    psiLines().flatMap((l) =>
      (
        [
          ['10s', l.line.avg10],
          ['60s', l.line.avg60],
          ['300s', l.line.avg300],
        ] as const
      ).map(([window, v]) => ({ labels: { resource: l.resource, kind: l.kind, window }, value: Math.round(v * 1e4) / 1e6 })),
    ),
  );
  gauge(reg, 'berth_node_load1', '1-minute load average.', [], () => opt(n().load?.load1));
  gauge(reg, 'berth_node_load5', '5-minute load average.', [], () => opt(n().load?.load5));
  gauge(reg, 'berth_node_load15', '15-minute load average.', [], () => opt(n().load?.load15));
  gauge(reg, 'berth_node_context_switches_total', 'Context switches (/proc/stat ctxt).', [], () => opt(n().contextSwitches), 'counter');
  const byReclaimer = (t: Record<string, number> | undefined) => Object.entries(t ?? {}).map(([reclaimer, value]) => ({ labels: { reclaimer }, value }));
  gauge(reg, 'berth_node_memory_pages_scanned_total', 'Pages scanned by reclaim, by reclaimer (/proc/vmstat pgscan_*).', ['reclaimer'], () => byReclaimer(n().vm?.pgscan), 'counter');
  gauge(reg, 'berth_node_memory_pages_reclaimed_total', 'Pages reclaimed, by reclaimer (/proc/vmstat pgsteal_*).', ['reclaimer'], () => byReclaimer(n().vm?.pgsteal), 'counter');
  gauge(reg, 'berth_node_memory_allocation_stalls_total', 'Allocations that entered direct reclaim (/proc/vmstat allocstall_*).', [], () => opt(n().vm?.allocstall), 'counter');
  gauge(reg, 'berth_node_memory_compaction_stalls_total', 'Allocations that stalled for compaction (/proc/vmstat compact_stall).', [], () => opt(n().vm?.compactStall), 'counter');
  gauge(reg, 'berth_node_oom_kills_total', 'Processes killed by the OOM killer (/proc/vmstat oom_kill).', [], () => opt(n().vm?.oomKill), 'counter');
  gauge(reg, 'berth_node_major_page_faults_total', 'Major page faults (/proc/vmstat pgmajfault).', [], () => opt(n().vm?.pgmajfault), 'counter');
  gauge(reg, 'berth_node_info', 'Node facts from systeminformation (value 1).', ['cpu_model', 'cores', 'os', 'kernel', 'arch'], () => {
    const i = n().info;
    return i ? [{ labels: { cpu_model: i.cpuModel, cores: String(i.cores), os: i.os, kernel: i.kernel, arch: i.arch }, value: 1 }] : [];
  });
}

function sliFamilies(reg: Registry, s: () => Scrape): void {
  gauge(reg, 'berth_sli_feature_available', 'Whether a kernel feature the SLI collectors use is available (1) or not (0); reason says why.', ['feature', 'reason'], () =>
    Object.entries(s().features).map(([feature, f]) => ({ labels: { feature, reason: f.reason ?? '' }, value: f.available ? 1 : 0 })),
  );
  gauge(reg, 'berth_sli_collector_cpu_seconds_total', 'CPU time the SLI collectors used reading and computing, by collector (scrape: rendering /metrics).', ['collector'], () =>
    s().collectors.map((c) => ({ labels: { collector: c.name }, value: c.busySeconds })),
  'counter');
  const mem = () => process.memoryUsage();
  gauge(reg, 'berth_process_cpu_seconds_total', 'CPU time used by berthd (user and system).', ['mode'], () => {
    const u = process.cpuUsage();
    return [
      { labels: { mode: 'user' }, value: u.user / 1e6 },
      { labels: { mode: 'system' }, value: u.system / 1e6 },
    ];
  }, 'counter');
  gauge(reg, 'berth_process_resident_memory_bytes', 'Resident memory of berthd.', [], () => [{ labels: {}, value: mem().rss }]);
  gauge(reg, 'berth_process_heap_used_bytes', 'V8 heap in use by berthd.', [], () => [{ labels: {}, value: mem().heapUsed }]);
  gauge(reg, 'berth_sli_open_descriptors', 'Kernel files the SLI collectors keep open for cheap re-reads.', [], () => opt(s().openDescriptors));
  gauge(reg, 'berth_qos_connected', 'Whether a QoS engine feeds the qos series (1) or not (0).', [], () => [{ labels: {}, value: s().qosConnected ? 1 : 0 }]);
  gauge(reg, 'berth_qos_be_allowance_cores', 'CPU the best-effort class may use now, in cores (from the QoS engine).', [], () => opt(s().qos?.beAllowanceCores));
  gauge(reg, 'berth_qos_be_used_cores', 'CPU the best-effort class uses now, in cores (from the QoS engine).', [], () => opt(s().qos?.beUsedCores));
  gauge(reg, 'berth_qos_suppressions_total', 'Suppression actions the QoS engine took on best-effort pods.', [], () => opt(s().qos?.suppressions), 'counter');
  gauge(reg, 'berth_qos_evictions_total', 'Best-effort pods the QoS engine evicted.', [], () => opt(s().qos?.evictions), 'counter');
  const classes = () => Object.entries(s().report.classes);
  gauge(reg, 'berth_class_pods', 'Ready pods per co-location class.', ['qos_class'], () => classes().map(([qos_class, c]) => ({ labels: { qos_class }, value: c.pods })));
  gauge(reg, 'berth_class_containers', 'Running containers per co-location class.', ['qos_class'], () => classes().map(([qos_class, c]) => ({ labels: { qos_class }, value: c.containers })));
  gauge(reg, 'berth_class_cpu_usage_cores', 'CPU used by the class’s containers over the SLI window, in cores.', ['qos_class'], () => classes().map(([qos_class, c]) => ({ labels: { qos_class }, value: c.cpuCores })));
  gauge(reg, 'berth_class_memory_working_set_bytes', 'Working set of the class’s containers.', ['qos_class'], () => classes().map(([qos_class, c]) => ({ labels: { qos_class }, value: c.memoryWorkingSetBytes })));
  gauge(reg, 'berth_class_degraded_pods', 'Latency-sensitive pods of the class whose SLI verdict is degraded.', ['qos_class'], () => classes().map(([qos_class, c]) => ({ labels: { qos_class }, value: c.degradedPods })));
  gauge(reg, 'berth_pod_sli_degraded', 'SLI verdict of each latency-sensitive pod: 1 degraded, 0 ok.', ['namespace', 'pod', 'uid', 'runtime_handler', 'qos_class'], () =>
    s().report.pods.flatMap((p) =>
      p.verdict ? [{ labels: { namespace: p.namespace, pod: p.name, uid: p.uid, runtime_handler: p.runtimeHandler, qos_class: p.qosClass }, value: p.verdict.status === 'degraded' ? 1 : 0 }] : [],
    ),
  );
}

/** Register every snapshot family in `reg`; `scrape()` returns the current scrape's data. */
export function registerFamilies(reg: Registry, scrape: () => Scrape): void {
  let cached: { view: PodEntity[]; cgroups: CgroupSeries[] } | undefined;
  const cgroups = () => {
    const view = scrape().view;
    if (cached?.view !== view) cached = { view, cgroups: cgroupsOf(view) };
    return cached.cgroups;
  };
  for (const def of CONTAINER_SERIES) new ContainerFamily(reg, def, cgroups);
  nodeFamilies(reg, () => scrape().node);
  sliFamilies(reg, scrape);
}
