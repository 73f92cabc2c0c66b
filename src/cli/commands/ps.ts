/**
 * `berth ps`: pods with their containers — runtime handler, QoS class and tier, state, age,
 * IP — as a tree-shaped table, or JSON / YAML.
 */
import type { Command } from 'commander';
import { PodSandboxState, type ContainerStatus, type PodSandbox } from '../../gen/runtime/v1/api.js';
import type { CliContext } from '../context.js';
import { CONTAINER_KIND, QOS_CLASS, QOS_TIER } from '../labels.js';
import { emit } from '../output/format.js';
import { renderTable } from '../output/table.js';
import { ageOfNs, shortId } from '../output/units.js';
import { containerStateName, listPods } from '../resolve.js';
import type { Runner } from '../program.js';

export interface ContainerRow {
  id: string;
  name: string;
  kind: string;
  state: string;
  exitCode?: number;
  image: string;
  createdAt: string;
  age: string;
}

export interface PodRow {
  id: string;
  namespace: string;
  name: string;
  state: 'Ready' | 'NotReady';
  runtimeHandler: string;
  qosClass: string;
  qosTier: string;
  ip: string;
  createdAt: string;
  age: string;
  containers: ContainerRow[];
}

const iso = (ns: bigint) => (ns > 0n ? new Date(Number(ns / 1_000_000n)).toISOString() : '');

export function containerRow(c: ContainerStatus, now: number): ContainerRow {
  const exited = c.state === 2;
  return {
    id: c.id,
    name: c.metadata?.name ?? '?',
    kind: c.annotations[CONTAINER_KIND] ?? 'app',
    state: containerStateName(c, exited ? c.exitCode : undefined),
    ...(exited ? { exitCode: c.exitCode } : {}),
    image: c.image?.userSpecifiedImage || c.image?.image || c.imageRef,
    createdAt: iso(c.createdAt),
    age: ageOfNs(c.createdAt, now),
  };
}

/** One row per pod (pure); containers oldest first. */
export function podRow(p: PodSandbox, ip: string, containers: ContainerStatus[], now = Date.now()): PodRow {
  return {
    id: p.id,
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    state: p.state === PodSandboxState.SANDBOX_READY ? 'Ready' : 'NotReady',
    runtimeHandler: p.runtimeHandler || 'default',
    qosClass: p.annotations[QOS_CLASS] ?? '',
    qosTier: p.annotations[QOS_TIER] ?? '',
    ip,
    createdAt: iso(p.createdAt),
    age: ageOfNs(p.createdAt, now),
    containers: [...containers].sort((a, b) => Number(a.createdAt - b.createdAt)).map((c) => containerRow(c, now)),
  };
}

interface Line {
  name: string;
  id: string;
  state: string;
  handler: string;
  qos: string;
  ip: string;
  age: string;
  image: string;
}

/** The table: a pod line, then its containers indented under it (pure). */
export function psTable(rows: PodRow[]): string {
  const lines: Line[] = [];
  for (const p of rows) {
    const qos = [p.qosClass, p.qosTier].filter(Boolean).join('/') || '-';
    lines.push({ name: `${p.namespace}/${p.name}`, id: shortId(p.id), state: p.state, handler: p.runtimeHandler, qos, ip: p.ip || '-', age: p.age, image: '' });
    p.containers.forEach((c, i) => {
      const branch = i === p.containers.length - 1 ? '└─' : '├─';
      const kind = c.kind === 'app' ? '' : ` (${c.kind})`;
      lines.push({ name: ` ${branch} ${c.name}${kind}`, id: shortId(c.id), state: c.state, handler: '', qos: '', ip: '', age: c.age, image: c.image });
    });
  }
  if (lines.length === 0) return 'no pods (start one with: berth run -f pod.yaml)\n';
  return renderTable(lines, [
    { header: 'POD / CONTAINER', value: (l) => l.name },
    { header: 'ID', value: (l) => l.id },
    { header: 'STATE', value: (l) => l.state },
    { header: 'HANDLER', value: (l) => l.handler },
    { header: 'QOS', value: (l) => l.qos },
    { header: 'IP', value: (l) => l.ip },
    { header: 'AGE', value: (l) => l.age },
    { header: 'IMAGE', value: (l) => l.image },
  ]);
}

/** Each pod's class as the QoS engine sees it (empty when berthd has no QoS engine). */
async function engineClasses(ctx: CliContext): Promise<Map<string, string>> {
  const st = await ctx.admin.get<{ pods?: { podId: string; cls: string }[] }>('/v1/qos/status').catch(() => undefined);
  return new Map((st?.pods ?? []).map((p) => [p.podId, p.cls]));
}

export async function collectPods(ctx: CliContext, namespace?: string): Promise<PodRow[]> {
  const [all, classes] = await Promise.all([listPods(ctx), engineClasses(ctx)]);
  const pods = all.filter((p) => !namespace || p.metadata?.namespace === namespace);
  const rows = await Promise.all(
    pods.map(async (p) => {
      const s = await ctx.runtime.podSandboxStatus({ podSandboxId: p.id, verbose: false }).catch(() => undefined);
      const row = podRow(p, s?.status?.network?.ip ?? '', s?.containersStatuses ?? []);
      const cls = classes.get(p.id);
      return cls ? { ...row, qosClass: cls } : row;
    }),
  );
  return rows.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`) || a.createdAt.localeCompare(b.createdAt));
}

export function registerPs(program: Command, runner: Runner): void {
  program
    .command('ps')
    .description('list pods and their containers (runtime handler, QoS class, state, age, IP)')
    .option('-n, --namespace <ns>', 'only pods in this namespace')
    .option('-q, --quiet', 'print pod ids only')
    .action((opts: { namespace?: string; quiet?: boolean }, cmd: Command) =>
      runner(cmd, async (ctx) => {
        const rows = await collectPods(ctx, opts.namespace);
        if (opts.quiet) return void ctx.io.stdout.write(rows.map((r) => r.id + '\n').join(''));
        emit(ctx, rows, () => psTable(rows));
      }),
    );
}
