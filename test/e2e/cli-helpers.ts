/**
 * Run the built `berth` CLI (dist/src/cli/main.js) against a test berthd, as a user would:
 * a child process with the berthd's socket, collecting stdout, stderr and the exit status.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../helpers/berthd.js';

export const CLI = join(REPO, 'dist/src/cli/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** Start `berth --socket <socket> …args` (the caller reads and ends it). */
export function spawnBerth(socket: string, args: string[], o: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, [CLI, '--socket', socket, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...o.env },
  });
}

/** Run `berth --socket <socket> …args` to its end. */
export function berth(socket: string, args: string[], o: CliOptions = {}): Promise<CliResult> {
  const p = spawnBerth(socket, args, o);
  let stdout = '';
  let stderr = '';
  p.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  p.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  p.stdin!.end(o.input ?? '');
  const timer = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? 120_000);
  return new Promise((resolve) => {
    p.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Wait until `pred` holds for what the process wrote to stdout so far. */
export function stdoutUntil(p: ChildProcess, pred: (soFar: string) => boolean, ms = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms; stdout so far: ${JSON.stringify(text)}`)), ms);
    const onData = (b: Buffer) => {
      text += b.toString();
      if (pred(text)) {
        clearTimeout(t);
        p.stdout!.off('data', onData);
        resolve(text);
      }
    };
    p.stdout!.on('data', onData);
  });
}
