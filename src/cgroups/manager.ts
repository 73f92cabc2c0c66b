/**
 * CgroupManager: the one object other modules use to touch cgroups. It binds a detected
 * CgroupSystem to typed knob reads/writes (every write read back and verified), the
 * lifecycle operations and stats.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { failedPrecondition, internal, notFound } from '../util/errors.js';
import { detectCgroups, type CgroupSystem, type DetectOptions } from './detect.js';
import { cleanCgroupPath } from './driver.js';
import { KNOBS, showKnobValue, type KnobName, type KnobSpec, type KnobValues } from './knobs.js';
import type { KnobImpl } from './knob-codec.js';
import { attachProcess, cgroupPids, childCgroups, createCgroup, killCgroup, removeCgroup, setFrozen } from './lifecycle.js';
import { readStats, type ReadStatsOptions, type CgroupStats } from './stats.js';
import type { CgroupMode, Controller, Feature, FeatureName } from './types.js';

/** Where a knob lives on this host, or why it cannot be used. */
export type KnobSupport = { supported: true; root: string; files: string[] } | { supported: false; reason: string };

interface Resolved<T> {
  impl: KnobImpl<T>;
  root: string;
}

export class CgroupManager {
  constructor(readonly system: CgroupSystem) {}

  /** Detect the host's cgroups (see DetectOptions) and return a manager for them. */
  static detect(opts?: DetectOptions): CgroupManager {
    return new CgroupManager(detectCgroups(opts));
  }

  get mode(): CgroupMode {
    return this.system.layout.mode;
  }

  /** A detected feature record ({ name, available, reason?, file }). */
  feature(name: FeatureName): Feature {
    return this.system.features[name];
  }

  /** The directory of `path` in the hierarchy holding `controller`; without a controller, in
   * the cgroup2 hierarchy (v2, hybrid). v2 always answers the unified one. Undefined when that
   * hierarchy is not mounted. */
  dir(path: string, controller?: Controller): string | undefined {
    const clean = cleanCgroupPath(path);
    const { layout } = this.system;
    const root = layout.mode === 'v2' || controller === undefined ? layout.unified : layout.v1[controller];
    return root ? join(root, clean) : undefined;
  }

  /** Whether `path` exists (in the unified hierarchy on v2, else in any v1 controller). */
  exists(path: string): boolean {
    const clean = cleanCgroupPath(path);
    const { layout } = this.system;
    const roots = layout.mode === 'v2' ? [layout.unified!] : Object.values(layout.v1).filter((r): r is string => !!r);
    return roots.some((r) => existsSync(join(r, clean)));
  }

  private resolve<K extends KnobName>(knob: K): Resolved<KnobValues[K]> | { reason: string } {
    const spec = KNOBS[knob] as KnobSpec<KnobValues[K]>;
    const { layout, features } = this.system;
    let found: Resolved<KnobValues[K]> | undefined;
    if (layout.mode === 'v2') {
      if (!spec.v2) return { reason: spec.missing?.v2 ?? `${knob} does not exist in cgroup v2` };
      found = { impl: spec.v2, root: layout.unified! };
    } else if (spec.v1 && spec.controller) {
      const root = layout.v1[spec.controller];
      if (!root) return { reason: `cgroup v1 controller ${spec.controller} is not mounted` };
      found = { impl: spec.v1, root };
    } else if (layout.mode === 'hybrid' && spec.v2 && !spec.controller && layout.unified) {
      found = { impl: spec.v2, root: layout.unified };
    } else {
      return { reason: spec.missing?.v1 ?? `${knob} does not exist in cgroup v1` };
    }
    const feature = spec.feature ? features[spec.feature] : undefined;
    if (feature && !feature.available) return { reason: `${feature.name}: ${feature.reason ?? 'unavailable'}` };
    if (spec.anyFeature && !spec.anyFeature.some((f) => features[f].available)) {
      return { reason: spec.anyFeature.map((f) => `${f}: ${features[f].reason ?? 'unavailable'}`).join('; ') };
    }
    return found;
  }

  /** Whether a knob can be used on this host, with its files or the reason it cannot. */
  supports(knob: KnobName): KnobSupport {
    const r = this.resolve(knob);
    return 'reason' in r ? { supported: false, reason: r.reason } : { supported: true, root: r.root, files: r.impl.files };
  }

  private target<K extends KnobName>(path: string, knob: K): { impl: KnobImpl<KnobValues[K]>; dir: string } {
    const r = this.resolve(knob);
    if ('reason' in r) throw failedPrecondition(`${knob} is not available on this host: ${r.reason}`);
    return { impl: r.impl, dir: join(r.root, cleanCgroupPath(path)) };
  }

  /**
   * A failed knob read or write: NOT_FOUND when the cgroup itself is gone, else the error as it
   * was. The directory is looked at only after a failure: the QoS step reads every knob of
   * every pod each loop, and a stat before each read was one more system call per knob.
   */
  private gone(path: string, dir: string, err: unknown): unknown {
    return existsSync(dir) ? err : notFound(`cgroup ${path} does not exist (no directory ${dir})`);
  }

