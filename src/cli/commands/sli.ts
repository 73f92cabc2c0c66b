/**
 * `berth sli`: the SLI report from berthd's admin API (GET /v1/sli) — node signals, per
 * co-location class aggregates, per pod signals and verdicts — as tables, or JSON / YAML.
 */
import type { Command } from 'commander';
import { emit } from '../output/format.js';
import { renderTable } from '../output/table.js';
import { formatBytes, formatPercent } from '../output/units.js';
import type { Runner } from '../program.js';

interface Signals {
  cpuCores?: number;
  cpuThrottledRatio?: number;
  memoryWorkingSetBytes?: number;
  memoryLimitRatio?: number;
  oomKills?: number;
  psiAvg10?: { cpu?: number; memory?: number; io?: number };
}

export interface SliDoc {
  generatedAt?: string;
  windowSeconds?: number;
  node?: {
    cpu?: { cores?: number; utilisation?: number };
    memory?: { totalBytes?: number; availableBytes?: number };
    psi?: Record<string, { some?: { avg10?: number } }>;
    missing?: Record<string, string>;
  };
  qos?: { connected?: boolean; beAllowanceCores?: number; beUsedCores?: number };
  classes?: Record<string, { pods: number; containers: number; cpuCores: number; memoryWorkingSetBytes: number; degradedPods: number }>;
  pods?: {
    namespace: string;
    name: string;
    qosClass: string;
    runtimeHandler: string;
    signals: Signals;
    verdict?: { status: string; crossed: { signal: string; scope: string; value: number; threshold: number }[] };
  }[];
  signalsNotEvaluated?: Record<string, string>;
}

const num = (v: number | undefined, digits = 2) => (v === undefined ? '-' : v.toFixed(digits));
const pct = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(1)}%`);

/** The report as text (pure). */
export function sliText(r: SliDoc): string {
  const out: string[] = [];
  out.push(`SLI report ${r.generatedAt ?? ''}${r.windowSeconds ? ` (window ${r.windowSeconds}s)` : ''}`);
  const n = r.node;
  if (n) {
    const mem = n.memory?.totalBytes ? `${formatBytes(n.memory.totalBytes - (n.memory.availableBytes ?? 0))} / ${formatBytes(n.memory.totalBytes)}` : '-';
    const psi = ['cpu', 'memory', 'io'].map((k) => `${k} ${pct(n.psi?.[k]?.some?.avg10)}`).join(', ');
    out.push(`node: CPU ${formatPercent(n.cpu?.utilisation)} of ${n.cpu?.cores ?? '?'} cores, memory ${mem}, PSI some avg10: ${psi}`);
  }
  if (r.qos) out.push(`QoS engine: ${r.qos.connected ? `BE allowance ${num(r.qos.beAllowanceCores)} cores, BE using ${num(r.qos.beUsedCores)}` : 'not connected'}`);
  const classes = Object.entries(r.classes ?? {});
  if (classes.length) {
    out.push('');
    out.push(
      renderTable(classes, [
        { header: 'CLASS', value: ([k]) => k },
        { header: 'PODS', value: ([, c]) => String(c.pods), right: true },
        { header: 'CONTAINERS', value: ([, c]) => String(c.containers), right: true },
        { header: 'CPU', value: ([, c]) => num(c.cpuCores), right: true },
        { header: 'MEMORY', value: ([, c]) => formatBytes(c.memoryWorkingSetBytes), right: true },
        { header: 'DEGRADED', value: ([, c]) => String(c.degradedPods), right: true },
      ]).trimEnd(),
    );
  }
  out.push('');
  const pods = r.pods ?? [];
  out.push(
    pods.length
      ? renderTable(pods, [
          { header: 'POD', value: (p) => `${p.namespace}/${p.name}` },
          { header: 'CLASS', value: (p) => p.qosClass },
          { header: 'HANDLER', value: (p) => p.runtimeHandler || 'default' },
          { header: 'CPU', value: (p) => num(p.signals.cpuCores), right: true },
          { header: 'MEMORY', value: (p) => formatBytes(p.signals.memoryWorkingSetBytes), right: true },
          { header: 'THROTTLED', value: (p) => formatPercent(p.signals.cpuThrottledRatio), right: true },
          { header: 'CPU PSI', value: (p) => pct(p.signals.psiAvg10?.cpu), right: true },
          { header: 'VERDICT', value: (p) => (p.verdict ? (p.verdict.status === 'ok' ? 'ok' : `degraded: ${p.verdict.crossed.map((c) => `${c.scope} ${c.signal} ${c.value} > ${c.threshold}`).join('; ')}`) : '-') },
        ]).trimEnd()
      : 'no pods',
  );
  const notEval = Object.entries(r.signalsNotEvaluated ?? {});
  if (notEval.length) {
    out.push('');
    out.push('not evaluated here:');
    for (const [k, why] of notEval) out.push(`  ${k}: ${why}`);
  }
  return out.join('\n') + '\n';
}

export function registerSli(program: Command, runner: Runner): void {
  program
    .command('sli')
    .description('the SLI report: node and per-pod signals, per-class aggregates, verdicts')
    .option('--pod <name>', 'only this pod')
    .option('-n, --namespace <ns>', 'only pods in this namespace')
    .option('--class <class>', 'only pods of this QoS class')
    .action((o: { pod?: string; namespace?: string; class?: string }, cmd: Command) =>
      runner(cmd, async (ctx) => {
        const q = new URLSearchParams();
        if (o.pod) q.set('pod', o.pod);
        if (o.namespace) q.set('namespace', o.namespace);
        if (o.class) q.set('class', o.class);
        const qs = q.toString();
        const r = await ctx.admin.get<SliDoc>(`/v1/sli${qs ? `?${qs}` : ''}`);
        emit(ctx, r, () => sliText(r));
      }),
    );
}
