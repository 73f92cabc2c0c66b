/**
 * The shim reports an OOM kill (its /tasks/oom event) and the exit (Task.Wait) on different
 * paths, so the exit can arrive first; a v2 VM run caught it reported as "Error". A SIGKILL exit
 * berthd did not send waits a moment for the OOM event; an OOM event after the exit was
 * recorded still corrects the reason.
 */
import { describe, expect, it } from 'vitest';
import { ExitWatcher } from '../../../src/runtimes/lifecycle/exits.js';
import { recordContainerExit, recordOom } from '../../../src/runtimes/lifecycle/container-teardown.js';
import type { ShimEvent } from '../../../src/runtimes/shim/index.js';
import { logger } from '../../../src/util/log.js';

const oomEvent = (containerId: string): ShimEvent => ({ kind: 'oom', containerId, namespace: 'k8s.io', topic: '/tasks/oom', timestampNs: 0n });

interface Rec {
  id: string;
  podId: string;
  phase: string;
  oomKilled: boolean;
  exitCode: number;
  reason: string;
  startedAtNs: string;
  finishedAtNs: string;
}

/** Just what recordContainerExit and recordOom touch, wired as the lifecycle wires them. */
function harness() {
  const c: Rec = { id: 'c1', podId: 'p1', phase: 'running', oomKilled: false, exitCode: 0, reason: '', startedAtNs: '1', finishedAtNs: '0' };
  const saved: string[] = [];
  const lc = {
    containers: { get: () => c, save: async (r: Rec) => void saved.push(`${r.phase}:${r.reason}`) },
    pods: { get: () => undefined },
    io: new Map(),
    events: { safeEmit: () => {} },
    log: logger('test'),
  } as Record<string, unknown>;
  const exits = new ExitWatcher(
    {
      onExit: (_id, status, at) => recordContainerExit(lc as never, c as never, status, at),
      onOom: () => recordOom(lc as never, c as never),
    },
    logger('test'),
  );
  lc.exits = exits;
  return { c, exits, saved };
}

describe('an OOM kill reported after the exit', () => {
  it('is recorded as OOMKilled when the OOM event follows the exit within the grace period', async () => {
    const { c, exits } = harness();
    const t0 = performance.now();
    const recorded = exits.exit('c1', 137, 5n);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.phase).toBe('running'); // still waiting for a possible OOM event
    await exits.event(oomEvent('c1'));
    await recorded;
    expect(c.phase).toBe('exited');
    expect(c.reason).toBe('OOMKilled');
    expect(c.exitCode).toBe(137);
    expect(performance.now() - t0).toBeLessThan(900); // woken by the event, not the timeout
  });

  it('is Error after the grace period without an OOM event, and corrected by a later one', async () => {
    const { c, exits, saved } = harness();
    await exits.exit('c1', 137, 5n);
    expect(c.reason).toBe('Error');
    await exits.event(oomEvent('c1'));
    expect(c.reason).toBe('OOMKilled');
    expect(saved.at(-1)).toBe('exited:OOMKilled');
  });

  it('does not wait when berthd sent the SIGKILL, nor for other exit statuses', async () => {
    const { c, exits } = harness();
    exits.killing('c1');
    expect(exits.mayAwaitOom('c1', 137)).toBe(false);
    const t0 = performance.now();
    await exits.exit('c1', 137, 5n);
    expect(performance.now() - t0).toBeLessThan(200);
    expect(c.reason).toBe('Error');
    expect(exits.mayAwaitOom('c2', 1)).toBe(false);
    expect(exits.mayAwaitOom('c2', 137)).toBe(true);
  });
});
