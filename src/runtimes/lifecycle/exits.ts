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

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

/** The entry of `id` in `map`, made on first use. */
function deferredOf(map: Map<string, Deferred>, id: string): Deferred {
  let d = map.get(id);
  if (!d) {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    d = { promise, resolve };
    map.set(id, d);
  }
  return d;
}

export class ExitWatcher {
  private readonly waiters = new Map<string, Deferred>();
  private readonly watching = new Set<string>();
  /** Containers berthd itself sent SIGKILL: their 137 is not waited on for an OOM event. */
  private readonly killedByUs = new Set<string>();
  /** Resolved by the shim's OOM event of a container. */
  private readonly ooms = new Map<string, Deferred>();

  constructor(
    private readonly handlers: ExitHandlers,
    private readonly log: Logger,
  ) {}

  private waiter(id: string): Deferred {
    return deferredOf(this.waiters, id);
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
      this.killedByUs.delete(id);
      this.waiter(id).resolve();
    }
  }

  /** Forget a removed object. */
  forget(id: string): void {
    this.waiters.get(id)?.resolve();
    this.waiters.delete(id);
    this.watching.delete(id);
    this.killedByUs.delete(id);
    this.ooms.get(id)?.resolve();
    this.ooms.delete(id);
  }

  /** berthd is about to SIGKILL `id` (StopContainer's last resort). */
  killing(id: string): void {
    this.killedByUs.add(id);
  }

  /**
   * Whether an exit status of `id` may still be followed by the shim's OOM event: a SIGKILL
   * (137) berthd did not send. The shim reports the OOM kill and the exit on different paths
   * (its OOM watcher, and the reaper that answers Task.Wait), so the exit may come first.
   */
  mayAwaitOom(id: string, exitStatus: number): boolean {
    return exitStatus === 137 && !this.killedByUs.has(id);
  }

  /** Resolves when the shim reports an OOM kill in `id` (at once if it already has). */
  oomReported(id: string): Promise<void> {
    return deferredOf(this.ooms, id).promise;
  }

  /** Feed a shim event. */
  async event(ev: ShimEvent): Promise<void> {
    if (ev.kind === 'exit' && ev.id === ev.containerId) await this.exit(ev.containerId, ev.exitStatus, ev.exitedAtNs);
    else if (ev.kind === 'oom') {
      await this.handlers.onOom(ev.containerId).catch((err: unknown) => this.log.error({ err }, 'recording an OOM failed'));
      deferredOf(this.ooms, ev.containerId).resolve();
    }
  }
}
