/**
 * The data of one `berth top` frame and how it is sorted and drawn (pure): node CPU, memory
 * and PSI, the BE CPU allowance, and per pod CPU, memory, throttling, PSI, QoS class and
 * runtime handler.
 */
import { pad } from '../output/table.js';
import { formatBytes, formatCores, formatPercent } from '../output/units.js';

export interface NodeFrame {
  cpuBusy?: number;
  cpus?: number;
  memUsedBytes?: number;
  memTotalBytes?: number;
  /** PSI "some" avg10, percent. */
  psi: { cpu?: number; memory?: number; io?: number };
  beAllowanceCores?: number;
  beUsedCores?: number;
  /** Why there is no BE allowance to show (e.g. no QoS engine). */
  beNote?: string;
}

export interface PodFrame {
  id: string;
  name: string;
  namespace: string;
  handler: string;
  qosClass: string;
  state: string;
  cpuNanoCores?: number;
  memoryBytes?: number;
  memoryLimitBytes?: number;
  /** Throttled periods / periods over the SLI window. */
  throttledRatio?: number;
  /** Per-cgroup PSI cpu "some" avg10, percent. */
  cpuPsi?: number;
  containers: number;
}

export type SortKey = 'cpu' | 'memory' | 'name';

export const SORT_KEYS: Record<string, SortKey> = { c: 'cpu', m: 'memory', n: 'name' };

export function sortPods(pods: PodFrame[], key: SortKey): PodFrame[] {
  const byName = (a: PodFrame, b: PodFrame) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`);
  const desc = (f: (p: PodFrame) => number | undefined) => (a: PodFrame, b: PodFrame) => (f(b) ?? -1) - (f(a) ?? -1) || byName(a, b);
  const cmp = key === 'cpu' ? desc((p) => p.cpuNanoCores) : key === 'memory' ? desc((p) => p.memoryBytes) : byName;
  return [...pods].sort(cmp);
}

const psi = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(1)}%`);

function nodeLines(n: NodeFrame, now: Date): string[] {
  const cpu = n.cpuBusy === undefined ? '…' : `${formatPercent(n.cpuBusy)} of ${n.cpus ?? '?'} CPUs`;
  const mem = n.memTotalBytes ? `${formatBytes(n.memUsedBytes)} / ${formatBytes(n.memTotalBytes)} (${formatPercent((n.memUsedBytes ?? 0) / n.memTotalBytes)})` : '-';
  const be =
    n.beAllowanceCores !== undefined
      ? `BE allowance ${n.beAllowanceCores.toFixed(2)} cores${n.beUsedCores !== undefined ? `, BE using ${n.beUsedCores.toFixed(2)}` : ''}`
      : `BE allowance n/a${n.beNote ? ` (${n.beNote})` : ''}`;
  return [
    `berth top — ${now.toTimeString().slice(0, 8)}   node CPU ${cpu}   memory ${mem}`,
    `PSI some avg10: cpu ${psi(n.psi.cpu)}  memory ${psi(n.psi.memory)}  io ${psi(n.psi.io)}   ${be}`,
  ];
}

interface Col {
  header: string;
  width: number;
  right?: boolean;
  value: (p: PodFrame) => string;
}

const COLUMNS: Col[] = [
  { header: 'POD', width: 28, value: (p) => `${p.namespace}/${p.name}` },
  { header: 'QOS', width: 6, value: (p) => p.qosClass || '-' },
  { header: 'HANDLER', width: 9, value: (p) => p.handler },
  { header: 'STATE', width: 8, value: (p) => p.state },
  { header: 'CPU', width: 7, right: true, value: (p) => formatCores(p.cpuNanoCores) },
  { header: 'MEMORY', width: 9, right: true, value: (p) => formatBytes(p.memoryBytes) },
  { header: 'MEM%LIM', width: 7, right: true, value: (p) => (p.memoryLimitBytes && p.memoryBytes !== undefined ? formatPercent(p.memoryBytes / p.memoryLimitBytes) : '-') },
  { header: 'THROTTLED', width: 9, right: true, value: (p) => formatPercent(p.throttledRatio) },
  { header: 'CPU PSI', width: 7, right: true, value: (p) => psi(p.cpuPsi) },
  { header: 'CTRS', width: 4, right: true, value: (p) => String(p.containers) },
];

function row(cells: string[], width: number): string {
  const line = cells.map((c, i) => pad(c.length > COLUMNS[i]!.width && i === 0 ? c.slice(0, COLUMNS[i]!.width - 1) + '…' : c, COLUMNS[i]!.width, COLUMNS[i]!.right)).join(' ');
  return line.slice(0, width);
}

/** The frame's lines for a terminal of `width` × `height` (pure). */
export function renderTop(node: NodeFrame, pods: PodFrame[], sort: SortKey, width: number, height: number, now = new Date(), note?: string): string[] {
  const lines = nodeLines(node, now).map((l) => l.slice(0, width));
  lines.push('');
  const sortedBy = { cpu: 'CPU', memory: 'MEMORY', name: 'POD' }[sort];
  lines.push(`\x1b[7m${row(COLUMNS.map((c) => (c.header === sortedBy ? `${c.header}▼` : c.header)), width)}\x1b[0m`);
  const room = Math.max(0, height - lines.length - 2);
  const sorted = sortPods(pods, sort);
  for (const p of sorted.slice(0, room)) lines.push(row(COLUMNS.map((c) => c.value(p)), width));
  if (sorted.length > room) lines.push(`… ${sorted.length - room} more pods`);
  if (pods.length === 0) lines.push('no pods (start one with: berth run -f pod.yaml)');
  while (lines.length < height - 1) lines.push('');
  lines.push((note ?? 'sort: c cpu  m memory  n name    q quit').slice(0, width));
  return lines;
}
