/**
 * `berth top`: a full-screen view refreshed every second — node CPU / memory / PSI, the BE
 * allowance, and per pod CPU, memory, throttling, PSI, QoS class and runtime handler.
 * Keys: c / m / n sort by CPU, memory, name; q (or Ctrl-C) quits. `--once` prints one frame.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { describeError, usageError } from '../errors.js';
import { TopCollector } from '../top/collect.js';
import { renderTop, SORT_KEYS, type NodeFrame, type PodFrame, type SortKey } from '../top/model.js';
import type { Runner } from '../program.js';

const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';

interface TopFlags {
  once?: boolean;
  sort?: string;
  interval?: string;
}

function sortOf(raw: string | undefined): SortKey {
  if (raw === undefined) return 'cpu';
  const k = (Object.values(SORT_KEYS) as string[]).includes(raw) ? (raw as SortKey) : undefined;
  if (!k) throw usageError(`--sort must be cpu, memory or name, not ${JSON.stringify(raw)}`);
  return k;
}

async function once(ctx: CliContext, sort: SortKey): Promise<void> {
  const c = new TopCollector(ctx);
  await c.frame(); // first sample: node CPU needs two
  await new Promise((r) => setTimeout(r, 1000));
  const f = await c.frame();
  const width = ctx.io.stdout.columns ?? 120;
  const lines = renderTop(f.node, f.pods, sort, width, 2 + 2 + f.pods.length + 2, new Date(), '');
  ctx.io.stdout.write(lines.join('\n').replace(/\x1b\[[0-9;]*m/g, '').trimEnd() + '\n');
}

async function live(ctx: CliContext, sort: SortKey, intervalMs: number): Promise<void> {
  const { stdout, stdin } = ctx.io;
  const collector = new TopCollector(ctx);
  let last: { node: NodeFrame; pods: PodFrame[] } = { node: { psi: {} }, pods: [] };
  let note: string | undefined;
  const draw = () => {
    const lines = renderTop(last.node, last.pods, sort, stdout.columns ?? 80, stdout.rows ?? 24, new Date(), note);
    stdout.write('\x1b[H' + lines.map((l) => l + '\x1b[K').join('\n') + '\x1b[J');
  };
  const refresh = async () => {
    try {
      last = await collector.frame();
      note = undefined;
    } catch (err) {
      note = `error: ${describeError(err, ctx)}`.replace(/\s+/g, ' ');
    }
    draw();
  };
  stdout.write(ENTER);
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.resume();
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve) => {
      const onKey = (b: Buffer) => {
        const k = b.toString('utf8');
        if (k === 'q' || k === 'Q' || k === '\x03') return resolve();
        const s = SORT_KEYS[k.toLowerCase()];
        if (s) {
          sort = s;
          draw();
        }
      };
      stdin.on('data', onKey);
      stdout.on('resize', draw);
      process.once('SIGTERM', () => resolve());
      const loop = async () => {
        await refresh();
        timer = setTimeout(() => void loop(), intervalMs);
      };
      void loop();
    });
  } finally {
    if (timer) clearTimeout(timer);
    stdout.off('resize', draw);
    if (stdin.isTTY) stdin.setRawMode(wasRaw);
    stdin.pause();
    stdout.write(LEAVE);
  }
}

export function registerTop(program: Command, runner: Runner): void {
  program
    .command('top')
    .description('live view of node and pod CPU, memory, throttling, PSI and QoS (keys: c m n sort, q quits)')
    .option('--once', 'print one frame and exit (no terminal needed)')
    .option('--sort <key>', 'initial sort: cpu, memory or name', 'cpu')
    .option('--interval <seconds>', 'refresh interval', '1')
    .action((opts: TopFlags, cmd: Command) =>
      runner(cmd, async (ctx) => {
        const sort = sortOf(opts.sort);
        const interval = Number(opts.interval);
        if (!(interval >= 0.2 && interval <= 60)) throw usageError('--interval must be between 0.2 and 60 seconds');
        if (opts.once) return once(ctx, sort);
        if (!ctx.io.stdout.isTTY) throw usageError('berth top needs a terminal; use --once to print one frame');
        await live(ctx, sort, interval * 1000);
      }),
    );
}
