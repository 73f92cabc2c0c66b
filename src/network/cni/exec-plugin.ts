/**
 * Run one plugin binary: config on stdin, result (or error object) on stdout, a deadline.
 * The plugin gets its own process group so that on timeout the whole group (a shell script
 * and its children included) is killed and the pipes close.
 */
import { spawn } from 'node:child_process';
import { Code, errnoCode, messageOf } from '../../util/errors.js';
import { CniPluginError, parsePluginFailure, type PluginContext } from './plugin-error.js';

export interface ExecRequest {
  binary: string;
  env: NodeJS.ProcessEnv;
  stdin: string;
  timeoutMs: number;
  ctx: PluginContext;
}

export interface ExecOutput {
  stdout: string;
  stderr: string;
  ms: number;
}

const MAX_OUTPUT = 8 * 1024 * 1024;

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Resolves with the plugin's output when it exits 0; throws a CniPluginError otherwise. */
export function execPlugin(req: ExecRequest): Promise<ExecOutput> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(req.binary, [], { env: req.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let settled = false;
    const finish = (e: Error | undefined, v?: ExecOutput) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (e) reject(e);
      else resolve(v!);
    };
    const timer = setTimeout(() => {
      killGroup(child.pid);
      child.stdout.destroy();
      child.stderr.destroy();
      const stderr = Buffer.concat(err).toString('utf8').trim();
      const msg = `timed out: no answer within ${req.timeoutMs} ms, plugin killed${stderr ? `; stderr: ${stderr.slice(0, 1000)}` : ''}`;
      finish(new CniPluginError(req.ctx, { msg }, Code.DEADLINE_EXCEEDED));
    }, req.timeoutMs);
    child.stdout.on('data', (b: Buffer) => {
      outLen += b.length;
      if (outLen <= MAX_OUTPUT) out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 64) err.push(b);
    });
    child.stdin.on('error', () => {}); // a plugin may exit without reading its config
    child.stdin.end(req.stdin);
    child.once('error', (e) => {
      const why = errnoCode(e) === 'ENOENT' ? 'plugin binary not found' : `cannot run the plugin: ${messageOf(e)}`;
      finish(new CniPluginError(req.ctx, { msg: `${req.binary}: ${why}` }, Code.FAILED_PRECONDITION));
    });
    child.once('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      const ms = performance.now() - started;
      if (code === 0) {
        finish(undefined, { stdout, stderr, ms });
        return;
      }
      const exit = signal ? `killed by ${signal}` : `exit status ${code}`;
      const failure = parsePluginFailure(stdout, stderr, exit);
      finish(new CniPluginError(req.ctx, { ...failure, msg: `${failure.msg} (${exit})` }));
    });
  });
}
