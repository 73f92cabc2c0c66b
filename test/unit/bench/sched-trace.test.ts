/**
 * The co-location bench's reading of ftrace scheduler events (bench/colocation/trace.ts): which
 * delays it counts for a tracked task, and what it blames them on. Lines in the kernel's own text
 * format (tracefs `trace`, sched_waking and sched_switch).
 */
import { describe, expect, it } from 'vitest';
import { bursts, parseTrace, summarize, wakeups } from '../../../bench/colocation/trace.js';

const waking = (waker: string, cpu: number, t: number, comm: string, pid: number) =>
  `   ${waker} [00${cpu}] d..3.  ${t.toFixed(6)}: sched_waking: comm=${comm} pid=${pid} prio=120 target_cpu=00${cpu}`;
const sw = (cur: string, cpu: number, t: number, prev: [string, number, string], next: [string, number]) =>
  `   ${cur} [00${cpu}] d..2.  ${t.toFixed(6)}: sched_switch: prev_comm=${prev[0]} prev_pid=${prev[1]} prev_prio=120 prev_state=${prev[2]} ==> next_comm=${next[0]} next_pid=${next[1]} next_prio=120`;

describe('sched trace reading', () => {
  it('times a wake-up from sched_waking to the switch onto a CPU, and names what ran there before', () => {
    const text = [
      '# tracer: nop',
      waking('node-10', 0, 100.0, 'cat', 42),
      sw('sh-77', 1, 100.00004, ['sh', 77, 'R'], ['cat', 42]),
      sw('cat-42', 1, 100.0001, ['cat', 42, 'S'], ['sh', 77]),
    ].join('\n');
    const w = wakeups(parseTrace(text), new Set([42]), new Set([77]));
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ kind: 'woken', pid: 42, wakerPid: 10, wakerCpu: 0, cpu: 1, prev: 'be', prevComm: 'sh' });
    expect(w[0]!.us).toBeCloseTo(40, 3);
  });

  it('counts a preemption from the switch-out while runnable to the switch back in, blamed on the task that took the CPU', () => {
    const text = [
      sw('cat-42', 0, 5.0, ['cat', 42, 'R+'], ['node', 9]),
      sw('node-9', 0, 5.0025, ['node', 9, 'S'], ['cat', 42]),
    ].join('\n');
    const w = wakeups(parseTrace(text), new Set([42]), new Set(), (pid) => (pid === 9 ? 'berthd' : undefined));
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ kind: 'preempted', cpu: 0, prev: 'other', prevComm: 'berthd' });
    expect(w[0]!.us).toBeCloseTo(2500, 3);
  });

  it('drops the waking of a task that was still on its CPU (no switch-in follows for it)', () => {
    const text = [
      waking('node-10', 0, 1.0, 'cat', 42), // cat had not switched out yet
      sw('cat-42', 1, 1.5, ['cat', 42, 'S'], ['swapper/1', 0]),
      waking('node-10', 0, 2.0, 'cat', 42),
      sw('<idle>-0', 1, 2.00008, ['swapper/1', 0, 'R'], ['cat', 42]),
    ].join('\n');
    const w = wakeups(parseTrace(text), new Set([42]), new Set());
    expect(w.map((x) => Math.round(x.us))).toEqual([80]);
    expect(w[0]!.prev).toBe('idle');
  });

  it('ignores untracked tasks and summarizes per CPU and predecessor, naming who the slow ones waited behind', () => {
    const text = [
      waking('node-10', 0, 1.0, 'other', 50),
      sw('x-1', 0, 1.01, ['x', 1, 'R'], ['other', 50]),
      waking('node-10', 0, 2.0, 'cat', 42),
      sw('node-10', 0, 2.0002, ['node', 10, 'S'], ['cat', 42]),
    ].join('\n');
    const w = wakeups(parseTrace(text), new Set([42]), new Set());
    expect(w).toHaveLength(1);
    const lines = summarize(w, 50);
    expect(lines[0]).toContain('n=1');
    expect(lines.join('\n')).toMatch(/woken, cpu0 after other \(waker's cpu\)/);
    expect(lines.join('\n')).toMatch(/slow behind a task, by the task: node ×1 \(0\.2 ms\)/);
  });

  it('measures how long a task held a CPU at a stretch, per CPU', () => {
    const text = [
      sw('<idle>-0', 0, 1.0, ['swapper/0', 0, 'R'], ['node', 9]),
      sw('<idle>-0', 1, 1.0005, ['swapper/1', 0, 'R'], ['cat', 42]),
      sw('node-9', 0, 1.0015, ['node', 9, 'R+'], ['cat', 43]),
      sw('cat-42', 1, 1.002, ['cat', 42, 'S'], ['node', 9]),
      sw('node-9', 1, 1.0021, ['node', 9, 'S'], ['swapper/1', 0]),
    ].join('\n');
    expect(bursts(parseTrace(text), new Set([9])).map((us) => Math.round(us))).toEqual([1500, 100]);
  });
});
