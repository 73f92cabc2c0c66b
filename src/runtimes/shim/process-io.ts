import { rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { mkfifo, openFifoReader, openFifoWriter } from './fifo.js';
import type { Stdio } from './task-client.js';

export interface ProcessIOOptions {
  /** Directory for the fifos (e.g. the container's state dir). */
  dir: string;
  /** File name prefix, e.g. the container id or exec id. */
  name: string;
  stdin?: boolean;
  /** Default true. */
  stdout?: boolean;
  /** Default true; ignored with a terminal (the pty merges both onto stdout). */
  stderr?: boolean;
  terminal?: boolean;
}

/**
 * The stdio fifos of one shim process (init or exec). Create it before Task.Create/Exec, pass
 * `stdio` in the request, then read `stdout`/`stderr` and write `stdin`. Readers end when the
 * shim closes its side, i.e. when the process's output is complete.
 */
export class ProcessIO {
  private constructor(
    readonly stdio: Required<Stdio>,
    readonly stdin: Socket | undefined,
    readonly stdout: Socket | undefined,
    readonly stderr: Socket | undefined,
  ) {
    for (const s of [stdin, stdout, stderr]) s?.on('error', () => {}); // surfaced through close/end
  }

  static async create(opts: ProcessIOOptions): Promise<ProcessIO> {
    const terminal = opts.terminal ?? false;
    const want = {
      stdin: opts.stdin ?? false,
      stdout: opts.stdout ?? true,
      stderr: !terminal && (opts.stderr ?? true),
    };
    const paths = {
      stdin: want.stdin ? join(opts.dir, `${opts.name}-stdin`) : '',
      stdout: want.stdout ? join(opts.dir, `${opts.name}-stdout`) : '',
      stderr: want.stderr ? join(opts.dir, `${opts.name}-stderr`) : '',
    };
    const opened: Socket[] = [];
    try {
      for (const p of Object.values(paths)) if (p) await mkfifo(p);
      const stdin = paths.stdin ? await openFifoWriter(paths.stdin) : undefined;
      if (stdin) opened.push(stdin);
      const stdout = paths.stdout ? await openFifoReader(paths.stdout) : undefined;
      if (stdout) opened.push(stdout);
      const stderr = paths.stderr ? await openFifoReader(paths.stderr) : undefined;
      return new ProcessIO({ ...paths, terminal }, stdin, stdout, stderr);
    } catch (err) {
      for (const s of opened) s.destroy();
      await Promise.all(Object.values(paths).map((p) => (p ? rm(p, { force: true }) : undefined)));
      throw err;
    }
  }

  /**
   * Write `data` (if any), then close our end of stdin. The process sees EOF only once the shim
   * closes its own end too: follow with task.closeIO(id, execId) (runc shims keep a writer open).
   */
  async closeStdin(data?: string | Uint8Array): Promise<void> {
    const s = this.stdin;
    if (!s || s.destroyed) return;
    await new Promise<void>((resolve) => {
      const finish = () => {
        s.destroy();
        resolve();
      };
      s.once('error', finish);
      if (data !== undefined) s.end(data, finish);
      else s.end(finish);
    });
  }

  /** Resolves when stdout and stderr have both ended (or were closed). */
  async done(): Promise<void> {
    await Promise.all([this.stdout, this.stderr].map((s) => (s ? ended(s) : undefined)));
  }

  /** Read stdout and stderr to the end as strings (for short-lived processes). */
  async collect(): Promise<{ stdout: string; stderr: string }> {
    const [stdout, stderr] = await Promise.all([readAll(this.stdout), readAll(this.stderr)]);
    return { stdout, stderr };
  }

  /** Close our ends and remove the fifos. */
  async close(): Promise<void> {
    for (const s of [this.stdin, this.stdout, this.stderr]) s?.destroy();
    await Promise.all(
      [this.stdio.stdin, this.stdio.stdout, this.stdio.stderr].map((p) => (p ? rm(p, { force: true }) : undefined)),
    );
  }
}

function ended(s: Socket): Promise<void> {
  if (s.readableEnded || s.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    s.once('end', resolve);
    s.once('close', resolve);
  });
}

async function readAll(s: Socket | undefined): Promise<string> {
  if (!s) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of s) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
