/** `berth logs [-f] POD [CONTAINER]`: a container's log (the CRI log file), optionally followed. */
import type { Command } from 'commander';
import { ContainerState } from '../../gen/runtime/v1/api.js';
import type { CliContext } from '../context.js';
import { failure, usageError } from '../errors.js';
import { streamLog } from '../logs/follow.js';
import { containerStatus } from '../pod-ops.js';
import { pickContainer, podContainers, podDisplayName, resolvePod } from '../resolve.js';
import type { Runner } from '../program.js';

interface LogsFlags {
  follow?: boolean;
  tail?: string;
  timestamps?: boolean;
  container?: string;
}

function tailOf(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '-1') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw usageError(`--tail must be a number of lines (or -1 for all), not ${JSON.stringify(raw)}`);
  return n;
}

async function logs(ctx: CliContext, podRef: string, containerArg: string | undefined, f: LogsFlags): Promise<void> {
  if (containerArg && f.container && containerArg !== f.container) throw usageError(`container named twice: ${containerArg} and -c ${f.container}`);
  const tail = tailOf(f.tail);
  const pod = await resolvePod(ctx, podRef);
  const c = pickContainer(pod, await podContainers(ctx, pod.id), containerArg ?? f.container);
  const status = await containerStatus(ctx, c.id);
  if (!status.logPath) throw failure(`container ${c.metadata?.name} of pod ${podDisplayName(pod)} has no log file (it was created without a log path)`);
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await streamLog({
      path: status.logPath,
      tail,
      follow: f.follow ?? false,
      timestamps: f.timestamps,
      signal: abort.signal,
      write: (stream, text) => (stream === 'stderr' ? ctx.io.stderr : ctx.io.stdout).write(text),
      isDone: async () => (await containerStatus(ctx, c.id).catch(() => undefined))?.state !== ContainerState.CONTAINER_RUNNING,
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') throw failure(`the log file ${status.logPath} does not exist (yet); the container may not have started`);
    throw err;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export function registerLogs(program: Command, runner: Runner): void {
  program
    .command('logs')
    .description("print a container's log; with -f, follow it until the container exits")
    .argument('<pod>', 'pod name, namespace/name or id')
    .argument('[container]', 'container name (needed when the pod has several)')
    .option('-c, --container <name>', 'container name')
    .option('-f, --follow', 'keep printing new lines')
    .option('--tail <lines>', 'print only the last N lines first (-1: all)')
    .option('--timestamps', 'prefix each line with its timestamp')
    .action((pod: string, container: string | undefined, opts: LogsFlags, cmd: Command) => runner(cmd, (ctx) => logs(ctx, pod, container, opts)));
}
