import { spawn } from 'node:child_process';
import { deadlineExceeded, failedPrecondition, internal, messageOf, errnoCode } from '../../util/errors.js';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdin?: Uint8Array;
  timeoutMs: number;
  /** For error messages, e.g. "containerd-shim-runc-v2 start for pod abc". */
  what: string;
}

/**
 * Run a shim sub-command to completion, collecting stdout (bytes) and stderr (text). The child
 * gets its own process group (as containerd does), so signals aimed at berthd's group (Ctrl-C)
 * do not reach the shim it forks. Killed with SIGKILL after `timeoutMs`.
 */
export function runCommand(binary: string, args: string[], o: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      cwd: o.cwd,
      env: o.env,
      stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutMs);
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    if (o.stdin) {
      child.stdin!.on('error', () => {}); // the child may exit without reading it
      child.stdin!.end(Buffer.from(o.stdin));
    }
    child.once('error', (e) => {
      clearTimeout(timer);
      if (errnoCode(e) === 'ENOENT') reject(failedPrecondition(`${o.what}: shim binary ${binary} not found`, e));
      else reject(internal(`${o.what}: cannot run ${binary}: ${messageOf(e)}`, e));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (timedOut) {
        reject(deadlineExceeded(`${o.what}: ${binary} did not finish within ${o.timeoutMs} ms${stderr ? `; stderr: ${stderr}` : ''}`));
        return;
      }
      resolve({ code, signal, stdout: Buffer.concat(out), stderr });
    });
  });
}