  /** Read a knob's current value; `files` keeps the descriptors open for the next read (a loop that reads the same knobs every pass). */
  read<K extends KnobName>(path: string, knob: K, files?: { read(path: string): string }): KnobValues[K] {
    const { impl, dir } = this.target(path, knob);
    try {
      return impl.read(dir, files ? (p) => files.read(p) : undefined);
    } catch (err) {
      throw this.gone(path, dir, err);
    }
  }

  /**
   * Validate, write, read back and verify one knob; returns the value read back. Throws
   * INVALID_ARGUMENT (bad value), FAILED_PRECONDITION (unsupported knob; kernel refusal, with
   * file path and errno), NOT_FOUND (no such cgroup) or INTERNAL (read back differs).
   */
  async write<K extends KnobName>(path: string, knob: K, value: KnobValues[K]): Promise<KnobValues[K]> {
    const spec = KNOBS[knob] as KnobSpec<KnobValues[K]>;
    spec.validate(value);
    const { impl, dir } = this.target(path, knob);
    const env = { pageSize: this.system.pageSize };
    let actual: KnobValues[K];
    try {
      await impl.write(dir, value, env);
      actual = impl.read(dir);
    } catch (err) {
      throw this.gone(path, dir, err);
    }
    const expected = impl.expected(value, env, dir);
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      throw internal(
        `write ${knob}=${showKnobValue(knob, value)} to ${join(dir, impl.files[0]!)}: the kernel reads back ` +
          `${showKnobValue(knob, actual)}, expected ${showKnobValue(knob, expected)}`,
      );
    }
    return actual;
  }

  /**
   * Write several knobs. Some pairs must be written in an order that depends on the old values
   * (burst <= quota; v1 memsw >= memory limit): knobs the kernel refuses are retried once after
   * the others. Throws the first error that persists.
   */
  async apply(path: string, values: Partial<KnobValues>): Promise<void> {
    const entries = (Object.entries(values) as Array<[KnobName, never]>).filter(([, v]) => v !== undefined);
    for (const [knob, value] of entries) KNOBS[knob].validate(value);
    const writeAll = async (list: Array<[KnobName, never]>) => {
      const failed: Array<{ entry: [KnobName, never]; err: unknown }> = [];
      for (const entry of list) {
        try {
          await this.write(path, entry[0], entry[1]);
        } catch (err) {
          failed.push({ entry, err });
        }
      }
      return failed;
    };
    const failed = await writeAll(entries);
    if (failed.length === 0) return;
    // Nothing succeeded: a second round would fail the same way.
    if (failed.length === entries.length) throw failed[0]!.err;
    const again = await writeAll(failed.map((f) => f.entry));
    if (again.length > 0) throw again[0]!.err;
  }

  /** Create `path` in every hierarchy (mkdir -p; v1 cpuset inherits cpus/mems; v2 delegates controllers). */
  create(path: string): Promise<void> {
    return createCgroup(this.system, cleanCgroupPath(path));
  }

  /** Remove `path` and descendants everywhere, retrying while tasks drain (EBUSY). */
  remove(path: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    return removeCgroup(this.system, cleanCgroupPath(path), opts.timeoutMs);
  }

  /** SIGKILL everything in `path` (freeze first, or cgroup.kill on v2) and wait until empty. */
  kill(path: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    return killCgroup(this.system, cleanCgroupPath(path), opts.timeoutMs);
  }

  /** Kill everything in `path`, then remove it: the cleanup path for a container or pod. */
  async destroy(path: string, opts: { timeoutMs?: number } = {}): Promise<void> {
    await this.kill(path, opts);
    await this.remove(path, opts);
  }

  freeze(path: string, timeoutMs?: number): Promise<boolean> {
    return setFrozen(this.system, cleanCgroupPath(path), true, timeoutMs);
  }

  thaw(path: string): Promise<boolean> {
    return setFrozen(this.system, cleanCgroupPath(path), false);
  }

  /** Pids in cgroup.procs (union over hierarchies); `recursive` includes descendants. */
  pids(path: string, opts: { recursive?: boolean } = {}): number[] {
    return cgroupPids(this.system, cleanCgroupPath(path), opts.recursive);
  }

  /** Move a process (and its future children) into `path` in every hierarchy where it exists. */
  attach(path: string, pid: number): Promise<void> {
    return attachProcess(this.system, cleanCgroupPath(path), pid);
  }

  /** Names of the direct child cgroups of `path`. */
  children(path: string): string[] {
    return childCgroups(this.system, cleanCgroupPath(path));
  }

  /** A typed stats snapshot; undefined if the cgroup does not exist. Never throws for a cgroup
   * that vanishes mid-read (the snapshot is marked partial). */
  readStats(path: string, opts?: ReadStatsOptions): CgroupStats | undefined {
    return readStats(this.system, cleanCgroupPath(path), opts);
  }
}
