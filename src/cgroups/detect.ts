/**
 * Detection of the cgroup mode, mountpoints and optional features. Features that the kernel
 * hides on the root cgroup (cpu.idle on v2, memory.high …) are found by listing a probe child
 * cgroup, created and removed here (or an existing cgroup named by `probeCgroup`).
 */
import { closeSync, existsSync, mkdirSync, openSync, readSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { errnoCode, failedPrecondition, messageOf } from '../util/errors.js';
import { logger } from '../util/log.js';
import { readIfExists, readKernelFile } from './fsio.js';
import { layoutFromMounts, parseControllerList, parseMountinfo, parseProcCgroups } from './mountinfo.js';
import { decideFeatures, type HostFacts, type ProbeListing } from './features.js';
import type { CgroupLayout, Feature, FeatureName } from './types.js';

const log = logger('cgroups');

export interface DetectOptions {
  /** Where procfs is mounted (default "/proc"); a fake tree puts its own mountinfo there. */
  procRoot?: string;
  /** Inspect this existing cgroup (path relative to each hierarchy root, e.g. "/kubepods")
   * instead of creating a temporary probe child. */
  probeCgroup?: string;
  /** Parent of the temporary probe child (default "/"). */
  probeParent?: string;
  /** Page size in bytes; default: read from <procRoot>/self/smaps, else 4096. */
  pageSize?: number;
}

/** Everything detected about the host's cgroups. Plain data: safe to log or serialise. */
export interface CgroupSystem {
  layout: CgroupLayout;
  features: Record<FeatureName, Feature>;
  pageSize: number;
  procRoot: string;
}

/** Read mountinfo, /proc/cgroups and the unified root's controller lists. */
export function detectLayout(procRoot = '/proc'): CgroupLayout {
  const mountinfoPath = join(procRoot, 'self/mountinfo');
  let mountinfo: string;
  try {
    mountinfo = readKernelFile(mountinfoPath);
  } catch (err) {
    throw failedPrecondition(`cannot read ${mountinfoPath} to find cgroup mounts: ${errnoCode(err) ?? messageOf(err)}`, err);
  }
  const { resctrl: _resctrl, ...base } = layoutFromMounts(parseMountinfo(mountinfo));
  if (!base.unified && Object.keys(base.v1).length === 0) {
    throw failedPrecondition(`no cgroup or cgroup2 filesystem is mounted (checked ${mountinfoPath})`);
  }
  const kernelText = readIfExists(join(procRoot, 'cgroups'));
  const kernelControllers = kernelText ? parseProcCgroups(kernelText) : [];
  let v2Controllers: string[] = [];
  let v2SubtreeControl: string[] = [];
  if (base.unified) {
    v2Controllers = parseControllerList(readIfExists(join(base.unified, 'cgroup.controllers')) ?? '');
    v2SubtreeControl = parseControllerList(readIfExists(join(base.unified, 'cgroup.subtree_control')) ?? '');
  }
  return { ...base, kernelControllers, v2Controllers, v2SubtreeControl };
}

/** Hierarchy key ("cpu", "memory" …, or "unified") → mountpoint, one entry per distinct mount. */
function hierarchies(layout: CgroupLayout): Array<[string, string]> {
  const out: Array<[string, string]> = Object.entries(layout.v1).filter((e): e is [string, string] => e[1] !== undefined);
  if (layout.unified) out.push(['unified', layout.unified]);
  return out;
}

function listDir(dir: string): Set<string> | undefined {
  try {
    return new Set(readdirSync(dir));
  } catch {
    return undefined;
  }
}

/** Make (or reuse) the probe cgroup in one hierarchy; undefined when that is impossible. */
function probeDir(mount: string, rel: string, reuse: boolean, made: string[]): { dir?: string; caveat?: string } {
  const dir = join(mount, rel);
  if (!reuse) {
    try {
      mkdirSync(dir);
      made.push(dir);
    } catch (err) {
      return { caveat: `no probe cgroup (${errnoCode(err) ?? messageOf(err)} creating ${dir}): inspected the parent, which lacks some files` };
    }
  }
  if (!existsSync(join(dir, 'cgroup.procs'))) return { caveat: `${dir} is not a cgroup: inspected the parent, which lacks some files` };
  return { dir };
}

/**
 * List a probe child in every hierarchy, then remove the children this call made. When no
 * child can be made, or what mkdir made is not a cgroup (a plain directory in a fake tree),
 * list the parent instead and say so in `caveat`.
 */
function probe<T>(layout: CgroupLayout, opts: DetectOptions, inspect: (listing: ProbeListing) => T): { listing: ProbeListing; result: T } {
  const listing: ProbeListing = { v1: {}, dirs: {}, mounts: {} };
  const made: string[] = [];
  const parent = opts.probeParent ?? '/';
  const rel = opts.probeCgroup ?? join(parent, `berth-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  const byMount = new Map<string, { dir: string; files?: Set<string> }>();
  try {
    for (const [key, mount] of hierarchies(layout)) {
      let seen = byMount.get(mount);
      if (!seen) {
        const p = probeDir(mount, rel, opts.probeCgroup !== undefined, made);
        if (p.caveat) listing.caveat ??= p.caveat;
        const dir = p.dir ?? join(mount, parent);
        seen = { dir, files: listDir(dir) };
        byMount.set(mount, seen);
      }
      listing.dirs[key] = seen.dir;
      listing.mounts[key] = mount;
      if (key === 'unified') {
        listing.unified = seen.files;
        const own = seen.files?.has('cgroup.controllers') ? readIfExists(join(seen.dir, 'cgroup.controllers')) : undefined;
        if (own !== undefined) listing.unifiedControllers = parseControllerList(own);
      } else listing.v1[key] = seen.files;
    }
    return { listing, result: inspect(listing) };
  } finally {
    for (const dir of made.reverse()) {
      try {
        rmdirSync(dir);
      } catch (err) {
        log.warn({ dir, err: messageOf(err) }, 'cannot remove cgroup probe directory');
      }
    }
  }
}

function tryRead(path: string): 'ok' | string {
  try {
    readKernelFile(path);
    return 'ok';
  } catch (err) {
    return errnoCode(err) ?? messageOf(err);
  }
}

function hostFacts(procRoot: string, listing: ProbeListing, mountinfo: string): HostFacts {
  const nodePsiFile = join(procRoot, 'pressure/cpu');
  const schedstatsFile = join(procRoot, 'sys/kernel/sched_schedstats');
  const resctrlMount = layoutFromMounts(parseMountinfo(mountinfo)).resctrl;
  const filesystems = readIfExists(join(procRoot, 'filesystems')) ?? '';
  let cgroupPsi: string | undefined;
  if (listing.unified?.has('cpu.pressure') && listing.dirs.unified) cgroupPsi = tryRead(join(listing.dirs.unified, 'cpu.pressure'));
  let schedstats: string | undefined;
  try {
    schedstats = readIfExists(schedstatsFile);
  } catch {
    schedstats = undefined;
  }
  return {
    nodePsi: tryRead(nodePsiFile),
    nodePsiFile,
    cgroupPsi,
    resctrlMount,
    resctrlKnown: /\bresctrl\b/.test(filesystems),
    schedstats,
    schedstatsFile,
  };
}

/** Page size from the first mapping's KernelPageSize in smaps (read only the first 4 KiB). */
export function detectPageSize(procRoot = '/proc'): number {
  try {
    const fd = openSync(join(procRoot, 'self/smaps'), 'r');
    try {
      const buf = Buffer.alloc(4096);
      const n = readSync(fd, buf, 0, buf.length, null);
      const m = /KernelPageSize:\s+(\d+) kB/.exec(buf.toString('utf8', 0, n));
      if (m) return Number(m[1]) * 1024;
    } finally {
      closeSync(fd);
    }
  } catch {
    // fall through to the common default
  }
  return 4096;
}

/** Detect mode, mounts and features. Logs a one-line summary and each missing feature. */
export function detectCgroups(opts: DetectOptions = {}): CgroupSystem {
  const procRoot = opts.procRoot ?? '/proc';
  const layout = detectLayout(procRoot);
  const mountinfo = readKernelFile(join(procRoot, 'self/mountinfo'));
  // Host facts include a read of the probe cgroup's cpu.pressure: gather them before cleanup.
  const { listing, result: host } = probe(layout, opts, (l) => hostFacts(procRoot, l, mountinfo));
  const features = decideFeatures(layout, listing, host);
  const pageSize = opts.pageSize ?? detectPageSize(procRoot);
  const missing = Object.values(features).filter((f) => !f.available);
  log.info(
    { mode: layout.mode, unified: layout.unified, v1: Object.keys(layout.v1), available: Object.values(features).filter((f) => f.available).map((f) => f.name) },
    `cgroup ${layout.mode} detected`,
  );
  for (const f of missing) log.debug({ feature: f.name, reason: f.reason }, 'cgroup feature unavailable');
  return { layout, features, pageSize, procRoot };
}
