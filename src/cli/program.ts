/**
 * The `berth` command tree (commander) and the entry function: global options, exit codes
 * (0 ok, 1 failure, 2 usage), and error messages that say what to do.
 */
import { Command, CommanderError, Option } from 'commander';
import { BERTH_VERSION } from '../daemon/version.js';
import { CliContext, OUTPUT_FORMATS, type GlobalOptions, type Io } from './context.js';
import { CliError, describeError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, ExitStatus } from './errors.js';
import { registerCompletion } from './commands/completion.js';
import { registerExec } from './commands/exec.js';
import { registerImages } from './commands/images.js';
import { registerInfo } from './commands/info.js';
import { registerLogs } from './commands/logs.js';
import { registerPods } from './commands/pods.js';
import { registerPs } from './commands/ps.js';
import { registerQos } from './commands/qos.js';
import { registerRun } from './commands/run.js';
import { registerSli } from './commands/sli.js';
import { registerTop } from './commands/top.js';

/** Runs a command body with a context built from the global options. */
export type Runner = (cmd: Command, body: (ctx: CliContext) => Promise<void>) => Promise<void>;

export function buildProgram(io: Io, env: NodeJS.ProcessEnv, contexts: CliContext[]): Command {
  const program = new Command('berth')
    .description('Run and inspect pods on berthd, the CRI runtime: Kubernetes Pod manifests, logs, exec, QoS, live stats.')
    .version(BERTH_VERSION, '-v, --version')
    .addOption(new Option('--socket <path>', 'berthd CRI socket (default $BERTH_SOCKET or /run/berth/berth.sock)'))
    .addOption(new Option('--admin-socket <path>', 'berthd admin socket (default $BERTH_ADMIN_SOCKET or <socket>-admin.sock)'))
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  const runner: Runner = async (cmd, body) => {
    const ctx = new CliContext(cmd.optsWithGlobals<GlobalOptions>(), io, env);
    contexts.push(ctx);
    await body(ctx);
  };
  registerRun(program, runner);
  registerPs(program, runner);
  registerLogs(program, runner);
  registerExec(program, runner);
  registerPods(program, runner);
  registerImages(program, runner);
  registerInfo(program, runner);
  registerQos(program, runner);
  registerTop(program, runner);
  registerSli(program, runner);
  registerCompletion(program, runner);
  return program;
}

/** Run the CLI with `argv` (without node and script); resolves to the exit status. */
export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }, env = process.env): Promise<number> {
  const contexts: CliContext[] = [];
  const program = buildProgram(io, env, contexts);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT_OK;
      return EXIT_USAGE; // commander printed the message already
    }
    if (err instanceof ExitStatus) return err.exitCode;
    const ctx = contexts[0] ?? new CliContext({}, io, env);
    io.stderr.write(`berth: ${describeError(err, ctx)}\n`);
    return err instanceof CliError ? err.exitCode : EXIT_FAILURE;
  } finally {
    for (const c of contexts) c.close();
  }
}
