/**
 * Shim lifecycle the way containerd 1.6 does it: `start` a shim binary per container (a runc or
 * kata shim answers with the pod's existing socket for every container after the sandbox), keep
 * one ttrpc connection per shim address, reconnect after a restart, and run the binary's
 * `delete` to clean up after a shim that died.
 */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteResponse } from '../../gen/containerd/task/v2/shim.js';
import { Any } from '../../gen/google/protobuf/any.js';
import { failedPrecondition, internal, isNotFoundErrno, messageOf } from '../../util/errors.js';
import { logger, type Logger } from '../../util/log.js';
import { timestampToNs } from './any.js';
import {
  deleteArgs,
  parseStartOutput,
  shimEnv,
  startArgs,
  validateBundle,
  validateId,
  type ShimCommandConfig,
} from './command.js';
import { runCommand } from '../../util/exec.js';
import { Shim, type ShimInfo } from './shim.js';
import { ShimLog } from './shim-log.js';
import { TaskClient, type ExitInfo, type TaskClientOptions } from './task-client.js';
import { TtrpcClient } from './ttrpc/client.js';
import { socketPathOf } from './ttrpc/method.js';

export const NAMESPACE_METADATA_KEY = 'containerd-namespace-ttrpc';

export interface ShimManagerOptions {
  /** containerd namespace the shim and its runc state live in (default "k8s.io"). */
  namespace?: string;
  /** berth's API socket path, passed as -address. */
  address: string;
  /** Events socket path (EventsServer), passed as TTRPC_ADDRESS. */
  eventsAddress: string;
  /** Passed as -publish-binary; shims that publish over ttrpc never run it (default /bin/false). */
  publishBinary?: string;
  /** Deadline for `start` and `delete` (default 10 s / 30 s). */
  startTimeoutMs?: number;
  deleteTimeoutMs?: number;
  taskClient?: TaskClientOptions;
  debug?: boolean;
  log?: Logger;
}

export interface StartShimOptions {
  /** Shim binary name or path, e.g. "containerd-shim-runc-v2". */
  binary: string;
  /** Container id; for the pod's first container (the sandbox) this becomes the shim's id. */
  id: string;
  /** Bundle dir holding config.json; must be named <id>. */
  bundle: string;
  /** Written to the shim's stdin as an encoded Any (runc shims read ShimCgroup from it). */
  options?: Any;
}

export interface ConnectShimOptions {
  id: string;
  address: string;
  bundle: string;
  binary: string;
}

export class ShimManager {
  private readonly cfg: ShimCommandConfig;
  private readonly log: Logger;
  private readonly shims = new Map<string, Shim>();
  /** Connections being set up, so concurrent starts for one pod share one connection. */
  private readonly connecting = new Map<string, Promise<Shim>>();

  constructor(private readonly opts: ShimManagerOptions) {
    this.cfg = {
      namespace: opts.namespace ?? 'k8s.io',
      address: opts.address,
      publishBinary: opts.publishBinary ?? '/bin/false',
      eventsAddress: opts.eventsAddress,
      debug: opts.debug ?? false,
    };
    this.log = opts.log ?? logger('shim');
  }

  get namespace(): string {
    return this.cfg.namespace;
  }

  /** The live connection to `address`, if we hold one. */
  get(address: string): Shim | undefined {
    const s = this.shims.get(address);
    return s && !s.closed ? s : undefined;
  }

  /**
   * Run `<binary> … -id <id> start` in the bundle and connect to the address it prints. For a
   * later container of a pod whose shim is already connected, the same Shim is returned.
   */
  async start(o: StartShimOptions): Promise<Shim> {
    validateBundle(o.id, o.bundle);
    await requireConfig(o.bundle);
    const what = `starting shim ${o.binary} for ${o.id}`;
    const shimLog = await ShimLog.open(o.bundle, this.log.child({ shim: o.id }));
    let started = false;
    try {
      const res = await runCommand(o.binary, startArgs(this.cfg, o.id), {
        cwd: o.bundle,
        env: shimEnv(this.cfg),
        stdin: o.options ? Any.encode(o.options).finish() : undefined,
        timeoutMs: this.opts.startTimeoutMs ?? 10_000,
        what,
        detached: true,
      });
      const out = res.stdout.toString('utf8');
      const address = res.code === 0 ? parseStartOutput(out) : undefined;
      if (!address) {
        const how = res.code === 0 ? `printed no address (${JSON.stringify(out.slice(0, 200))})` : `exited with ${res.code ?? res.signal}`;
        throw internal(`${what} in ${o.bundle}: ${o.binary} ${how}${detail(res.stderr || out, shimLog)}`);
      }
      const existing = this.get(address) ?? this.connecting.get(address);
      if (existing) {
        shimLog.close(); // this bundle's log fifo has no writer: the pod's shim logs to the sandbox bundle
        return await existing;
      }
      started = true;
      return await this.attachOnce({ id: o.id, address, bundle: o.bundle, binary: o.binary }, shimLog, what);
    } catch (err) {
      if (!started) shimLog.close();
      throw err;
    }
  }

