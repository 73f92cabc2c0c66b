/**
 * The StreamingRuntime berth plugs into its streaming server: exec through the pod's shim
 * (with stdin, tty and resize), attach to a container's own stdio, and port-forward into the
 * pod's network namespace (or the host's, for hostNetwork pods).
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Duplex, Readable, Writable } from 'node:stream';
import { failedPrecondition } from '../../util/errors.js';
import { portForwardInNetns } from '../../streaming/netns-dial.js';
import { relay } from '../../streaming/relay.js';
import type { AttachRequest, ExecRequest, SessionIo, StreamingRuntime, TerminalSize } from '../../streaming/runtime.js';
import { ProcessIO, type Shim } from '../shim/index.js';
import type { Lc } from './context.js';
import { containerConfigOf, getContainer, getPod } from './common.js';
import { containerProcessSpec } from './exec-sync.js';
import { podShim, SIGKILL, within } from './shim-ops.js';
import type { ContainerRecord } from './types.js';

async function runningContainer(lc: Lc, id: string): Promise<{ c: ContainerRecord; shim: Shim }> {
  const c = getContainer(lc, id);
  if (c.phase !== 'running') throw failedPrecondition(`container ${c.id} is not running (${c.phase})`);
  const pod = lc.pods.get(c.podId);
  const shim = pod ? await podShim(lc, pod) : undefined;
  if (!shim) throw failedPrecondition(`the shim of pod ${c.podId} is not reachable`);
  return { c, shim };
}

function pipeOut(from: Readable | undefined, to: Writable | undefined): Promise<void> {
  if (!from) return Promise.resolve();
  return new Promise((resolve) => {
    from.on('data', (b: Buffer) => to?.write(b));
    from.once('end', resolve);
    from.once('close', resolve);
    from.once('error', () => resolve());
  });
}

async function forwardResizes(sizes: AsyncIterable<TerminalSize> | undefined, apply: (s: TerminalSize) => Promise<void>): Promise<void> {
  if (!sizes) return;
  try {
    for await (const s of sizes) await apply(s).catch(() => {});
  } catch {
    /* the session ended */
  }
}

export function streamingBackend(lc: Lc): StreamingRuntime {
  return {
    async exec(req: ExecRequest, io: SessionIo, signal: AbortSignal) {
      const { c, shim } = await runningContainer(lc, req.containerId);
      const execId = `exec-${randomBytes(8).toString('hex')}`;
      const pio = await ProcessIO.create({ dir: join(lc.layout.io, c.id), name: execId, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr && !req.tty, terminal: req.tty });
      try {
        const base = await containerProcessSpec(c);
        await shim.task.exec({ id: c.id, execId, process: { ...base, args: req.cmd, terminal: req.tty }, ...pio.stdio });
        const exit = shim.task.wait(c.id, execId);
        await shim.task.start(c.id, execId);
        const outputs = Promise.all([pipeOut(pio.stdout, io.stdout), pipeOut(pio.stderr, io.stderr)]);
        if (req.stdin && io.stdin) {
          io.stdin.on('data', (b: Buffer) => pio.stdin?.write(b));
          io.stdin.once('end', () => void pio.closeStdin().then(() => shim.task.closeIO(c.id, execId).catch(() => {})));
        }
        void forwardResizes(io.resize, (s) => shim.task.resizePty(c.id, execId, s.width, s.height));
        const onAbort = () => void shim.task.kill(c.id, SIGKILL, { execId }).catch(() => {});
        signal.addEventListener('abort', onAbort, { once: true });
        const { exitStatus } = await exit;
        signal.removeEventListener('abort', onAbort);
        await within(outputs, 2_000);
        return { exitCode: exitStatus };
      } finally {
        await shim.task.delete(c.id, execId).catch(() => {});
        await pio.close();
        await Promise.all(Object.values(pio.stdio).map((p) => (typeof p === 'string' && p ? rm(p, { force: true }) : undefined)));
      }
    },

    async attach(req: AttachRequest, io: SessionIo, signal: AbortSignal) {
      const { c, shim } = await runningContainer(lc, req.containerId);
      const cio = lc.io.get(c.id);
      if (!cio) throw failedPrecondition(`container ${c.id} has no attachable stdio`);
      const cfg = containerConfigOf(c);
      if (req.stdin && !cfg.stdin) throw failedPrecondition(`container ${c.id} was not created with stdin`);
      const onOutput = (stream: 'stdout' | 'stderr', b: Buffer) => (stream === 'stdout' ? io.stdout : io.stderr)?.write(b);
      cio.on('output', onOutput);
      if (req.stdin && io.stdin && cio.stdin) {
        io.stdin.on('data', (b: Buffer) => cio.stdin!.write(b));
        // stdin_once: the first client to close stdin closes the container's (our fifo end
        // and the shim's own writer both, or the process never sees EOF).
        if (cfg.stdinOnce) io.stdin.once('end', () => void cio.closeStdin().then(() => shim.task.closeIO(c.id).catch(() => {})));
      }
      void forwardResizes(io.resize, (s) => shim.task.resizePty(c.id, '', s.width, s.height));
      try {
        await new Promise<void>((resolve) => {
          cio.once('closed', resolve);
          signal.addEventListener('abort', () => resolve(), { once: true });
          void lc.exits.exited(c.id).then(resolve);
        });
      } finally {
        cio.off('output', onOutput);
      }
    },

    async portForward(req: { podSandboxId: string; port: number }, conn: Duplex, signal: AbortSignal) {
      const pod = getPod(lc, req.podSandboxId);
      if (pod.phase !== 'ready') throw failedPrecondition(`pod sandbox ${pod.id} is not ready`);
      if (pod.netnsPath) return portForwardInNetns(pod.netnsPath, req.port, conn, signal);
      const upstream = connect({ host: '127.0.0.1', port: req.port, allowHalfOpen: true });
      return relay(conn, upstream, signal);
    },
  };
}
