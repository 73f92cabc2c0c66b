/** Node-level readings QoS needs from /proc and /sys (not cgroupfs): CPU time, memory, online CPUs. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { expandCpuList } from '../cgroups/index.js';

export interface CpuTimes {
  /** Jiffies spent doing work (user, nice, system, irq, softirq, steal). */
  busy: number;
  /** busy + idle + iowait. */
  total: number;
}

/** The aggregate "cpu " line of /proc/stat. */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** Cores used between two readings on a node with `cpus` CPUs. */
export function coresBetween(prev: CpuTimes, cur: CpuTimes, ncpu: number): number | undefined {
  const dt = cur.total - prev.total;
  if (dt <= 0) return undefined;
  return Math.max(0, Math.min(ncpu, ((cur.busy - prev.busy) / dt) * ncpu));
}

export interface MemInfo {
  totalBytes: number;
  availableBytes: number;
}

export function parseMeminfo(text: string): MemInfo | undefined {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const totalBytes = kb('MemTotal');
  const availableBytes = kb('MemAvailable') ?? kb('MemFree');
  return totalBytes === undefined || availableBytes === undefined ? undefined : { totalBytes, availableBytes };
}

export interface NodeReader {
  cpuTimes(): CpuTimes | undefined;
  meminfo(): MemInfo | undefined;
  onlineCpus(): number[];
}

function tryRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Reads the host's /proc (or a fake tree's, for tests). */
export function nodeReader(procRoot = '/proc', sysRoot = '/sys'): NodeReader {
  return {
    cpuTimes: () => {
      const t = tryRead(join(procRoot, 'stat'));
      return t === undefined ? undefined : parseProcStat(t);
    },
    meminfo: () => {
      const t = tryRead(join(procRoot, 'meminfo'));
      return t === undefined ? undefined : parseMeminfo(t);
    },
    onlineCpus: () => {
      const t = tryRead(join(sysRoot, 'devices/system/cpu/online'));
      try {
        if (t !== undefined) return expandCpuList(t);
      } catch {
        // fall through
      }
      return cpus().map((_, i) => i);
    },
  };
}
