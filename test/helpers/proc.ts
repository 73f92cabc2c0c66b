/**
 * Facts about a process as /proc shows them, for tests and benches.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: the tick of /proc/<pid>/stat times, 100 on every Linux architecture Node runs on. */
const NS_PER_TICK = 10_000_000;

/** CPU time `pid` has used (utime + stime), in ns. Throws if the process is gone. */
export function processCpuNs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * NS_PER_TICK;
}
