/**
 * Creating, populating, freezing, killing and removing cgroups across every hierarchy.
 * A cgroup path ("/a/b") exists once per hierarchy: in each v1 controller mount, in the
 * unified mount (v2; and hybrid, where runc also places processes so per-cgroup PSI works).
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode, failedPrecondition } from '../util/errors.js';
import { logger } from '../util/log.js';
import { cgroupFileError, readCgroupFile, readIfExists, readKernelFile, writeCgroupFile, CgroupFileError } from './fsio.js';
import { parseControllerList } from './mountinfo.js';
import { parseFlatKeyed, parsePids } from './parse.js';
import type { CgroupSystem } from './detect.js';

const log = logger('cgroups');

/** Distinct mountpoints that hold controllers (+ unified in hybrid mode): where berth creates cgroups. */
export function createRoots(sys: CgroupSystem): string[] {
  const { layout } = sys;
  if (layout.mode === 'v2') return [layout.unified!];
  const roots = new Set(Object.values(layout.v1).filter((m): m is string => m !== undefined));
  if (layout.unified) roots.add(layout.unified);
  return [...roots];
}

/** Every mountpoint, including named hierarchies (name=systemd) that runc also joins. */
export function allRoots(sys: CgroupSystem): string[] {
  return [...new Set([...createRoots(sys), ...Object.values(sys.layout.named)])];
}

function components(path: string): string[] {
  return path.split('/').filter((p) => p !== '');
}

/** v1 cpuset children start with empty cpus/mems (no task can join): copy the parent's. */
async function initCpusetV1(dir: string, parentDir: string): Promise<void> {
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    const own = readCgroupFile(join(dir, file)).trim();
    if (own !== '') continue;
    const inherited = readCgroupFile(join(parentDir, file)).trim();
    await writeCgroupFile(join(dir, file), inherited, `${file}=${inherited}`);
  }
}

/** v2: let children of `dir` use every controller `dir` has (like runc). Failures are logged:
 * a cgroup with processes cannot delegate (no-internal-process rule). */
async function enableSubtreeControllers(dir: string): Promise<void> {
  const available = parseControllerList(readIfExists(join(dir, 'cgroup.controllers')) ?? '');
  const enabled = new Set(parseControllerList(readIfExists(join(dir, 'cgroup.subtree_control')) ?? ''));
  const missing = available.filter((c) => !enabled.has(c));
  if (missing.length === 0) return;
  const file = join(dir, 'cgroup.subtree_control');
  try {
    await writeCgroupFile(file, missing.map((c) => `+${c}`).join(' '), 'controllers');
  } catch {
    for (const c of missing) {
      try {
        await writeCgroupFile(file, `+${c}`, `+${c}`);
      } catch (err) {
        log.warn({ file, controller: c, err: (err as Error).message }, 'cannot enable controller for children');
      }
    }
  }
}

/**
 * Create `path` (mkdir -p) in every hierarchy. v1 cpuset levels get their parent's cpus/mems;
 * on the unified hierarchy in v2 mode each ancestor delegates its controllers to children.
 */
export async function createCgroup(sys: CgroupSystem, path: string): Promise<void> {
  const parts = components(path);
  for (const root of createRoots(sys)) {
    const isCpusetV1 = sys.layout.mode !== 'v2' && root === sys.layout.v1.cpuset;
    const delegate = sys.layout.mode === 'v2' && root === sys.layout.unified;
    let dir = root;
    for (const part of parts) {
      const parent = dir;
      dir = join(dir, part);
      if (delegate) await enableSubtreeControllers(parent);
      try {
        mkdirSync(dir);
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw cgroupFileError('create cgroup', dir, err);
      }
      if (isCpusetV1) await initCpusetV1(dir, parent);
    }
  }
}

