/**
 * Typed client for the shim v2 task service (containerd.task.v2.Task) over ttrpc. Hides the
 * protobuf Any packing and Timestamp handling; every method takes optional CallOptions to
 * override the default deadline.
 */
import { TaskService } from '../../gen/containerd/task/v2/shim.js';
import { Status } from '../../gen/containerd/types/task/task.js';
import type { Mount } from '../../gen/containerd/types/mount.js';
import type { Any } from '../../gen/google/protobuf/any.js';
import {
  packOciJson,
  packRuncCheckpointOptions,
  packRuncOptions,
  timestampToNs,
  TYPE_URL,
  unpackProcessExecId,
  unpackStats,
  type RuncCheckpointOptions,
  type RuncOptions,
  type StatsMetrics,
} from './any.js';
import type { CallOptions, TtrpcClient } from './ttrpc/client.js';
import { TtrpcClosedError } from './ttrpc/errors.js';

export type { Mount };

export type TaskStatus = 'unknown' | 'created' | 'running' | 'stopped' | 'paused' | 'pausing';

const STATUS_NAMES: Record<number, TaskStatus> = {
  [Status.UNKNOWN]: 'unknown',
  [Status.CREATED]: 'created',
  [Status.RUNNING]: 'running',
  [Status.STOPPED]: 'stopped',
  [Status.PAUSED]: 'paused',
  [Status.PAUSING]: 'pausing',
};

export interface Stdio {
  /** Fifo paths ("" = not connected); a "file://" or "binary://" URI also works with runc shims. */
  stdin?: string;
  stdout?: string;
  stderr?: string;
  terminal?: boolean;
}

export interface CreateTaskOptions extends Stdio {
  id: string;
  bundle: string;
  /** Mounted by the shim at <bundle>/rootfs before create (empty: config.json's root is used as is). */
  rootfs?: Mount[];
  /** containerd-shim-runc-v2 options, packed as "containerd.runc.v1.Options". */
  runcOptions?: Partial<RuncOptions>;
  /** Any other shim's options, already packed (e.g. for Kata). Wins over runcOptions. */
  options?: Any;
  checkpoint?: string;
  parentCheckpoint?: string;
}

export interface ExecOptions extends Stdio {
  id: string;
  execId: string;
  /** The OCI runtime-spec Process object (args, env, cwd, user …) as JSON. */
  process: object;
}

export interface TaskState {
  id: string;
  execId: string;
  bundle: string;
  pid: number;
  status: TaskStatus;
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
  exitStatus: number;
  /** Nanoseconds since the epoch; 0n while running. */
  exitedAtNs: bigint;
}

export interface ExitInfo {
  pid: number;
  exitStatus: number;
  exitedAtNs: bigint;
}

export interface ProcessEntry {
  pid: number;
  /** Set for processes started by Exec (runc shims report it). */
  execId?: string;
}

export interface ConnectInfo {
  shimPid: number;
  taskPid: number;
  version: string;
}

export interface TaskClientOptions {
  /** Default deadline for quick calls (default 30 s). */
  timeoutMs?: number;
  /** Deadline for Create/Start/Exec/Checkpoint, which may boot a VM under Kata (default 120 s). */
  slowTimeoutMs?: number;
}

export class TaskClient {
  private readonly timeoutMs: number;
  private readonly slowTimeoutMs: number;

  constructor(
    readonly ttrpc: TtrpcClient,
    opts: TaskClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.slowTimeoutMs = opts.slowTimeoutMs ?? 120_000;
  }

  private quick(o?: CallOptions): CallOptions {
    return { timeoutMs: this.timeoutMs, ...o };
  }

  private slow(o?: CallOptions): CallOptions {
    return { timeoutMs: this.slowTimeoutMs, ...o };
  }

  async create(req: CreateTaskOptions, o?: CallOptions): Promise<{ pid: number }> {
    const options = req.options ?? (req.runcOptions ? packRuncOptions(req.runcOptions) : undefined);
    const res = await this.ttrpc.call(
      TaskService.create,
      {
        id: req.id,
        bundle: req.bundle,
        rootfs: req.rootfs ?? [],
        terminal: req.terminal ?? false,
        stdin: req.stdin ?? '',
        stdout: req.stdout ?? '',
        stderr: req.stderr ?? '',
        checkpoint: req.checkpoint ?? '',
        parentCheckpoint: req.parentCheckpoint ?? '',
        options,
      },
      this.slow(o),
    );
    return { pid: res.pid };
  }

  async start(id: string, execId = '', o?: CallOptions): Promise<{ pid: number }> {
    const res = await this.ttrpc.call(TaskService.start, { id, execId }, this.slow(o));
    return { pid: res.pid };
  }

  async delete(id: string, execId = '', o?: CallOptions): Promise<ExitInfo> {
    const res = await this.ttrpc.call(TaskService.delete, { id, execId }, this.quick(o));
    return { pid: res.pid, exitStatus: res.exitStatus, exitedAtNs: timestampToNs(res.exitedAt) };
  }

