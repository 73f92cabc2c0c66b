/**
 * Run a helper command (mount, umount, unshare, mkfifo …) to completion with a deadline.
 * Failures become BerthErrors that say what was attempted and what the command printed.
 */
import { spawn } from 'node:child_process';
import { deadlineExceeded, errnoCode, failedPrecondition, internal, messageOf } from './errors.js';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdin?: Uint8Array;
  timeoutMs?: number;
  /** For error messages, e.g. "mounting the rootfs of container abc". */
  what: string;
  /** Own process group, so signals aimed at berthd's group (Ctrl-C) do not reach the child. */
  detached?: boolean;
}

/** Run and collect output; resolves with the exit status whatever it is. */
export function runCommand(binary: string, args: string[], o: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      cwd: o.cwd,
      env: o.env ?? process.env,
      stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: o.detached ?? false,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timeoutMs = o.timeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    if (o.stdin) {
      child.stdin!.on('error', () => {}); // the child may exit without reading it
      child.stdin!.end(Buffer.from(o.stdin));
    }
    child.once('error', (e) => {
      clearTimeout(timer);
      if (errnoCode(e) === 'ENOENT') reject(failedPrecondition(`${o.what}: ${binary} not found`, e));
      else reject(internal(`${o.what}: cannot run ${binary}: ${messageOf(e)}`, e));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (timedOut) {
        reject(deadlineExceeded(`${o.what}: ${binary} did not finish within ${timeoutMs} ms${stderr ? `; stderr: ${stderr}` : ''}`));
        return;
      }
      resolve({ code, signal, stdout: Buffer.concat(out), stderr });
    });
  });
}

/** Run and require exit status 0; returns stdout as text. */
export async function run(binary: string, args: string[], o: RunOptions): Promise<string> {
  const r = await runCommand(binary, args, o);
  if (r.code !== 0) {
    const why = r.stderr || r.stdout.toString('utf8').trim() || `exit ${r.code ?? r.signal}`;
    throw internal(`${o.what}: ${binary} ${args.join(' ')}: ${why}`);
  }
  return r.stdout.toString('utf8');
}
