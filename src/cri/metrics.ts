/**
 * CRI ListMetricDescriptors / ListPodSandboxMetrics / StreamPodSandboxMetrics from the SLI
 * caches (never from the kernel per call). The container series are the Prometheus exporter's
 * (src/sli/container-series.ts), shaped as CRI-O and containerd 2.x send them: label keys
 * id, name, image (+ the series' own, e.g. interface); the kubelet appends namespace, pod and
 * container itself. Values are uint64: seconds are whole seconds (floor), as both runtimes do.
 * Pod-level metrics (network; the pod cgroup's series when it has one) carry name "POD".
 */
import {
  ContainerMetrics,
  ListMetricDescriptorsResponse,
  ListPodSandboxMetricsResponse,
  Metric,
  MetricDescriptor,
  MetricType,
  PodSandboxMetrics,
  StreamPodSandboxMetricsResponse,
} from '../gen/runtime/v1/api.js';
import { CONTAINER_SERIES, seriesOf, type SeriesDef, type SeriesInput } from '../sli/container-series.js';
import type { PodEntity } from '../sli/view.js';
import type { RuntimeHandlers } from './server.js';

export const CRI_BASE_LABEL_KEYS = ['id', 'name', 'image'] as const;

export function metricDescriptors(defs: SeriesDef[] = CONTAINER_SERIES): MetricDescriptor[] {
  return defs.map((d) => MetricDescriptor.fromPartial({ name: d.name, help: d.help, labelKeys: [...CRI_BASE_LABEL_KEYS, ...d.extraLabels] }));
}

const u64 = (v: number) => BigInt(Math.max(0, Math.floor(v)));

/** The CRI metrics of one cgroup; `base` are the id, name and image label values. */
export function criMetricsOf(x: SeriesInput, base: [string, string, string]): Metric[] {
  const out: Metric[] = [];
  for (const { def, values } of seriesOf(x)) {
    const metricType = def.type === 'counter' ? MetricType.COUNTER : MetricType.GAUGE;
    for (const v of values) {
      out.push(Metric.fromPartial({ name: def.name, timestamp: x.sample.timestampNs, metricType, labelValues: [...base, ...v.extra], value: { value: u64(v.value) } }));
    }
  }
  return out;
}

export function podSandboxMetrics(view: PodEntity[]): PodSandboxMetrics[] {
  return view.map((p) => {
    const podSample = p.sample && p.meta.hostNetwork ? { ...p.sample, network: undefined } : p.sample;
    return PodSandboxMetrics.fromPartial({
      podSandboxId: p.meta.id,
      metrics: podSample ? criMetricsOf({ sample: podSample, leaf: false }, [p.meta.id, 'POD', '']) : [],
      containerMetrics: p.containers.map((c) =>
        ContainerMetrics.fromPartial({
          containerId: c.meta.id,
          metrics: c.sample ? criMetricsOf({ sample: c.sample, wait: c.wait, leaf: true }, [c.meta.id, c.meta.name, c.meta.image]) : [],
        }),
      ),
    });
  });
}

/** Where the handlers read the joined pods/containers view (SliService.view). */
export interface MetricsSource {
  view(): PodEntity[];
}

export function metricsHandlers(src: MetricsSource): RuntimeHandlers {
  return {
    async listMetricDescriptors() {
      return ListMetricDescriptorsResponse.fromPartial({ descriptors: metricDescriptors() });
    },
    async listPodSandboxMetrics() {
      return ListPodSandboxMetricsResponse.fromPartial({ podMetrics: podSandboxMetrics(src.view()) });
    },
    async streamPodSandboxMetrics(_req, _ctx, send) {
      const all = podSandboxMetrics(src.view());
      for (let i = 0; i < all.length; i += 50) send(StreamPodSandboxMetricsResponse.fromPartial({ podSandboxMetrics: all.slice(i, i + 50) }));
    },
  };
}
