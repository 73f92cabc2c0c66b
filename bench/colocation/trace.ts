/**
 * Where the wake-up probe's time goes: the kernel's own scheduler events (ftrace sched_waking and
 * sched_switch, in a tracefs instance of the bench's own) over one probe window, turned into
 * wake-up delays (waking → on CPU) of the LS echo processes and of the client's threads, each
 * with the CPU it ran on and what that CPU was running just before (idle, a BE task, other).
 * Opt-in (BENCH_TRACE=1): the events cost a little CPU on every context switch.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pct } from './stats.js';

const TRACEFS = '/sys/kernel/tracing';
const EVENTS = ['sched/sched_waking', 'sched/sched_switch'];

/** One tracefs instance, so the bench neither reads nor disturbs the global buffer. */
export class SchedTrace {
  private constructor(private readonly dir: string) {}

  static open(name = 'berth-colocation'): SchedTrace {
    if (!existsSync(join(TRACEFS, 'instances'))) execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS]);
    const dir = join(TRACEFS, 'instances', name);
    if (!existsSync(dir)) mkdirSync(dir);
    // One clock for every CPU: a waking on one CPU and the switch on another are compared.
    writeFileSync(join(dir, 'trace_clock'), 'mono');
    writeFileSync(join(dir, 'buffer_size_kb'), '16384');
    for (const e of EVENTS) writeFileSync(join(dir, 'events', e, 'enable'), '1');
    return new SchedTrace(dir);
  }

  start(): void {
    writeFileSync(join(this.dir, 'trace'), '');
    writeFileSync(join(this.dir, 'tracing_on'), '1');
  }

  /** Stop and give the buffer's text. */
  stop(): string {
    writeFileSync(join(this.dir, 'tracing_on'), '0');
    return readFileSync(join(this.dir, 'trace'), 'utf8');
  }

  close(): void {
    writeFileSync(join(this.dir, 'tracing_on'), '0');
    for (const e of EVENTS) writeFileSync(join(this.dir, 'events', e, 'enable'), '0');
    rmdirSync(this.dir);
  }
}

/** What a CPU ran just before a woken task got it. */
export type Prev = 'idle' | 'be' | 'other';

/**
 * A tracked task kept off a CPU: woken (waking → switched in), or preempted (switched out while
 * runnable → switched in again).
 */
export interface Wake {
  kind: 'woken' | 'preempted';
  pid: number;
  /** When it was woken, and when it got a CPU (µs, the trace's monotonic clock). */
  t: number;
  runT: number;
  /** Delay from sched_waking to sched_switch onto a CPU, µs. */
  us: number;
  /** The task that woke it (whatever ran when an interrupt did), the CPU that ran on, and the one the task ran on. */
  wakerPid: number;
  wakerCpu: number;
  cpu: number;
  prev: Prev;
  /** Woken: the task the CPU ran just before it (labelled, else its comm). Preempted: the task that took its CPU. */
  prevComm: string;
}

/** One scheduler event of the trace's text. */
export type SchedEvent =
  | { kind: 'waking'; cpu: number; t: number; wakerPid: number; pid: number }
  | { kind: 'switch'; cpu: number; t: number; prevPid: number; prevComm: string; prevState: string; nextPid: number; nextComm: string };

const LINE = /^\s*(.*)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+):\s+(sched_waking|sched_switch):\s+(.*)$/;
const WAKING = /(?:^|\s)pid=(\d+)/;
const SWITCH = /prev_comm=(.*) prev_pid=(\d+) prev_prio=\S+ prev_state=(\S+) ==> next_comm=(.*) next_pid=(\d+)/;

/** The sched_waking and sched_switch lines of a tracefs `trace` text, in order (µs timestamps). */
export function parseTrace(text: string): SchedEvent[] {
  const out: SchedEvent[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const cpu = Number(m[3]);
    const t = Number(m[4]) * 1e6;
    if (m[5] === 'sched_waking') {
      const w = WAKING.exec(m[6]!);
      if (w) out.push({ kind: 'waking', cpu, t, wakerPid: Number(m[2]), pid: Number(w[1]) });
      continue;
    }
    const sw = SWITCH.exec(m[6]!);
    if (sw) out.push({ kind: 'switch', cpu, t, prevComm: sw[1]!, prevPid: Number(sw[2]), prevState: sw[3]!, nextComm: sw[4]!, nextPid: Number(sw[5]) });
  }
  return out;
}

