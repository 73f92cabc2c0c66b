/**
 * `berth qos get | apply -f policy.yaml | simulate -f policy.yaml | status`: the co-location
 * policy on berthd's admin API (/v1/qos/*). The policy file is sent as written (YAML or
 * JSON); berthd validates it and names any bad key.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { stringify as yamlStringify } from 'yaml';
import type { CliContext } from '../context.js';
import { usageError } from '../errors.js';
import { emit } from '../output/format.js';
import { qosStatusText, simulateText, type QosDecisionDoc } from '../qos-view.js';
import type { Runner } from '../program.js';

interface PolicyStatus {
  policy: unknown;
  source: string;
  loadedAt?: string;
  file?: string;
  lastError?: { at: string; message: string };
}

async function policyText(ctx: CliContext, file: string): Promise<string> {
  if (file === '-') {
    const parts: Buffer[] = [];
    for await (const c of ctx.io.stdin) parts.push(c as Buffer);
    return Buffer.concat(parts).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw usageError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

function policyStatusText(s: PolicyStatus): string {
  const head = [`# source: ${s.source}${s.loadedAt ? `, loaded ${s.loadedAt}` : ''}`];
  if (s.lastError) head.push(`# last rejected policy (${s.lastError.at}): ${s.lastError.message}`);
  return head.join('\n') + '\n' + yamlStringify(s.policy);
}

export function registerQos(program: Command, runner: Runner): void {
  const qos = program.command('qos').description('the co-location QoS policy: show, apply, simulate');
  qos
    .command('get')
    .description('print the policy in force (and where it came from)')
    .action((_o: unknown, cmd: Command) =>
      runner(cmd, async (ctx) => {
        const s = await ctx.admin.get<PolicyStatus>('/v1/qos/policy');
        emit(ctx, s, () => policyStatusText(s));
      }),
    );
  qos
    .command('apply')
    .description('validate a policy file and put it in force')
    .requiredOption('-f, --file <path>', 'policy YAML or JSON ("-" reads stdin)')
    .action((o: { file: string }, cmd: Command) =>
      runner(cmd, async (ctx) => {
        const s = await ctx.admin.post<PolicyStatus>('/v1/qos/policy', await policyText(ctx, o.file));
        emit(ctx, s, () => `policy applied (source: ${s.source})\n`);
      }),
    );
  qos
    .command('simulate')
    .description('show, per pod, what a policy would change and why, without applying it')
    .option('-f, --file <path>', 'policy YAML or JSON ("-" reads stdin; default: the policy in force)')
    .action((o: { file?: string }, cmd: Command) =>
      runner(cmd, async (ctx) => {
        const body = o.file ? await policyText(ctx, o.file) : undefined;
        const [now, sim] = await Promise.all([ctx.admin.get<QosDecisionDoc>('/v1/qos/status'), ctx.admin.post<QosDecisionDoc>('/v1/qos/simulate', body)]);
        emit(ctx, sim, () => simulateText(now, sim));
      }),
    );
  qos
    .command('status')
    .description('classes per pod, BE allowance, degraded features')
    .action((_o: unknown, cmd: Command) =>
      runner(cmd, async (ctx) => {
        const st = await ctx.admin.get<QosDecisionDoc & { enabled?: boolean; policy?: { source?: string } }>('/v1/qos/status');
        emit(ctx, st, () => qosStatusText(st));
      }),
    );
}