/** rmdir, retrying EBUSY (tasks still draining) until the deadline. ENOENT counts as done. */
async function rmdirRetry(dir: string, deadline: number): Promise<void> {
  let delay = 2;
  for (;;) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const errno = errnoCode(err);
      if (errno === 'ENOENT') return;
      if (errno !== 'EBUSY' || Date.now() >= deadline) {
        const pids = listPids(dir);
        const e = cgroupFileError('remove cgroup', dir, err);
        throw new CgroupFileError(e.code, pids.length ? `${e.message}; processes still in it: ${pids.slice(0, 10).join(', ')}` : e.message, dir, errno, err);
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 100);
    }
  }
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw cgroupFileError('list', dir, err);
  }
}

async function removeTree(dir: string, deadline: number): Promise<void> {
  for (const child of subdirs(dir)) await removeTree(join(dir, child), deadline);
  await rmdirRetry(dir, deadline);
}

/** Remove `path` and its descendants in every hierarchy. Retries while tasks drain. */
export async function removeCgroup(sys: CgroupSystem, path: string, timeoutMs = 5000): Promise<void> {
  if (components(path).length === 0) throw failedPrecondition('refusing to remove the root cgroup');
  const deadline = Date.now() + timeoutMs;
  for (const root of allRoots(sys)) await removeTree(join(root, path), deadline);
}

/** Pids in cgroup.procs of one directory; [] if the cgroup is gone. */
function listPids(dir: string): number[] {
  try {
    return parsePids(readKernelFile(join(dir, 'cgroup.procs')));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENODEV') return [];
    throw cgroupFileError('read', join(dir, 'cgroup.procs'), err);
  }
}

/** The processes in `path`: union over the controller hierarchies (a v1 process may sit in
 * only some), optionally including descendants. [] when the cgroup does not exist. */
export function cgroupPids(sys: CgroupSystem, path: string, recursive = false): number[] {
  const out = new Set<number>();
  const walk = (dir: string): void => {
    for (const pid of listPids(dir)) out.add(pid);
    if (recursive) for (const child of subdirs(dir)) walk(join(dir, child));
  };
  for (const root of createRoots(sys)) walk(join(root, path));
  return [...out].sort((a, b) => a - b);
}

/** Move a process into `path` in every hierarchy where the cgroup exists. EINVAL is retried
 * briefly (a task still being forked cannot move yet). */
export async function attachProcess(sys: CgroupSystem, path: string, pid: number): Promise<void> {
  let attached = 0;
  for (const root of createRoots(sys)) {
    const dir = join(root, path);
    if (!existsSync(dir)) continue;
    for (let attempt = 0; ; attempt++) {
      try {
        await writeCgroupFile(join(dir, 'cgroup.procs'), String(pid), `pid ${pid}`);
        break;
      } catch (err) {
        if (!(err instanceof CgroupFileError) || err.errno !== 'EINVAL' || attempt >= 5) throw err;
        await sleep(20);
      }
    }
    attached++;
  }
  if (attached === 0) throw failedPrecondition(`cannot attach pid ${pid}: cgroup ${path} does not exist in any hierarchy`);
}

/** The directory that freezes `path`: v1 freezer mount, else unified (cgroup.freeze). */
function freezeTarget(sys: CgroupSystem, path: string): { dir: string; v1: boolean } | undefined {
  const { layout } = sys;
  if (layout.mode !== 'v2' && layout.v1.freezer) {
    const dir = join(layout.v1.freezer, path);
    return existsSync(dir) ? { dir, v1: true } : undefined;
  }
  if (layout.mode === 'v2') {
    const dir = join(layout.unified!, path);
    return existsSync(join(dir, 'cgroup.freeze')) ? { dir, v1: false } : undefined;
  }
  return undefined;
}

function isFrozen(t: { dir: string; v1: boolean }): boolean {
  if (t.v1) return readCgroupFile(join(t.dir, 'freezer.state')).trim() === 'FROZEN';
  return parseFlatKeyed(readCgroupFile(join(t.dir, 'cgroup.events'))).frozen === 1;
}

