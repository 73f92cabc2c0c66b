import { EventEmitter } from 'node:events';
import type { Logger } from '../../util/log.js';
import type { ShimLog } from './shim-log.js';
import { TaskClient } from './task-client.js';
import type { TtrpcClient } from './ttrpc/client.js';

/** What a caller persists to reconnect to a running shim after a berthd restart. */
export interface ShimInfo {
  /** The id the shim was started with (the pod/sandbox id for a pod's shim). */
  id: string;
  /** ttrpc address the shim printed, "unix:///run/containerd/s/<hash>". */
  address: string;
  /** The bundle the shim runs in (holds its `log` fifo). */
  bundle: string;
  /** Shim binary (needed for the dead-shim `delete`). */
  binary: string;
  namespace: string;
  /** The shim daemon's pid, from Task.Connect (0 if the shim did not say). */
  shimPid: number;
}

export interface ShimCloseEvent {
  info: ShimInfo;
  /** True when the connection ended without close()/shutdown() from our side: the shim died. */
  unexpected: boolean;
  reason: Error;
}

/**
 * One live connection to one shim daemon (one per pod). `task` drives every container of the
 * pod. Emits 'close' once when the connection ends.
 */
export class Shim extends EventEmitter<{ close: [ShimCloseEvent] }> {
  readonly task: TaskClient;
  private closing = false;

  constructor(
    readonly info: ShimInfo,
    readonly ttrpc: TtrpcClient,
    private readonly shimLog: ShimLog | undefined,
    private readonly log: Logger,
    task?: TaskClient,
  ) {
    super();
    this.task = task ?? new TaskClient(ttrpc);
    ttrpc.once('close', (reason) => {
      const unexpected = !this.closing;
      if (unexpected) {
        this.log.warn({ shim: info.id, address: info.address, err: reason.message }, 'shim connection lost');
      }
      // Give the log fifo a moment to deliver the shim's last words before we stop reading.
      if (this.shimLog) void Promise.race([this.shimLog.ended(), delay(200)]).then(() => this.shimLog?.close());
      this.emit('close', { info, unexpected, reason });
    });
  }

  get closed(): boolean {
    return this.ttrpc.closed;
  }

  /** Recent shim log lines (for error messages). */
  lastLogLines(): string[] {
    return this.shimLog?.lastLines() ?? [];
  }

  /** Drop the connection, leaving the shim and its containers running. */
  close(): void {
    this.closing = true;
    this.ttrpc.close();
    this.shimLog?.close();
  }

  /**
   * Ask the shim to exit (it does so only once it serves no more tasks) and wait up to
   * `waitMs` for it to go. Returns true if it went away, false if it is still serving.
   */
  async shutdown(waitMs = 2_000): Promise<boolean> {
    if (this.ttrpc.closed) return true;
    this.closing = true;
    const gone = new Promise<boolean>((resolve) => this.ttrpc.once('close', () => resolve(true)));
    try {
      await this.task.shutdown(this.info.id);
    } catch (err) {
      this.closing = false;
      throw err;
    }
    const exited = await Promise.race([gone, delay(waitMs).then(() => false)]);
    if (!exited) this.closing = false;
    return exited;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
