/** `berth stop POD…` and `berth rm POD…`: stop pods (containers first, with their grace period), or stop and remove them. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { failure, usageError } from '../errors.js';
import { daemonSettings } from '../node.js';
import { removePod, stopPod } from '../pod-ops.js';
import { listPods, pickPod, podDisplayName } from '../resolve.js';
import type { Runner } from '../program.js';

function timeoutOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw usageError(`--timeout must be a whole number of seconds, not ${JSON.stringify(raw)}`);
  return n;
}

async function eachPod(ctx: CliContext, refs: string[], what: string, fn: (p: Awaited<ReturnType<typeof listPods>>[number]) => Promise<void>): Promise<void> {
  const pods = await listPods(ctx);
  const targets = refs.map((r) => pickPod(pods, r));
  const failed: string[] = [];
  for (const p of targets) {
    try {
      await fn(p);
      ctx.print(p.id);
    } catch (err) {
      failed.push(`${podDisplayName(p)}: ${(err as Error).message}`);
    }
  }
  if (failed.length) throw failure(`could not ${what} ${failed.length === 1 ? 'a pod' : `${failed.length} pods`}:\n  ${failed.join('\n  ')}`);
}

export function registerPods(program: Command, runner: Runner): void {
  program
    .command('stop')
    .description("stop pods: their containers (with the pod's grace period), then the sandbox")
    .argument('<pod...>', 'pod names, namespace/names or ids')
    .option('--timeout <seconds>', "seconds to wait before killing (default: the pod's terminationGracePeriodSeconds, 30)")
    .action((refs: string[], opts: { timeout?: string }, cmd: Command) =>
      runner(cmd, (ctx) => eachPod(ctx, refs, 'stop', (p) => stopPod(ctx, p, timeoutOf(opts.timeout)))),
    );
  program
    .command('rm')
    .description('stop and remove pods, with their emptyDir volumes')
    .argument('<pod...>', 'pod names, namespace/names or ids')
    .option('--timeout <seconds>', "seconds to wait before killing (default: the pod's grace period)")
    .action((refs: string[], opts: { timeout?: string }, cmd: Command) =>
      runner(cmd, async (ctx) => {
        const root = (await daemonSettings(ctx).catch(() => undefined))?.root;
        await eachPod(ctx, refs, 'remove', (p) => removePod(ctx, p, root, timeoutOf(opts.timeout)));
      }),
    );
}
