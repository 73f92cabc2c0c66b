/**
 * The resource executor: the only part of QoS that writes cgroup knobs, always through
 * src/cgroups. For each desired cgroup it reads every managed knob, writes the ones that differ
 * (the cgroups library reads each write back and verifies it), and caches what the kernel read
 * back. A knob that later reads differently from the cache while the desired value is unchanged
 * was changed behind berth's back: it is restored and counted as drift. Knobs the host lacks
 * are skipped (the reason is kept for status); kernel refusals are kept and logged, never thrown.
 */
import { KernelFiles } from '../util/kernel-files.js';
import { defaultMaxOpen, normalizeCpuList, pageFloor, showKnobValue, type CgroupManager, type KnobName, type KnobValues } from '../cgroups/index.js';
import { BerthError, Code, messageOf } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { DesiredTarget } from './types.js';
import { CpuSlicer } from '../util/yield.js';

/** The subset of CgroupManager the executor uses (tests pass a manager over a fake tree). */
export type KnobIo = Pick<CgroupManager, 'supports' | 'exists' | 'read' | 'write'> & { system: { pageSize: number } };

/** Write order: cpu.idle before shares (idle pins the weight), quota before burst (burst ≤ quota). */
const ORDER: KnobName[] = [
  'cpuIdle',
  'cpuShares',
  'cpuWeight',
  'cpusetCpus',
  'cpusetMems',
  'cpuMax',
  'cpuBurst',
  'memoryMax',
  'memoryHigh',
  'memoryLow',
  'memoryMin',
  'memorySoftLimit',
  'blkioWeight',
  'ioWeight',
  'cgroupPriority',
  'cpuBvtWarpNs',
];

export interface KnobAction {
  at: string;
  path: string;
  knob: KnobName;
  from: string;
  to: string;
  /** set: a new desired value; drift: restored after a change behind berth's back. */
  why: 'set' | 'drift';
}

export interface KnobError {
  path: string;
  knob: KnobName;
  reason: string;
  at: string;
  count: number;
}

export interface ApplyReport {
  actions: KnobAction[];
  errors: KnobError[];
}

const MEMORY_KNOBS = new Set<KnobName>(['memoryMax', 'memoryHigh', 'memoryLow', 'memoryMin', 'memorySoftLimit', 'memorySwapMax', 'memoryMemswLimit']);

export class Executor {
  /** path → knob → { desired, readBack } as JSON. */
  private readonly cache = new Map<string, Map<KnobName, { desired: string; readBack: string }>>();
  /** Values found before berth first set a knob that has no neutral value (restored when released). */
  private readonly baseline = new Map<string, Map<KnobName, unknown>>();
  private readonly errors = new Map<string, KnobError>();
  private readonly supportMemo = new Map<KnobName, string | undefined>();
  /** Knob files stay open between steps: each step reads every managed knob of every cgroup. */
  private readonly files = new KernelFiles({ maxOpen: Math.max(32, Math.floor(defaultMaxOpen() / 2)), keepSweeps: 3 });
  counters = { writes: 0, driftRestored: 0, errors: 0 };

  constructor(
    private readonly cg: KnobIo,
    private readonly log: Logger,
    private readonly slicer = new CpuSlicer(0),
  ) {}

  /** Close the knob files kept open. */
  close(): void {
    this.files.close();
  }

  /** Why a knob cannot be used on this host, or undefined when it can. */
  unsupported(knob: KnobName): string | undefined {
    if (!this.supportMemo.has(knob)) {
      const s = this.cg.supports(knob);
      this.supportMemo.set(knob, s.supported ? undefined : s.reason);
    }
    return this.supportMemo.get(knob);
  }

  /** The value the kernel will read back for `v` (page rounding, canonical cpu lists). */
  private normalize<K extends KnobName>(knob: K, v: KnobValues[K]): string {
    if (MEMORY_KNOBS.has(knob) && typeof v === 'number') return JSON.stringify(pageFloor(v, this.cg.system.pageSize));
    if ((knob === 'cpusetCpus' || knob === 'cpusetMems') && typeof v === 'string') {
      try {
        return JSON.stringify(normalizeCpuList(v));
      } catch {
        return JSON.stringify(v);
      }
    }
    if (knob === 'cpuMax') {
      const m = v as KnobValues['cpuMax'];
      return JSON.stringify({ quota: m.quota, period: m.period });
    }
    return JSON.stringify(v);
  }

