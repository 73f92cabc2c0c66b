/**
 * Learning of exits. Two sources, both idempotent: a Task.Wait call kept open per running
 * process (exact, and survives missed events), and the shim's /tasks/exit and /tasks/oom
 * events on our events socket. Callers await `exited(id)` (e.g. StopContainer).
 */
import type { Logger } from '../../util/log.js';
import type { ShimEvent } from '../shim/index.js';
import type { TaskClient } from '../shim/index.js';

export interface ExitHandlers {
  /** Record the exit of a pod's or container's init process. Must be idempotent. */
  onExit(id: string, exitStatus: number, exitedAtNs: bigint): Promise<void>;
  /** The kernel OOM-killed a process of this container. */
  onOom(id: string): Promise<void>;
}

export class ExitWatcher {
  private readonly waiters = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  private readonly watching = new Set<string>();

  constructor(
    private readonly handlers: ExitHandlers,
    private readonly log: Logger,
  ) {}

  private waiter(id: string) {
    let w = this.waiters.get(id);
    if (!w) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      w = { promise, resolve };
      this.waiters.set(id, w);
    }
    return w;
  }

  /** Resolves when `id` has exited and its exit is recorded. */
  exited(id: string): Promise<void> {
    return this.waiter(id).promise;
  }

  /** Keep a Task.Wait open for `id`'s init process. */
  watch(id: string, task: TaskClient): void {
    if (this.watching.has(id)) return;
    this.watching.add(id);
    this.waiter(id);
    task.wait(id).then(
      (r) => this.exit(id, r.exitStatus, r.exitedAtNs),
      (err: unknown) => {
        // The shim went away (berthd shutdown or shim death): recovery or the shim-close
        // handler decides what happened; nothing to record here.
        this.watching.delete(id);
        this.log.debug({ id, err: (err as Error).message }, 'wait ended without an exit');
      },
    );
  }

  /** Record an exit (from Wait, an event, or recovery) and wake waiters. */
  async exit(id: string, exitStatus: number, exitedAtNs: bigint): Promise<void> {
    try {
      await this.handlers.onExit(id, exitStatus, exitedAtNs);
    } catch (err) {
      this.log.error({ id, err }, 'recording an exit failed');
    } finally {
      this.watching.delete(id);
      this.waiter(id).resolve();
    }
  }

  /** Forget a removed object. */
  forget(id: string): void {
    this.waiters.get(id)?.resolve();
    this.waiters.delete(id);
    this.watching.delete(id);
  }

  /** Feed a shim event. */
  async event(ev: ShimEvent): Promise<void> {
    if (ev.kind === 'exit' && ev.id === ev.containerId) await this.exit(ev.containerId, ev.exitStatus, ev.exitedAtNs);
    else if (ev.kind === 'oom') await this.handlers.onOom(ev.containerId).catch((err: unknown) => this.log.error({ err }, 'recording an OOM failed'));
  }
}
