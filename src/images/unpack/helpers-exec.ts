import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Run a helper binary with `input` on stdin (a Buffer or a stream) in `cwd`; collect stderr.
 * Resolves when the process has exited, even when it fails; rejects only if it cannot start.
 */
export function execWithInput(
  bin: string,
  args: string[],
  cwd: string,
  input: Buffer | Readable,
  signal?: AbortSignal,
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, stdio: ['pipe', 'ignore', 'pipe'], signal });
    let stderr = '';
    let spawnError: Error | null = null;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (stderr.length < 16_384) stderr += s;
    });
    // EPIPE when the helper exits early is reported through its exit status instead.
    child.stdin.on('error', () => {});
    child.on('error', (err) => {
      spawnError = err;
    });
    child.on('close', (code, sig) => {
      if (spawnError && code === null && sig === null) reject(spawnError);
      else resolve({ code, signal: sig, stderr });
    });
    if (Buffer.isBuffer(input)) child.stdin.end(input);
    else input.pipe(child.stdin);
  });
}
