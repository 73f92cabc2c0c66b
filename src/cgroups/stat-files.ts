/**
 * The files the stats reader reads, per cgroup mode, and a descriptor cache for them. Each file
 * read on every pass is opened once and re-read with pread at offset 0, which makes the kernel
 * generate fresh content (seq_file restarts at 0): one syscall per read instead of
 * open + read + close (measured here: ~1-3 µs instead of ~7-9 µs for a small cgroup file).
 * Files read only every few seconds (limits, high-water marks, PSI) are kept open too while
 * there is room (see Keep).
 *
 * Errors are classified rather than thrown: a file this kernel or hierarchy lacks is ABSENT
 * (and not tried again for a while), a cgroup removed under a cached descriptor (ENODEV) or
 * before an open (ENOENT with its directory gone) is GONE, anything else is FAILED with the
 * reason kept. A cached descriptor that fails is closed and the path opened afresh once, so a
 * cgroup re-created at the same path is read correctly.
 */
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { PreadBuffer } from '../util/pread.js';
import { errnoCode, messageOf } from '../util/errors.js';
import type { CgroupLayout } from './types.js';

/** File indices (dense, for typed-array slots). */
export const F = {
  /** v1 cpuacct.usage; v2 cpu.stat (usage, user/system and throttling in one file). */
  usage: 0,
  /** v1 cpu.stat (CFS periods, throttling, burst). v2: folded into `usage`. */
  cfs: 1,
  /** v1 cpuacct.stat (user/system ticks). */
  split: 2,
  memUsage: 3,
  memStat: 4,
  memLimit: 5,
  memPeak: 6,
  /** v1 memory.failcnt. */
  memFailcnt: 7,
  /** v1 memory.oom_control. */
  memOom: 8,
  /** v2 memory.events. */
  memEvents: 9,
  pids: 10,
  pidsMax: 11,
  psiCpu: 12,
  psiMemory: 13,
  psiIo: 14,
  /** v1 `tasks` of the cpu hierarchy; v2 cgroup.threads. */
  threads: 15,
} as const;
export const FILE_COUNT = 16;

/**
 * How long a descriptor is kept: 'hot' files (read on most passes) while fewer than maxOpen
 * are open; 'cool' ones (read every few seconds: a fresh open costs ~10 µs more than a pread)
 * while fewer than half of maxOpen are, so hot files keep the room on a crowded node; 'never'
 * for v1 pid lists: the kernel keeps the list an open file built and hands it out again to
 * re-reads that come less than a second apart (stale: a process that joined since is missing),
 * while a new open builds a fresh one.
 */
export type Keep = 'hot' | 'cool' | 'never';

/** Where one file lives: the hierarchy root, the file name, and how its descriptor is kept. */
export interface FileSpec {
  root: string;
  name: string;
  keep: Keep;
}

/** The file table of a layout: index → spec (undefined where this layout has no such file). */
export function fileTable(layout: CgroupLayout, psi: boolean): (FileSpec | undefined)[] {
  const t: (FileSpec | undefined)[] = new Array(FILE_COUNT).fill(undefined);
  const at = (i: number, root: string | undefined, name: string, keep: Keep) => {
    if (root !== undefined) t[i] = { root, name, keep };
  };
  const psiRoot = psi ? layout.unified : undefined;
  if (layout.mode === 'v2') {
    const u = layout.unified!;
    at(F.usage, u, 'cpu.stat', 'hot');
    at(F.memUsage, u, 'memory.current', 'hot');
    at(F.memStat, u, 'memory.stat', 'hot');
    at(F.memLimit, u, 'memory.max', 'cool');
    at(F.memPeak, u, 'memory.peak', 'cool');
    at(F.memEvents, u, 'memory.events', 'cool');
    at(F.pids, u, 'pids.current', 'cool');
    at(F.pidsMax, u, 'pids.max', 'cool');
    at(F.threads, u, 'cgroup.threads', 'hot');
  } else {
    const { cpu, cpuacct, memory, pids } = layout.v1;
    at(F.usage, cpuacct, 'cpuacct.usage', 'hot');
    at(F.cfs, cpu, 'cpu.stat', 'hot');
    at(F.split, cpuacct, 'cpuacct.stat', 'cool');
    at(F.memUsage, memory, 'memory.usage_in_bytes', 'hot');
    at(F.memStat, memory, 'memory.stat', 'hot');
    at(F.memLimit, memory, 'memory.limit_in_bytes', 'cool');
    at(F.memPeak, memory, 'memory.max_usage_in_bytes', 'cool');
    at(F.memFailcnt, memory, 'memory.failcnt', 'cool');
    at(F.memOom, memory, 'memory.oom_control', 'cool');
    at(F.pids, pids, 'pids.current', 'cool');
    at(F.pidsMax, pids, 'pids.max', 'cool');
    at(F.threads, cpu, 'tasks', 'never');
  }
  at(F.psiCpu, psiRoot, 'cpu.pressure', 'cool');
  at(F.psiMemory, psiRoot, 'memory.pressure', 'cool');
  at(F.psiIo, psiRoot, 'io.pressure', 'cool');
  return t;
}

