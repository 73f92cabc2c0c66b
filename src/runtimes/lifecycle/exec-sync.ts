/** ExecSync: run a command in a running container, collect its output (capped), honour the timeout. */
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { deadlineExceeded, failedPrecondition, invalidArgument } from '../../util/errors.js';
import { ProcessIO } from '../shim/index.js';
import type { Spec } from '../oci/index.js';
import type { Lc } from './context.js';
import { getContainer } from './common.js';
import { podShim, SIGKILL, within } from './shim-ops.js';
import type { ContainerRecord } from './types.js';

/** Output beyond this is dropped, as containerd caps exec sync output. */
export const MAX_EXEC_OUTPUT = 16 * 1024 * 1024;

export interface ExecResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

export async function containerProcessSpec(c: ContainerRecord): Promise<NonNullable<Spec['process']>> {
  const spec = JSON.parse(await readFile(join(c.bundle, 'config.json'), 'utf8')) as Spec;
  if (!spec.process) throw failedPrecondition(`container ${c.id} has no process in its spec`);
  return spec.process;
}

function capped(s: NodeJS.ReadableStream | undefined): () => Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  s?.on('data', (b: Buffer) => {
    if (size >= MAX_EXEC_OUTPUT) return;
    const take = b.subarray(0, MAX_EXEC_OUTPUT - size);
    parts.push(take);
    size += take.length;
  });
  return () => Buffer.concat(parts);
}

export async function execSync(lc: Lc, id: string, cmd: string[], timeoutSec: number, signal?: AbortSignal): Promise<ExecResult> {
  if (cmd.length === 0) throw invalidArgument('ExecSync: cmd must not be empty');
  const c = getContainer(lc, id);
  if (c.phase !== 'running') throw failedPrecondition(`container ${c.id} is not running (${c.phase})`);
  const pod = lc.pods.get(c.podId);
  const shim = pod ? await podShim(lc, pod) : undefined;
  if (!shim) throw failedPrecondition(`the shim of pod ${c.podId} is not reachable`);
  const execId = `exec-${randomBytes(8).toString('hex')}`;
  const dir = join(lc.layout.io, c.id);
  const pio = await ProcessIO.create({ dir, name: execId, stdout: true, stderr: true });
  const out = capped(pio.stdout);
  const err = capped(pio.stderr);
  const base = await containerProcessSpec(c);
  try {
    await shim.task.exec({ id: c.id, execId, process: { ...base, args: cmd, terminal: false }, ...pio.stdio });
    const exit = shim.task.wait(c.id, execId);
    await shim.task.start(c.id, execId);
    const limitMs = timeoutSec > 0 ? timeoutSec * 1000 : 0;
    const aborted = new Promise<void>((r) => signal?.addEventListener('abort', () => r(), { once: true }));
    const settled = Promise.race([exit, aborted]);
    const finished = limitMs ? await within(settled, limitMs) : (await settled, true);
    if (!finished || signal?.aborted) {
      await shim.task.kill(c.id, SIGKILL, { execId }).catch(() => {});
      await within(exit, 5_000);
      if (signal?.aborted) throw signal.reason;
      throw deadlineExceeded(`command ${JSON.stringify(cmd)} in container ${c.id} timed out after ${timeoutSec}s`);
    }
    const { exitStatus } = await exit;
    await within(pio.done(), 2_000);
    return { stdout: out(), stderr: err(), exitCode: exitStatus };
  } finally {
    await shim.task.delete(c.id, execId).catch(() => {});
    await pio.close();
    await Promise.all(Object.values(pio.stdio).map((p) => (typeof p === 'string' && p ? rm(p, { force: true }) : undefined)));
  }
}
