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

/** /proc/<pid>/net/dev: counters of every interface in that process's network namespace. */
export function parseNetDev(text: string): IfaceCounters[] {
  const out: IfaceCounters[] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (f.length < 16) continue;
    out.push({ name, rxBytes: f[0]!, rxErrors: f[2]!, txBytes: f[8]!, txErrors: f[10]! });
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
