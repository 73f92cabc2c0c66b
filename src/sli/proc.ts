/** Small /proc readers for the collectors: a process's cgroup path, its netns interface counters, a task's schedstat. */
import { readFileSync } from 'node:fs';

/** Reads a whole kernel file (KernelFiles, or readFileSync in tests). */
export interface FileReader {
  read(path: string): string;
}

/**
 * The cgroup path of `pid` as the cgroups library addresses it: on v2 the "0::" line, on v1
 * the memory controller's (all v1 controllers share the path for runc containers).
 */
export function parseProcCgroup(text: string, v2: boolean): string | undefined {
  for (const line of text.split('\n')) {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    const ctrls = line.slice(a + 1, b);
    const path = line.slice(b + 1);
    if (v2 ? ctrls === '' : ctrls.split(',').includes('memory')) return path;
  }
  return undefined;
}

export function procCgroupPath(pid: number, v2: boolean): string | undefined {
  try {
    return parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), v2);
  } catch {
    return undefined;
  }
}

export interface IfaceCounters {
  name: string;
  rxBytes: number;
  rxErrors: number;
  txBytes: number;
  txErrors: number;
}

/** The whitespace-separated numbers of text[from..to) into `out` (cleared first); stops after `max`. */
function numbersOf(text: string, from: number, to: number, out: number[], max: number): number[] {
  out.length = 0;
  let i = from;
  while (i < to && out.length < max) {
    while (i < to && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    if (i >= to) break;
    let v = 0;
    for (; i < to; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
    }
    out.push(v);
    while (i < to && text.charCodeAt(i) !== 32 && text.charCodeAt(i) !== 9) i++;
  }
  return out;
}

const fields: number[] = [];

/**
 * /proc/<pid>/net/dev: counters of every interface in that process's network namespace. After
 * two header lines, "  eth0: rxBytes rxPackets rxErrs … (8 receive fields) txBytes txPackets
 * txErrs …" per interface. Read for every pod every pass, so it scans instead of splitting.
 */
export function parseNetDev(text: string): IfaceCounters[] {
  const out: IfaceCounters[] = [];
  let start = text.indexOf('\n', text.indexOf('\n') + 1) + 1;
  while (start > 0 && start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const colon = text.indexOf(':', start);
    if (colon > start && colon < end) {
      const f = numbersOf(text, colon + 1, end, fields, 11);
      if (f.length === 11) out.push({ name: text.slice(start, colon).trim(), rxBytes: f[0]!, rxErrors: f[2]!, txBytes: f[8]!, txErrors: f[10]! });
    }
    start = end + 1;
  }
  return out;
}

export function netDevOf(pid: number, files?: FileReader): IfaceCounters[] | undefined {
  const path = `/proc/${pid}/net/dev`;
  try {
    return parseNetDev(files ? files.read(path) : readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

export interface SchedStat {
  /** Time spent on a CPU, ns. */
  runNs: number;
  /** Time spent runnable but waiting for a CPU (run-queue delay), ns. */
  waitNs: number;
  /** Number of times it ran on a CPU. */
  slices: number;
}

/** /proc/<tid>/schedstat: "<run ns> <wait ns> <timeslices>". */
export function parseSchedStat(text: string): SchedStat | undefined {
  const f = text.trim().split(/\s+/);
  if (f.length < 3) return undefined;
  const [runNs, waitNs, slices] = f.map(Number) as [number, number, number];
  if (![runNs, waitNs, slices].every(Number.isFinite)) return undefined;
  return { runNs, waitNs, slices };
}

