/**
 * The per-container (and per-pod-cgroup) series, defined once and used by both exporters:
 * Prometheus (float values, labels namespace/pod/container/…) and CRI ListPodSandboxMetrics
 * (uint64 values, label keys id/name/image as CRI-O sends them; the kubelet adds namespace,
 * pod and container itself). Names are cAdvisor's where cAdvisor has the series, so existing
 * kubelet dashboards work; berth's own series carry the `berth_` prefix. A value the kernel
 * does not provide (no CFS quota, v1 memory events, PSI, schedstat) yields no series.
 */
import type { Pressure } from '../cgroups/index.js';
import type { Sample } from './sampler.js';
import type { WaitCounter } from './schedstat.js';

export type SeriesType = 'counter' | 'gauge';

export interface SeriesInput {
  sample: Sample;
  wait?: WaitCounter;
  /** A container's own cgroup (true) or a pod-level one (false). */
  leaf: boolean;
}

/** One value; `extra` holds the values of the def's extraLabels, in order. */
export interface SeriesValue {
  extra: string[];
  value: number;
}

export interface SeriesDef {
  name: string;
  help: string;
  type: SeriesType;
  extraLabels: string[];
  /** Emitted for containers and pod cgroups, or for pods only (network). */
  scope: 'both' | 'pod';
  values(x: SeriesInput): SeriesValue[];
}

const one = (v: number | undefined): SeriesValue[] => (v === undefined || !Number.isFinite(v) ? [] : [{ extra: [], value: v }]);
const sec = (ns: number | undefined) => (ns === undefined ? undefined : ns / 1e9);
const lim = (v: number | 'max' | undefined) => (v === undefined ? undefined : v === 'max' ? 0 : v);

function simple(name: string, help: string, type: SeriesType, get: (x: SeriesInput) => number | undefined, scope: 'both' | 'pod' = 'both'): SeriesDef {
  return { name, help, type, extraLabels: [], scope, values: (x) => one(get(x)) };
}

function pressure(resource: 'cpu' | 'memory' | 'io', get: (s: Sample) => Pressure | undefined): SeriesDef[] {
  const us = (v: number | undefined) => (v === undefined ? undefined : v / 1e6);
  return [
    simple(`container_pressure_${resource}_waiting_seconds_total`, `Total time duration tasks in the container have waited due to ${resource} congestion (PSI some).`, 'counter', (x) => us(get(x.sample)?.some.totalUs)),
    simple(`container_pressure_${resource}_stalled_seconds_total`, `Total time duration no tasks in the container could make progress due to ${resource} congestion (PSI full).`, 'counter', (x) => us(get(x.sample)?.full?.totalUs)),
  ];
}

const EVENTS = [
  ['low', 'low'],
  ['high', 'high'],
  ['max', 'max'],
  ['oom', 'oom'],
  ['oom_kill', 'oomKill'],
] as const;

