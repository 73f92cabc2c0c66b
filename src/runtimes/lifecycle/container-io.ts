/**
 * A container's stdio: fifos under <state>/io/<id>/ handed to the shim, read by berthd and
 * copied into the CRI log file. After a berthd restart the same fifos are reopened (the shim
 * keeps its ends open), so logging resumes where it stopped. Attach (streaming) subscribes
 * to the output through `onOutput`.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { openFifoReader, openFifoWriter } from '../shim/index.js';
import { run } from '../../util/exec.js';
import { CriLogWriter, type StreamName } from '../io/cri-log.js';

export interface IoSpec {
  stdin: boolean;
  tty: boolean;
  /** Absolute CRI log path, "" for none. */
  logPath: string;
}

export interface IoPaths {
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
}

export function ioPaths(dir: string, spec: IoSpec): IoPaths {
  return {
    stdin: spec.stdin ? join(dir, 'stdin') : '',
    stdout: join(dir, 'stdout'),
    stderr: spec.tty ? '' : join(dir, 'stderr'),
    terminal: spec.tty,
  };
}

/** Make several fifos with one mkfifo(1) run (Node has no mkfifo). */
async function mkfifos(paths: string[]): Promise<void> {
  if (paths.length) await run('mkfifo', ['-m', '600', '--', ...paths], { what: 'creating container stdio fifos' });
}

export class ContainerIo extends EventEmitter<{ output: [StreamName, Buffer]; closed: [] }> {
  private log: CriLogWriter | undefined;
  private readonly done: Promise<void>;
  private readonly readers: Socket[] = [];

  private constructor(
    readonly dir: string,
    readonly paths: IoPaths,
    readonly stdin: Socket | undefined,
    readers: { stdout?: Socket; stderr?: Socket },
    log: CriLogWriter | undefined,
  ) {
    super();
    this.log = log;
    const copies: Promise<void>[] = [];
    for (const name of ['stdout', 'stderr'] as const) {
      const r = readers[name];
      if (!r) continue;
      this.readers.push(r);
      r.on('error', () => {});
      r.on('data', (b: Buffer) => this.emit('output', name, b));
      if (log) copies.push(log.attach(r, name));
      else copies.push(new Promise((res) => r.once('close', () => res())));
    }
    this.done = Promise.all(copies).then(() => {
      this.emit('closed');
    });
    stdin?.on('error', () => {});
  }

  /** Make the fifos and open our ends (before the shim's Create). */
  static async create(dir: string, spec: IoSpec): Promise<ContainerIo> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const paths = ioPaths(dir, spec);
    await mkfifos([paths.stdin, paths.stdout, paths.stderr].filter(Boolean));
    return ContainerIo.open(dir, spec);
  }

  /** Open our ends of existing fifos (create, or recovery after a restart). */
  static async open(dir: string, spec: IoSpec): Promise<ContainerIo> {
    const paths = ioPaths(dir, spec);
    const opened: Socket[] = [];
    try {
      const stdout = await openFifoReader(paths.stdout);
      opened.push(stdout);
      const stderr = paths.stderr ? await openFifoReader(paths.stderr) : undefined;
      if (stderr) opened.push(stderr);
      const stdin = paths.stdin ? await openFifoWriter(paths.stdin) : undefined;
      if (stdin) opened.push(stdin);
      const log = spec.logPath ? await CriLogWriter.open(spec.logPath) : undefined;
      return new ContainerIo(dir, paths, stdin, { stdout, stderr }, log);
    } catch (err) {
      for (const s of opened) s.destroy();
      throw err;
    }
  }

  /** Resolves once the container's output streams have ended (the process and shim closed them). */
  finished(): Promise<void> {
    return this.done;
  }

  /** Close our end of the container's stdin (flushing what was written). */
  closeStdin(): Promise<void> {
    const s = this.stdin;
    if (!s || s.destroyed) return Promise.resolve();
    return new Promise((resolve) => s.end(() => (s.destroy(), resolve())));
  }

  async reopenLog(): Promise<void> {
    await this.log?.reopen();
  }

  /** Stop copying (the streams may still be open on the shim's side). */
  async close(): Promise<void> {
    this.stdin?.destroy();
    for (const r of this.readers) r.destroy();
    await this.log?.close();
    this.log = undefined;
  }

  /** Close and remove the fifos. */
  async destroy(): Promise<void> {
    await this.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