  async state(id: string, execId = '', o?: CallOptions): Promise<TaskState> {
    const r = await this.ttrpc.call(TaskService.state, { id, execId }, this.quick(o));
    return {
      id: r.id,
      execId: r.execId,
      bundle: r.bundle,
      pid: r.pid,
      status: STATUS_NAMES[r.status] ?? 'unknown',
      stdin: r.stdin,
      stdout: r.stdout,
      stderr: r.stderr,
      terminal: r.terminal,
      exitStatus: r.exitStatus,
      exitedAtNs: timestampToNs(r.exitedAt),
    };
  }

  async pids(id: string, o?: CallOptions): Promise<ProcessEntry[]> {
    const res = await this.ttrpc.call(TaskService.pids, { id }, this.quick(o));
    return res.processes.map((p) => {
      const execId = unpackProcessExecId(p.info);
      return execId ? { pid: p.pid, execId } : { pid: p.pid };
    });
  }

  async pause(id: string, o?: CallOptions): Promise<void> {
    await this.ttrpc.call(TaskService.pause, { id }, this.quick(o));
  }

  async resume(id: string, o?: CallOptions): Promise<void> {
    await this.ttrpc.call(TaskService.resume, { id }, this.quick(o));
  }

  async checkpoint(id: string, path: string, runcOptions?: Partial<RuncCheckpointOptions>, o?: CallOptions): Promise<void> {
    const options = runcOptions ? packRuncCheckpointOptions(runcOptions) : undefined;
    await this.ttrpc.call(TaskService.checkpoint, { id, path, options }, this.slow(o));
  }

  /** Send `signal` (a number, e.g. os.constants.signals.SIGTERM) to the task or one exec. */
  async kill(id: string, signal: number, opts: { execId?: string; all?: boolean } = {}, o?: CallOptions): Promise<void> {
    await this.ttrpc.call(
      TaskService.kill,
      { id, execId: opts.execId ?? '', signal, all: opts.all ?? false },
      this.quick(o),
    );
  }

  /** Register an exec process; it runs only after start(id, execId). */
  async exec(req: ExecOptions, o?: CallOptions): Promise<void> {
    await this.ttrpc.call(
      TaskService.exec,
      {
        id: req.id,
        execId: req.execId,
        terminal: req.terminal ?? false,
        stdin: req.stdin ?? '',
        stdout: req.stdout ?? '',
        stderr: req.stderr ?? '',
        spec: packOciJson(TYPE_URL.ociProcess, req.process),
      },
      this.slow(o),
    );
  }

  async resizePty(id: string, execId: string, width: number, height: number, o?: CallOptions): Promise<void> {
    await this.ttrpc.call(TaskService.resizePty, { id, execId, width, height }, this.quick(o));
  }

  /** Close the process's stdin in the shim (the reader sees EOF). */
  async closeIO(id: string, execId = '', o?: CallOptions): Promise<void> {
    await this.ttrpc.call(TaskService.closeIo, { id, execId, stdin: true }, this.quick(o));
  }

  /** Apply OCI LinuxResources (JSON object as in config.json's linux.resources). */
  async update(id: string, resources: object, annotations: Record<string, string> = {}, o?: CallOptions): Promise<void> {
    await this.ttrpc.call(
      TaskService.update,
      { id, resources: packOciJson(TYPE_URL.ociLinuxResources, resources), annotations },
      this.quick(o),
    );
  }

  /** Resolves when the process exits. No deadline unless one is given. */
  async wait(id: string, execId = '', o?: CallOptions): Promise<{ exitStatus: number; exitedAtNs: bigint }> {
    const res = await this.ttrpc.call(TaskService.wait, { id, execId }, { timeoutMs: 0, ...o });
    return { exitStatus: res.exitStatus, exitedAtNs: timestampToNs(res.exitedAt) };
  }

  async stats(id: string, o?: CallOptions): Promise<StatsMetrics> {
    const res = await this.ttrpc.call(TaskService.stats, { id }, this.quick(o));
    return unpackStats(res.stats);
  }

  async connect(id: string, o?: CallOptions): Promise<ConnectInfo> {
    const res = await this.ttrpc.call(TaskService.connect, { id }, this.quick(o));
    return { shimPid: res.shimPid, taskPid: res.taskPid, version: res.version };
  }

  /**
   * Ask the shim to exit. It only does so once it serves no more tasks; it may drop the
   * connection before answering, which counts as success (containerd does the same).
   */
  async shutdown(id: string, now = false, o?: CallOptions): Promise<void> {
    if (this.ttrpc.closed) {
      throw new TtrpcClosedError(`Shutdown of shim for ${id}: the connection to ${this.ttrpc.address} is already closed`);
    }
    try {
      await this.ttrpc.call(TaskService.shutdown, { id, now }, this.quick(o));
    } catch (err) {
      if (err instanceof TtrpcClosedError) return;
      throw err;
    }
  }
}