export const CONTAINER_SERIES: SeriesDef[] = [
  simple('container_cpu_usage_seconds_total', 'Cumulative cpu time consumed in seconds.', 'counter', (x) => sec(x.sample.stats.cpu?.usageNs)),
  simple('container_cpu_user_seconds_total', 'Cumulative user cpu time consumed in seconds.', 'counter', (x) => sec(x.sample.stats.cpu?.userNs)),
  simple('container_cpu_system_seconds_total', 'Cumulative system cpu time consumed in seconds.', 'counter', (x) => sec(x.sample.stats.cpu?.systemNs)),
  simple('container_cpu_cfs_periods_total', 'Number of elapsed enforcement period intervals.', 'counter', (x) => x.sample.stats.cpu?.periods),
  simple('container_cpu_cfs_throttled_periods_total', 'Number of throttled period intervals.', 'counter', (x) => x.sample.stats.cpu?.throttledPeriods),
  simple('container_cpu_cfs_throttled_seconds_total', 'Total time duration the container has been throttled.', 'counter', (x) => sec(x.sample.stats.cpu?.throttledNs)),
  simple('container_memory_working_set_bytes', 'Current working set in bytes.', 'gauge', (x) => x.sample.stats.memory?.workingSetBytes),
  simple('container_memory_usage_bytes', 'Current memory usage in bytes, including all memory regardless of when it was accessed.', 'gauge', (x) => x.sample.stats.memory?.usageBytes),
  simple('container_memory_rss', 'Size of RSS in bytes.', 'gauge', (x) => x.sample.stats.memory?.rssBytes),
  simple('container_memory_cache', 'Number of bytes of page cache memory.', 'gauge', (x) => x.sample.stats.memory?.cacheBytes),
  simple('container_memory_mapped_file', 'Size of memory mapped files in bytes.', 'gauge', (x) => x.sample.stats.memory?.mappedFileBytes),
  simple('container_memory_swap', 'Container swap usage in bytes.', 'gauge', (x) => x.sample.stats.memory?.swapBytes),
  simple('container_memory_max_usage_bytes', 'Maximum memory usage recorded in bytes.', 'gauge', (x) => x.sample.stats.memory?.maxUsageBytes),
  simple('container_memory_failcnt', 'Number of memory usage hits limits.', 'counter', (x) => x.sample.stats.memory?.failcnt),
  {
    name: 'container_memory_failures_total',
    help: 'Cumulative count of memory allocation failures (page faults).',
    type: 'counter',
    extraLabels: ['failure_type', 'scope'],
    scope: 'both',
    values(x) {
      const m = x.sample.stats.memory;
      if (!m) return [];
      // memory.stat counters are hierarchical: a container's cgroup is a leaf (scope
      // "container", what dashboards select), a pod's has children ("hierarchy").
      const scope = x.leaf ? 'container' : 'hierarchy';
      const out: SeriesValue[] = [];
      if (m.pgfault !== undefined) out.push({ extra: ['pgfault', scope], value: m.pgfault });
      if (m.pgmajfault !== undefined) out.push({ extra: ['pgmajfault', scope], value: m.pgmajfault });
      return out;
    },
  },
  simple('container_spec_memory_limit_bytes', 'Memory limit for the container in bytes (0: unlimited).', 'gauge', (x) => lim(x.sample.stats.memory?.limitBytes)),
  simple('container_oom_events_total', 'Count of out of memory events observed for the container (OOM kills in its cgroup).', 'counter', (x) => x.sample.stats.memory?.oomKills),
  {
    name: 'berth_container_memory_events_total',
    help: 'memory.events of the cgroup (cgroup v2): times it hit memory.low, memory.high, memory.max, went OOM, and OOM kills.',
    type: 'counter',
    extraLabels: ['event'],
    scope: 'both',
    values(x) {
      const e = x.sample.stats.memory?.events;
      return e ? EVENTS.map(([label, key]) => ({ extra: [label], value: e[key] })) : [];
    },
  },
  simple('container_threads', 'Number of threads (tasks) running inside the container.', 'gauge', (x) => x.sample.stats.pids?.current),
  simple('container_threads_max', 'Maximum number of tasks allowed inside the container (0: unlimited).', 'gauge', (x) => lim(x.sample.stats.pids?.max)),
  ...pressure('cpu', (s) => s.stats.psi?.cpu),
  ...pressure('memory', (s) => s.stats.psi?.memory),
  ...pressure('io', (s) => s.stats.psi?.io),
  simple(
    'berth_container_sched_wait_seconds_total',
    'Time the container’s threads spent runnable but waiting for a CPU (run-queue delay from /proc/<tid>/schedstat), summed over threads.',
    'counter',
    (x) => sec(x.wait?.totalNs),
  ),
  ...(
    [
      ['receive', 'bytes', 'rxBytes', 'Cumulative count of bytes received'],
      ['receive', 'errors', 'rxErrors', 'Cumulative count of errors encountered while receiving'],
      ['transmit', 'bytes', 'txBytes', 'Cumulative count of bytes transmitted'],
      ['transmit', 'errors', 'txErrors', 'Cumulative count of errors encountered while transmitting'],
    ] as const
  ).map(
    ([dir, what, key, help]): SeriesDef => ({
      name: `container_network_${dir}_${what}_total`,
      help: `${help}.`,
      type: 'counter',
      extraLabels: ['interface'],
      scope: 'pod',
      values: (x) => (x.sample.network ?? []).filter((i) => i.name !== 'lo').map((i) => ({ extra: [i.name], value: i[key] })),
    }),
  ),
];

/** The series of one cgroup: each def's values (defs of the other scope skipped). */
export function seriesOf(x: SeriesInput, defs: SeriesDef[] = CONTAINER_SERIES): { def: SeriesDef; values: SeriesValue[] }[] {
  const out: { def: SeriesDef; values: SeriesValue[] }[] = [];
  for (const def of defs) {
    if (def.scope === 'pod' && x.leaf) continue;
    const values = def.values(x);
    if (values.length) out.push({ def, values });
  }
  return out;
}
