/**
 * `berth exec [-it] POD [-c CONTAINER] -- CMD…`: run a command in a container through
 * berthd's streaming server; the command's exit status becomes berth's.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { ExitStatus, usageError } from '../errors.js';
import { execOverWebSocket, type ExecIo, type TerminalSize } from '../exec/ws-exec.js';
import { pickContainer, podContainers, resolvePod } from '../resolve.js';
import type { Runner } from '../program.js';

interface ExecFlags {
  stdin?: boolean;
  tty?: boolean;
  container?: string;
}

function terminalIo(ctx: CliContext, f: ExecFlags): { io: ExecIo; restore: () => void } {
  const { stdin, stdout, stderr } = ctx.io;
  const io: ExecIo = { stdout, stderr, stdin: f.stdin ? stdin : undefined };
  let restore = () => {};
  if (f.tty && stdout.isTTY) {
    const size = (): TerminalSize => ({ width: stdout.columns ?? 80, height: stdout.rows ?? 24 });
    io.size = size();
    io.onResize = (cb) => {
      const h = () => cb(size());
      stdout.on('resize', h);
      return () => stdout.off('resize', h);
    };
  }
  if (f.tty && f.stdin && stdin.isTTY) {
    stdin.setRawMode(true);
    restore = () => stdin.setRawMode(false);
  }
  return { io, restore };
}

async function exec(ctx: CliContext, podRef: string, command: string[], f: ExecFlags): Promise<void> {
  if (command.length === 0) throw usageError('name a command to run after --, e.g.: berth exec mypod -- sh -c "echo hi"');
  if (f.tty && !ctx.io.stdout.isTTY) ctx.note('berth: warning: -t asked for a terminal but stdout is not one');
  const pod = await resolvePod(ctx, podRef);
  const c = pickContainer(pod, await podContainers(ctx, pod.id), f.container);
  const tty = f.tty ?? false;
  const { url } = await ctx.runtime.exec({ containerId: c.id, cmd: command, tty, stdin: f.stdin ?? false, stdout: true, stderr: !tty });
  const { io, restore } = terminalIo(ctx, { ...f, tty });
  let code: number;
  try {
    code = await execOverWebSocket(url, io);
  } finally {
    restore();
  }
  if (code !== 0) throw new ExitStatus(code);
}

export function registerExec(program: Command, runner: Runner): void {
  program
    .command('exec')
    .description('run a command in a container of a pod; exits with the command\'s status')
    .usage('[-it] [-c CONTAINER] POD -- COMMAND [ARG…]')
    .argument('<pod>', 'pod name, namespace/name or id')
    .argument('[command...]', 'the command and its arguments (after --)')
    .option('-i, --stdin', 'pass stdin to the command')
    .option('-t, --tty', 'allocate a terminal')
    .option('-c, --container <name>', 'container name (needed when the pod has several)')
    .action((pod: string, command: string[], opts: ExecFlags, cmd: Command) => runner(cmd, (ctx) => exec(ctx, pod, command, opts)));
}
