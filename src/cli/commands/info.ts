/**
 * `berth info`: runtime handlers with host support (and why not), cgroup version and the
 * kernel QoS features detected, CNI state, and the configuration in use (admin /v1/info and
 * /v1/features).
 */
import type { Command } from 'commander';
import { stringify as yamlStringify } from 'yaml';
import { emit } from '../output/format.js';
import { renderTable } from '../output/table.js';
import type { Runner } from '../program.js';

export interface InfoDoc {
  version: string;
  config: { cgroupDriver?: string; runtimes?: { default?: string } } & Record<string, unknown>;
  runtimeHandlers: Record<string, { type: string; supported: boolean; missing: string[] }>;
  network: { ready: boolean; reason?: string; message?: string; [k: string]: unknown };
  streaming?: string;
  cgroup: { mode: string; layout?: { unified?: string } };
  conditions?: { type: string; status: boolean; reason: string; message: string }[];
}

export interface FeaturesDoc {
  mode: string;
  features: Record<string, { name: string; available: boolean; reason?: string; value?: string }>;
}

const indent = (text: string, by = '  ') => text.replace(/\n$/, '').split('\n').map((l) => by + l).join('\n') + '\n';

/** The human-readable report (pure). */
export function infoText(info: InfoDoc, features: FeaturesDoc | undefined): string {
  const out: string[] = [];
  out.push(`berthd ${info.version}${info.streaming ? `   streaming server ${info.streaming}` : ''}\n`);
  if (info.conditions?.length) {
    out.push('\nConditions:\n');
    out.push(indent(renderTable(info.conditions, [
      { header: 'CONDITION', value: (c) => c.type },
      { header: 'STATUS', value: (c) => (c.status ? 'true' : 'false') },
      { header: 'REASON', value: (c) => [c.reason, c.message].filter(Boolean).join(': ') },
    ])));
  }
  const def = info.config.runtimes?.default;
  out.push(`\nRuntime handlers${def ? ` (default: ${def})` : ''}:\n`);
  // One line per handler; what an unsupported one lacks follows it, one reason per line.
  const handlers = Object.entries(info.runtimeHandlers);
  const table = renderTable(handlers, [
    { header: 'HANDLER', value: ([name]) => name },
    { header: 'TYPE', value: ([, h]) => h.type },
    { header: 'SUPPORTED', value: ([, h]) => (h.supported ? 'yes' : 'no') },
  ]).trimEnd().split('\n');
  const lines = [table[0]!];
  handlers.forEach(([, h], i) => {
    lines.push(table[i + 1]!);
    if (!h.supported) for (const m of h.missing) lines.push(`  - ${m}`);
  });
  out.push(indent(lines.join('\n')));
  const unified = info.cgroup.layout?.unified;
  out.push(`\nCgroups: ${info.cgroup.mode}${info.cgroup.mode === 'v2' ? '' : info.cgroup.mode === 'hybrid' ? ' (v1 controllers, cgroup2 at ' + (unified ?? '?') + ')' : ' (v1)'}, driver ${info.config.cgroupDriver ?? '?'}\n`);
  if (features) {
    out.push('\nKernel QoS features:\n');
    out.push(indent(renderTable(Object.values(features.features), [
      { header: 'FEATURE', value: (f) => f.name },
      { header: 'AVAILABLE', value: (f) => (f.available ? 'yes' : 'no') },
      { header: 'NOTE', value: (f) => [f.reason, f.value !== undefined ? `value ${f.value}` : ''].filter(Boolean).join('; ') },
    ])));
  }
  const net = info.network;
  out.push(`\nCNI: ${net.ready ? 'ready' : `not ready (${[net.reason, net.message].filter(Boolean).join(': ')})`}\n`);
  out.push('\nConfiguration in use:\n');
  out.push(indent(yamlStringify(info.config)));
  return out.join('');
}

export function registerInfo(program: Command, runner: Runner): void {
  program
    .command('info')
    .description('runtime handlers and host support, cgroup version and kernel QoS features, CNI state, configuration')
    .action((_opts: unknown, cmd: Command) =>
      runner(cmd, async (ctx) => {
        const [info, features] = await Promise.all([ctx.admin.get<InfoDoc>('/v1/info'), ctx.admin.get<FeaturesDoc>('/v1/features').catch(() => undefined)]);
        emit(ctx, { ...info, features: features?.features }, () => infoText(info, features));
      }),
    );
}