/** The directory whose existence says the cgroup exists (as readStats decides it). */
export function anchorRoot(layout: CgroupLayout): string | undefined {
  return layout.mode === 'v2' ? layout.unified : (layout.v1.memory ?? layout.v1.cpuacct ?? layout.v1.cpu);
}

export const ABSENT = -1;
export const GONE = -2;
export const FAILED = -3;

/** A file missing on this host is tried again after this many passes (a hierarchy may appear later, e.g. hybrid PSI). */
const RETRY_ABSENT = 60;

/** The files of one cgroup and their cached descriptors. */
export class CgroupFileSet {
  readonly paths: (string | undefined)[];
  readonly fds = new Int32Array(FILE_COUNT).fill(-1);
  readonly absentUntil = new Int32Array(FILE_COUNT);
  /** The cache generation of the last use. */
  gen = 0;

  constructor(
    readonly path: string,
    readonly anchor: string,
    table: readonly (FileSpec | undefined)[],
  ) {
    const sub = path === '/' ? '' : path;
    this.paths = table.map((s) => (s ? `${s.root}${sub}/${s.name}` : undefined));
  }
}

export class DescriptorCache {
  private readonly pread = new PreadBuffer();
  /** Descriptors open now. */
  open = 0;
  /** Advanced once per pass (sweep). */
  gen = 1;
  /** Why the last FAILED read failed. */
  failure = '';

  constructor(
    private readonly table: readonly (FileSpec | undefined)[],
    private readonly maxOpen: number,
  ) {}

  /** The bytes of the last successful read are bytes()[0..n). */
  bytes(): Buffer {
    return this.pread.bytes;
  }

  text(n: number): string {
    return this.pread.text(n);
  }

  /** Read file `i` of `s` into the buffer: its length, or ABSENT / GONE / FAILED. */
  read(s: CgroupFileSet, i: number): number {
    const path = s.paths[i];
    if (path === undefined) return ABSENT;
    const cached = s.fds[i]!;
    if (cached >= 0) {
      try {
        return this.pread.read(cached);
      } catch (err) {
        this.closeSlot(s, i);
        const code = errnoCode(err);
        if (code !== 'ENODEV' && code !== 'ENOENT' && code !== 'ESRCH') return this.fail(`read ${path}`, err);
        // Fall through: the path may name a new cgroup now.
      }
    }
    if (s.absentUntil[i]! > this.gen) return ABSENT;
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY);
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'ENOENT' && code !== 'ENODEV') return this.fail(`open ${path}`, err);
      if (!existsSync(s.anchor)) return GONE;
      s.absentUntil[i] = this.gen + RETRY_ABSENT;
      return ABSENT;
    }
    let n: number;
    try {
      n = this.pread.read(fd);
    } catch (err) {
      closeSync(fd);
      if (errnoCode(err) === 'ENODEV') return existsSync(s.anchor) ? ABSENT : GONE;
      return this.fail(`read ${path}`, err);
    }
    const keep = this.table[i]!.keep;
    if (keep !== 'never' && this.open < (keep === 'hot' ? this.maxOpen : this.maxOpen >> 1)) {
      s.fds[i] = fd;
      this.open++;
    } else closeSync(fd);
    return n;
  }

  private fail(what: string, err: unknown): number {
    this.failure = `${what}: ${errnoCode(err) ?? messageOf(err)}`;
    return FAILED;
  }

  private closeSlot(s: CgroupFileSet, i: number): void {
    const fd = s.fds[i]!;
    if (fd < 0) return;
    s.fds[i] = -1;
    this.open--;
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
  }

  /** Close every descriptor of `s`. */
  release(s: CgroupFileSet): void {
    for (let i = 0; i < FILE_COUNT; i++) this.closeSlot(s, i);
  }
}