  /** Bring every target to its desired state. Never throws. */
  async apply(targets: DesiredTarget[]): Promise<ApplyReport> {
    const actions: KnobAction[] = [];
    const live = new Set<string>();
    for (const t of targets) {
      live.add(t.path);
      if (!this.cg.exists(t.path)) continue;
      await this.applyTarget(t, actions);
      // Reads are synchronous and the awaits above only yield to microtasks when nothing is
      // written: let CRI calls in, and other tasks onto this CPU, between targets.
      await this.slicer.pause();
    }
    this.files.sweep();
    for (const path of this.cache.keys()) if (!live.has(path)) this.cache.delete(path);
    for (const path of this.baseline.keys()) if (!live.has(path)) this.baseline.delete(path);
    for (const [k, e] of this.errors) if (!live.has(e.path)) this.errors.delete(k);
    return { actions, errors: [...this.errors.values()] };
  }

  private async applyTarget(t: DesiredTarget, actions: KnobAction[]): Promise<void> {
    const desired: Partial<KnobValues> = { ...this.released(t), ...t.neutral, ...t.knobs };
    let cache = this.cache.get(t.path);
    if (!cache) this.cache.set(t.path, (cache = new Map()));
    this.captureBaseline(t);
    const pending: KnobName[] = ORDER.filter((k) => desired[k] !== undefined && this.unsupported(k) === undefined);
    const retry: KnobName[] = [];
    for (const pass of [pending, retry]) {
      for (const knob of pass) {
        const outcome = await this.reconcile(t.path, knob, desired[knob] as never, cache, actions, pass === retry);
        if (outcome === 'gone') return;
        if (outcome === 'failed' && pass === pending) retry.push(knob);
      }
    }
  }

  /** Remember the current value of managed knobs that have no neutral value, before the first write. */
  private captureBaseline(t: DesiredTarget): void {
    for (const knob of Object.keys(t.knobs) as KnobName[]) {
      if (t.neutral[knob] !== undefined || this.unsupported(knob) !== undefined) continue;
      let b = this.baseline.get(t.path);
      if (b?.has(knob)) continue;
      try {
        const v = this.cg.read(t.path, knob);
        if (!b) this.baseline.set(t.path, (b = new Map()));
        b.set(knob, v);
      } catch {
        // gone or unreadable: nothing to restore later
      }
    }
  }

  /** Baseline values of knobs no longer managed (and without a neutral value): to be written back once. */
  private released(t: DesiredTarget): Partial<KnobValues> {
    const b = this.baseline.get(t.path);
    if (!b) return {};
    const out: Record<string, unknown> = {};
    for (const [knob, v] of b) {
      if (t.knobs[knob] !== undefined) continue;
      if (t.neutral[knob] === undefined) out[knob] = v;
      b.delete(knob);
    }
    return out as Partial<KnobValues>;
  }

  private async reconcile<K extends KnobName>(
    path: string,
    knob: K,
    value: KnobValues[K],
    cache: Map<KnobName, { desired: string; readBack: string }>,
    actions: KnobAction[],
    finalTry: boolean,
  ): Promise<'ok' | 'failed' | 'gone'> {
    const want = this.normalize(knob, value);
    let current: string;
    try {
      current = JSON.stringify(this.cg.read(path, knob, this.files));
    } catch (err) {
      if (err instanceof BerthError && err.code === Code.NOT_FOUND) return 'gone';
      this.noteError(path, knob, `read: ${messageOf(err)}`);
      return finalTry ? 'ok' : 'failed';
    }
    const cached = cache.get(knob);
    if (current === want || (cached && cached.desired === want && cached.readBack === current)) {
      cache.set(knob, { desired: want, readBack: current });
      return 'ok';
    }
    const drift = cached !== undefined && cached.desired === want && cached.readBack !== current;
    try {
      const back = await this.cg.write(path, knob, value);
      const readBack = JSON.stringify(back);
      cache.set(knob, { desired: want, readBack });
      this.counters.writes++;
      if (drift) this.counters.driftRestored++;
      this.errors.delete(`${path}\0${knob}`);
      const action: KnobAction = { at: new Date().toISOString(), path, knob, from: current, to: showKnobValue(knob, value), why: drift ? 'drift' : 'set' };
      actions.push(action);
      if (drift) this.log.info(action, 'restored a knob changed behind berth');
      else this.log.debug(action, 'knob set');
      return 'ok';
    } catch (err) {
      if (err instanceof BerthError && err.code === Code.NOT_FOUND) return 'gone';
      if (finalTry) this.noteError(path, knob, messageOf(err));
      return 'failed';
    }
  }

  private noteError(path: string, knob: KnobName, reason: string): void {
    const key = `${path}\0${knob}`;
    const prev = this.errors.get(key);
    this.counters.errors++;
    if (prev && prev.reason === reason) {
      prev.count++;
      prev.at = new Date().toISOString();
      if (prev.count % 60 === 0) this.log.warn({ path, knob, reason, count: prev.count }, 'knob still cannot be set');
      return;
    }
    this.errors.set(key, { path, knob, reason, at: new Date().toISOString(), count: 1 });
    this.log.warn({ path, knob, reason }, 'cannot set knob');
  }
}