/**
 * Wake-ups of the tasks in `tracked`; `be` names the BE pids (to tell what a CPU was running) and
 * `label` names other tasks (berthd, the bench) where a comm would not tell them apart. A task woken
 * while still on its CPU (it had not switched out yet) has no switch-in: its waking is dropped when
 * it next switches out.
 */
export function wakeups(events: SchedEvent[], tracked: Set<number>, be: Set<number>, label: (pid: number) => string | undefined = () => undefined): Wake[] {
  const pending = new Map<number, { kind: Wake['kind']; t: number; wakerPid: number; wakerCpu: number; by?: { pid: number; comm: string } }>();
  const out: Wake[] = [];
  for (const e of events) {
    if (e.kind === 'waking') {
      if (tracked.has(e.pid) && !pending.has(e.pid)) pending.set(e.pid, { kind: 'woken', t: e.t, wakerPid: e.wakerPid, wakerCpu: e.cpu });
      continue;
    }
    pending.delete(e.prevPid);
    if (tracked.has(e.prevPid) && e.prevState.startsWith('R')) {
      pending.set(e.prevPid, { kind: 'preempted', t: e.t, wakerPid: e.nextPid, wakerCpu: e.cpu, by: { pid: e.nextPid, comm: e.nextComm } });
    }
    const w = pending.get(e.nextPid);
    if (!w) continue;
    pending.delete(e.nextPid);
    const p = w.by ?? { pid: e.prevPid, comm: e.prevComm };
    const prev: Prev = p.pid === 0 ? 'idle' : be.has(p.pid) ? 'be' : 'other';
    out.push({ kind: w.kind, pid: e.nextPid, t: w.t, runT: e.t, us: e.t - w.t, wakerPid: w.wakerPid, wakerCpu: w.wakerCpu, cpu: e.cpu, prev, prevComm: label(p.pid) ?? p.comm });
  }
  return out;
}

/** Count, p50, p99 and the share over `slowUs` of each (CPU, what it ran before) group. */
export function summarize(wakes: Wake[], slowUs: number): string[] {
  const groups = new Map<string, number[]>();
  for (const w of wakes) {
    const k = w.kind === 'preempted' ? `preempted on cpu${w.wakerCpu} by ${w.prev}` : `woken, cpu${w.cpu} after ${w.prev}${w.cpu === w.wakerCpu ? ' (waker\'s cpu)' : ''}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(w.us);
  }
  const all = wakes.map((w) => w.us);
  const slow = all.filter((u) => u > slowUs).length;
  const lines = [`n=${all.length} p50 ${pct(all, 50).toFixed(0)} µs p99 ${pct(all, 99).toFixed(0)} µs, ${slow} over ${slowUs} µs`];
  for (const [k, us] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
    const s = us.filter((u) => u > slowUs).length;
    lines.push(`  ${k.padEnd(38)} ${String(us.length).padStart(6)} (${((us.length / all.length) * 100).toFixed(0).padStart(3)} %)  p50 ${pct(us, 50).toFixed(0).padStart(4)} µs  p99 ${pct(us, 99).toFixed(0).padStart(5)} µs  over ${slowUs} µs: ${s}`);
  }
  const blame = new Map<string, { n: number; us: number }>();
  for (const w of wakes) {
    if (w.us <= slowUs || w.prev === 'idle') continue;
    const b = blame.get(w.prevComm) ?? blame.set(w.prevComm, { n: 0, us: 0 }).get(w.prevComm)!;
    b.n++;
    b.us += w.us;
  }
  const top = [...blame].sort((a, b) => b[1].us - a[1].us).slice(0, 6);
  if (top.length) lines.push(`  slow behind a task, by the task: ${top.map(([c, b]) => `${c} ×${b.n} (${(b.us / 1000).toFixed(1)} ms)`).join(', ')}`);
  return lines;
}

/** How long the tasks in `pids` held a CPU at a stretch (switch-in → switch-out), µs. */
export function bursts(events: SchedEvent[], pids: Set<number>): number[] {
  const on = new Map<number, number>();
  const out: number[] = [];
  for (const e of events) {
    if (e.kind !== 'switch') continue;
    const start = on.get(e.cpu);
    if (start !== undefined && pids.has(e.prevPid)) out.push(e.t - start);
    on.delete(e.cpu);
    if (pids.has(e.nextPid)) on.set(e.cpu, e.t);
  }
  return out;
}