/** Freeze (true) or thaw (false) `path` and its descendants. Waits up to `timeoutMs` for the
 * freeze to complete; returns whether it did (a task in uninterruptible sleep can delay it). */
export async function setFrozen(sys: CgroupSystem, path: string, frozen: boolean, timeoutMs = 2000): Promise<boolean> {
  const t = freezeTarget(sys, path);
  if (!t) throw failedPrecondition(`cannot ${frozen ? 'freeze' : 'thaw'} cgroup ${path}: no freezer for it on this host`);
  if (t.v1) await writeCgroupFile(join(t.dir, 'freezer.state'), frozen ? 'FROZEN' : 'THAWED', frozen ? 'freezer.state=FROZEN' : 'freezer.state=THAWED');
  else await writeCgroupFile(join(t.dir, 'cgroup.freeze'), frozen ? '1' : '0', `cgroup.freeze=${frozen ? 1 : 0}`);
  if (!frozen) return true;
  const deadline = Date.now() + timeoutMs;
  while (!isFrozen(t)) {
    if (Date.now() >= deadline) return false;
    await sleep(5);
  }
  return true;
}

/** Thaw `path` and every descendant: a cgroup frozen on its own (v1 self_freezing, v2
 * cgroup.freeze=1) stays frozen when its parent thaws, and v1 frozen tasks cannot die. */
async function thawTree(sys: CgroupSystem, path: string): Promise<void> {
  const t = freezeTarget(sys, path);
  if (!t) return;
  const walk = async (dir: string): Promise<void> => {
    if (t.v1) await writeCgroupFile(join(dir, 'freezer.state'), 'THAWED', 'freezer.state=THAWED');
    else if (readIfExists(join(dir, 'cgroup.freeze'))?.trim() === '1') await writeCgroupFile(join(dir, 'cgroup.freeze'), '0', 'cgroup.freeze=0');
    for (const child of subdirs(dir)) await walk(join(dir, child));
  };
  await walk(t.dir);
}

function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (err) {
      if (errnoCode(err) !== 'ESRCH') throw err;
    }
  }
}

/**
 * SIGKILL every process in `path` and its descendants, then wait until they are gone.
 * v2 with cgroup.kill: one write (v2 lets fatal signals through its freezer). Otherwise freeze
 * (so nothing forks while we collect pids), kill, thaw the whole subtree (v1 frozen tasks die
 * only when thawed), and repeat until the cgroup is empty.
 */
export async function killCgroup(sys: CgroupSystem, path: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const killFile = sys.layout.mode === 'v2' ? join(sys.layout.unified!, path, 'cgroup.kill') : undefined;
  const useKillFile = killFile !== undefined && existsSync(killFile);
  const canFreeze = freezeTarget(sys, path) !== undefined;
  for (;;) {
    const pids = cgroupPids(sys, path, true);
    if (pids.length === 0) return;
    if (Date.now() >= deadline) {
      throw failedPrecondition(`cannot empty cgroup ${path}: processes ${pids.slice(0, 10).join(', ')} survived SIGKILL for ${timeoutMs} ms`);
    }
    if (useKillFile) {
      await writeCgroupFile(killFile, '1', 'cgroup.kill=1');
    } else if (canFreeze) {
      await setFrozen(sys, path, true, 500);
      try {
        killPids(cgroupPids(sys, path, true));
      } finally {
        await thawTree(sys, path);
      }
    } else {
      killPids(pids);
    }
    await sleep(10);
  }
}

/** Names of the child cgroups of `path` (in the unified hierarchy on v2, else the first v1 one). */
export function childCgroups(sys: CgroupSystem, path: string): string[] {
  const root = sys.layout.mode === 'v2' ? sys.layout.unified! : (sys.layout.v1.memory ?? sys.layout.v1.cpu ?? createRoots(sys)[0]!);
  return subdirs(join(root, path));
}
