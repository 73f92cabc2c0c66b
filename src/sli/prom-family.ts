/**
 * A prom-client metric whose values are produced at scrape time from the collectors' caches
 * (the series come and go with containers, and counters are the kernel's own cumulative
 * values, which prom-client's Counter cannot set). It is registered in a prom-client Registry
 * like any metric; prom-client does the exposition (escaping, formatting).
 */
import { Gauge, Registry } from 'prom-client';

export interface FamilySample {
  labels: Record<string, string | number>;
  value: number;
  /**
   * The series name with its label set already formatted ('name{a="x"}', values escaped with
   * escapeLabelValue); `labels` is then {}. Used for the many container series, whose label
   * sets are formatted once per cgroup per scrape instead of once per series.
   */
  metricName?: string;
  /** Pass one shared object: prom-client caches formatting per object. */
  sharedLabels?: Record<string, string>;
}

/** Escape a label value as the exposition format wants (backslash, newline, double quote). */
export function escapeLabelValue(v: string): string {
  return /[\\\n"]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : v;
}

/** 'a="x",b="y"' for the given names and values. */
export function formatLabelPairs(names: readonly string[], values: readonly string[]): string {
  let out = '';
  for (let i = 0; i < names.length; i++) out += `${i ? ',' : ''}${names[i]}="${escapeLabelValue(values[i] ?? '')}"`;
  return out;
}

type GetResult = Awaited<ReturnType<Gauge<string>['get']>>;

export class SnapshotFamily extends Gauge<string> {
  constructor(
    registry: Registry,
    name: string,
    help: string,
    private readonly kind: 'counter' | 'gauge',
    labelNames: string[],
    private readonly produce: () => FamilySample[],
  ) {
    super({ name, help, labelNames, registers: [registry] });
  }

  override async get(): Promise<GetResult> {
    const help = (this as unknown as { help: string }).help;
    const name = (this as unknown as { name: string }).name;
    const values = this.produce();
    return { name, help, type: this.kind, values, aggregator: 'sum' } as unknown as GetResult;
  }
}

/** prom-client's value formatting (NaN, ±Inf, else the number). */
export function valueText(v: number): string {
  if (Number.isNaN(v)) return 'Nan';
  if (!Number.isFinite(v)) return v < 0 ? '-Inf' : '+Inf';
  return `${v}`;
}

/** A family that can render its exposition text itself (no per-sample objects). */
export interface TextFamily {
  renderText(): string;
}

const isTextFamily = (m: unknown): m is TextFamily => typeof (m as Partial<TextFamily>)?.renderText === 'function';

/**
 * A Registry that lets TextFamily metrics render their own text: the container families have
 * thousands of samples per scrape, and prom-client's generic formatting (a labels object,
 * formatted and joined per sample) was most of the scrape's CPU. The output is the same text
 * prom-client writes. This overrides prom-client's (untyped) per-metric formatter; if a
 * prom-client version has none, every metric takes the ordinary path and the output is unchanged.
 */
export class SliRegistry extends Registry {
  async getMetricsAsString(metric: unknown): Promise<string> {
    if (isTextFamily(metric)) return metric.renderText();
    const base = (Registry.prototype as unknown as { getMetricsAsString(m: unknown): Promise<string> }).getMetricsAsString;
    return base.call(this, metric);
  }
}

/** Exposition text of one family: HELP, TYPE, then the lines, as prom-client writes them. */
export function familyText(name: string, help: string, type: 'counter' | 'gauge', lines: string): string {
  const esc = (t: string) => t.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return `# HELP ${esc(name)} ${esc(help)}\n# TYPE ${esc(name)} ${type}${lines}`;
}