  /** Reconnect to a running shim (after a berthd restart), reopening its log fifo. */
  async connect(o: ConnectShimOptions): Promise<Shim> {
    validateId(o.id);
    const existing = this.get(o.address) ?? this.connecting.get(o.address);
    if (existing) return existing;
    const shimLog = await ShimLog.open(o.bundle, this.log.child({ shim: o.id })).catch((err: unknown) => {
      this.log.warn({ shim: o.id, err: messageOf(err) }, 'cannot reopen shim log fifo');
      return undefined;
    });
    return this.attachOnce(o, shimLog, `reconnecting to shim for ${o.id}`);
  }

  /**
   * Clean up after a shim that died, as containerd does: `<binary> … -id <id> -bundle <dir> delete`
   * (runc shims force-delete the runc container and unmount <bundle>/rootfs). The bundle itself
   * is left for the caller. If `address` is given, a stale socket file there is removed.
   */
  async cleanupDeadShim(o: { binary: string; id: string; bundle: string; address?: string }): Promise<ExitInfo> {
    validateBundle(o.id, o.bundle);
    const what = `cleaning up dead shim ${o.binary} for ${o.id}`;
    const res = await runCommand(o.binary, deleteArgs(this.cfg, o.id, o.bundle), {
      cwd: o.bundle,
      env: shimEnv(this.cfg),
      timeoutMs: this.opts.deleteTimeoutMs ?? 30_000,
      what,
      detached: true,
    });
    if (res.code !== 0) {
      throw internal(`${what} in ${o.bundle}: exited with ${res.code ?? res.signal}${res.stderr ? `: ${res.stderr}` : ''}`);
    }
    if (res.stderr) this.log.warn({ shim: o.id, stderr: res.stderr }, 'shim delete warnings');
    if (o.address) await removeStaleSocket(o.address);
    const d = DeleteResponse.decode(res.stdout);
    return { pid: d.pid, exitStatus: d.exitStatus, exitedAtNs: timestampToNs(d.exitedAt) };
  }

  /** Drop every connection (berthd stopping); shims keep running. */
  closeAll(): void {
    for (const s of this.shims.values()) s.close();
    this.shims.clear();
  }

  private attachOnce(
    base: Omit<ShimInfo, 'namespace' | 'shimPid'>,
    shimLog: ShimLog | undefined,
    what: string,
  ): Promise<Shim> {
    const p = this.attach(base, shimLog, what).finally(() => this.connecting.delete(base.address));
    this.connecting.set(base.address, p);
    return p;
  }

  private async attach(
    base: Omit<ShimInfo, 'namespace' | 'shimPid'>,
    shimLog: ShimLog | undefined,
    what: string,
  ): Promise<Shim> {
    let ttrpc: TtrpcClient;
    try {
      ttrpc = await TtrpcClient.connect(base.address, {
        metadata: { [NAMESPACE_METADATA_KEY]: this.cfg.namespace },
        log: this.log,
      });
    } catch (err) {
      shimLog?.close();
      throw withLog(err, `${what}: ${messageOf(err)}`, shimLog);
    }
    const task = new TaskClient(ttrpc, this.opts.taskClient);
    let shimPid = 0;
    try {
      shimPid = (await task.connect(base.id, { timeoutMs: 10_000 })).shimPid;
    } catch (err) {
      ttrpc.close();
      shimLog?.close();
      throw withLog(err, `${what}: Connect failed: ${messageOf(err)}`, shimLog);
    }
    const info: ShimInfo = { ...base, namespace: this.cfg.namespace, shimPid };
    const shim = new Shim(info, ttrpc, shimLog, this.log, task);
    this.shims.set(info.address, shim);
    shim.once('close', () => {
      if (this.shims.get(info.address) === shim) this.shims.delete(info.address);
    });
    this.log.debug({ shim: info.id, address: info.address, shimPid }, 'shim connected');
    return shim;
  }
}

async function requireConfig(bundle: string): Promise<void> {
  try {
    await stat(join(bundle, 'config.json'));
  } catch (err) {
    if (isNotFoundErrno(err)) throw failedPrecondition(`bundle ${bundle} has no config.json`);
    throw err;
  }
}

function detail(text: string, shimLog: ShimLog | undefined): string {
  const lines = shimLog?.lastLines() ?? [];
  return `${text ? `: ${text.trim()}` : ''}${lines.length ? `; shim log: ${lines.join(' | ')}` : ''}`;
}

function withLog(err: unknown, message: string, shimLog: ShimLog | undefined): Error {
  const lines = shimLog?.lastLines() ?? [];
  if (lines.length === 0 || !(err instanceof Error)) return err instanceof Error ? err : new Error(message);
  err.message = `${message}; shim log: ${lines.join(' | ')}`;
  return err;
}

async function removeStaleSocket(address: string): Promise<void> {
  const path = socketPathOf(address);
  const alive = await TtrpcClient.connect(address, { connectTimeoutMs: 1_000 }).then(
    (c) => (c.close(), true),
    () => false,
  );
  if (!alive) await rm(path, { force: true });
}
