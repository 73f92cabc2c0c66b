/**
 * A prom-client metric whose values are produced at scrape time from the collectors' caches
 * (the series come and go with containers, and counters are the kernel's own cumulative
 * values, which prom-client's Counter cannot set). It is registered in a prom-client Registry
 * like any metric; prom-client does the exposition (escaping, formatting).
 */
import { Gauge, type Registry } from 'prom-client';

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
