/**
 * The QoS engine: a loop (default every second) of collect → decide (pure) → execute, plus the
 * spec hook, evictions, status, simulate and the snapshot SLI reads. A step that fails is
 * logged and the next one runs; nothing here can take berthd down.
 */
import type { CgroupManager } from '../cgroups/index.js';
import type { CgroupParentChooser, SpecHook } from '../runtimes/lifecycle/index.js';
import { prepareBeParent, type BeParent } from './be-parent.js';
import { classify } from './classes.js';
import type { Logger } from '../util/log.js';
import { messageOf } from '../util/errors.js';
import { CpuSlicer, DEFAULT_SLICE_MS } from '../util/yield.js';
import { Collector, type QosRuntime } from './collect.js';
import { decide, type Decision, type DecideInput } from './decide.js';
import { Executor, type KnobAction, type KnobError, type KnobIo } from './executor.js';
import { qosFeatures, type QosFeature } from './features.js';
import { allocateExclusive } from './math/cpusets.js';
import { parsePolicyText, validatePolicy } from './policy/parse.js';
import type { Policy } from './policy/schema.js';
import { PolicyStore, type PolicyStatus } from './policy/store.js';
import { QosStateStore } from './state-store.js';
import { applyQosToSpec } from './spec-hook.js';
import { initialState, type QosState } from './strategies/types.js';
import type { NodeReader } from './node-stats.js';
import type { Degraded, EvictionOrder, QosClass } from './types.js';

export interface QosEngineOptions {
  cg: CgroupManager;
  runtime: QosRuntime;
  log: Logger;
  policyFile?: string;
  /** Where the loop's state is saved between restarts (state-store.ts); undefined: not saved. */
  stateFile?: string;
  loopIntervalMs?: number;
  /** Where berth-placed BE pods go (be-parent.ts); undefined: BE pods stay under the default parent. */
  beParent?: BeParent;
  /**
   * The longest stretch (ms) a step's cgroupfs work runs before it pauses for a timer tick and
   * leaves the CPU (util/yield.ts CpuSlicer); default 0.5. Tests use 0: a pause at every point.
   */
  sliceMs?: number;
  /** Test seams. */
  node?: NodeReader;
  procRoot?: string;
  knobIo?: KnobIo;
}

/** The engine's numbers for SLI metrics (see index.ts for the shape's documentation). */
export interface QosSnapshot {
  enabled: boolean;
  policySource: string;
  beAllowanceCores?: number;
  beUsedCores?: number;
  psiFactor: number;
  memoryPhase: string;
  counters: QosCounters;
  /** Same as counters.suppressions / counters.evictions (the names SLI reads). */
  suppressions: number;
  evictions: number;
  /** Pod id → class. */
  podClasses: Record<string, QosClass>;
  pods: Array<{ podId: string; namespace: string; name: string; cls: QosClass }>;
}

export interface QosCounters {
  steps: number;
  stepErrors: number;
  /** Steps in which BE ran suppressed: a CPU allowance below node capacity, or memory squeezed. */
  suppressions: number;
  evictions: number;
  knobWrites: number;
  knobErrors: number;
  driftRestored: number;
  policyReloads: number;
  policyRejected: number;
}

export interface EvictionRecord extends EvictionOrder {
  at: string;
  outcome: 'pending' | 'killed' | 'failed';
  error?: string;
}

interface StepRecord {
  at: string;
  durationMs: number;
  input: DecideInput;
  decision: Decision;
}

const MAX_ACTIONS = 100;
const MAX_HISTORY = 60;

export class QosEngine {
  readonly policies: PolicyStore;
  private readonly collector: Collector;
  private readonly executor: Executor;
  private readonly features: QosFeature[];
  private state: QosState = initialState();
  private last?: StepRecord;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private readonly actions: Array<KnobAction | { at: string; what: string }> = [];
  private readonly evictions: EvictionRecord[] = [];
  private readonly evicting = new Set<string>();
  private evictCooldown = 0;
  private knobErrors: KnobError[] = [];
  private readonly history: Array<{ at: string; allowanceCores?: number; beUsedCores?: number; psiFactor: number }> = [];
  private readonly counters: QosCounters = { steps: 0, stepErrors: 0, suppressions: 0, evictions: 0, knobWrites: 0, knobErrors: 0, driftRestored: 0, policyReloads: 0, policyRejected: 0 };
  readonly loopIntervalMs: number;
  private stepChain: Promise<void> = Promise.resolve();
  private readonly slicer: CpuSlicer;
  private readonly saved?: QosStateStore;
  /** When the state in force at start came from the file: when it was saved. */
  private restored?: { file: string; savedAt: string };

  constructor(private readonly opts: QosEngineOptions) {
    this.loopIntervalMs = opts.loopIntervalMs ?? 1000;
    this.policies = new PolicyStore(opts.policyFile, opts.log);
    this.slicer = new CpuSlicer(opts.sliceMs ?? DEFAULT_SLICE_MS);
    this.collector = new Collector(opts.cg, opts.runtime, opts.node, opts.procRoot, this.slicer);
    this.executor = new Executor(opts.knobIo ?? opts.cg, opts.log, this.slicer);
    this.features = qosFeatures(opts.cg);
    if (opts.stateFile) this.saved = new QosStateStore(opts.stateFile, opts.log);
  }

  /** Load the policy, log what the host lacks, run the first step and start the loop. */
  async start(): Promise<void> {
    this.policies.refresh();
    const prev = this.saved?.load();
    if (prev) {
      this.state = prev.state;
      this.restored = { file: this.saved!.file, savedAt: prev.savedAt };
      this.note(`loop state restored from ${this.saved!.file} (saved ${prev.savedAt})`);
      this.opts.log.info({ file: this.saved!.file, savedAt: prev.savedAt, allowanceCores: prev.state.allowanceCores, psiFactor: prev.state.psiFactor, exclusive: prev.state.exclusive.size }, 'QoS loop state restored');
    }
    for (const f of this.features) if (!f.available) this.opts.log.info({ feature: f.feature, usedFor: f.usedFor, reason: f.reason }, 'QoS feature unavailable; degrading');
    this.opts.log.info({ loopIntervalMs: this.loopIntervalMs, policy: this.policies.status().source }, 'QoS engine started');
    await this.step();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.step().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.loopIntervalMs);
    this.timer.unref();
  }

  /** Stop the loop. Knobs stay as they are: containers keep running while berthd restarts. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.stepChain;
    this.collector.close();
    this.executor.close();
    await this.saved?.flush();
  }

  private async input(): Promise<DecideInput> {
    const input = await this.collector.collect();
    return this.opts.beParent ? { ...input, beParent: this.opts.beParent.path } : input;
  }

  /**
   * The lifecycle's cgroup parent chooser: BE pods without a cgroup_parent go under the BE
   * parent (made ready first, so the pod starts idle). Other pods: the default parent.
   */
  readonly chooseParent: CgroupParentChooser = async (pod) => {
    const policy = this.policies.current;
    const be = this.opts.beParent;
    if (!be || !policy.enabled) return undefined;
    const { cls } = classify({ annotations: pod.annotations, labels: pod.labels, cgroupParent: '' }, policy);
    if (cls !== 'BE') return undefined;
    await prepareBeParent(this.opts.cg, be, { unsupported: this.collector.unsupportedKnobs }, policy);
    return be.parent;
  };

  /** One collect → decide → execute step, after any step still running: a step pauses between
   * cgroups (CpuSlicer), and two interleaved would share the executor's cache. Never throws. */
  step(): Promise<void> {
    const run = this.stepChain.then(() => this.stepOnce());
    this.stepChain = run;
    return run;
  }

  private async stepOnce(): Promise<void> {
    const t0 = performance.now();
    this.slicer.restart();
    try {
      const before = this.policies.status();
      if (this.policies.refresh()) {
        this.counters.policyReloads++;
        this.note(`policy reloaded from ${this.policies.status().source}`);
      } else if (this.policies.status().lastError && this.policies.status().lastError !== before.lastError) {
        this.counters.policyRejected++;
        this.note(`policy rejected: ${this.policies.status().lastError!.message}`);
      }
      const policy = this.policies.current;
      const input = await this.input();
      const decision = decide(input, policy, this.state);
      const report = await this.executor.apply(decision.targets);
      this.state = decision.next;
      this.saved?.save(this.state);
      for (const a of report.actions) this.push(a);
      this.knobErrors = report.errors;
      this.counters.knobWrites = this.executor.counters.writes;
      this.counters.knobErrors = this.executor.counters.errors;
      this.counters.driftRestored = this.executor.counters.driftRestored;
      this.counters.steps++;
      const be = decision.reports.cpuSuppress as { allowanceCores?: number; beUsedCores?: number; capacityCores?: number } | undefined;
      const hasBe = decision.pods.some((p) => p.cls === 'BE');
      const squeezed = (decision.reports.memory as { phase?: string } | undefined)?.phase !== 'normal';
      if (hasBe && ((be?.allowanceCores !== undefined && be.allowanceCores < (be.capacityCores ?? Infinity)) || squeezed)) this.counters.suppressions++;
      this.history.push({ at: new Date().toISOString(), allowanceCores: be?.allowanceCores, beUsedCores: be?.beUsedCores, psiFactor: this.state.psiFactor });
      if (this.history.length > MAX_HISTORY) this.history.shift();
      this.last = { at: new Date().toISOString(), durationMs: Math.round((performance.now() - t0) * 10) / 10, input, decision };
      this.evict(decision.evictions);
    } catch (err) {
      this.counters.stepErrors++;
      this.opts.log.error({ err }, 'QoS step failed; the next step will retry');
    }
  }

  private push(a: KnobAction | { at: string; what: string }): void {
    this.actions.push(a);
    if (this.actions.length > MAX_ACTIONS) this.actions.shift();
  }

  private note(what: string): void {
    this.push({ at: new Date().toISOString(), what });
  }

  /** Start evictions; one batch at a time, then a step's pause so freed memory shows up. */
  private evict(orders: EvictionOrder[]): void {
    if (this.evictCooldown > 0 && this.evicting.size === 0) this.evictCooldown--;
    if (this.evicting.size > 0 || this.evictCooldown > 0) return;
    const batch = orders.filter((o) => !this.evicting.has(o.containerId));
    if (batch.length === 0) return;
    this.evictCooldown = 1;
    for (const o of batch) {
      this.evicting.add(o.containerId);
      this.opts.log.warn({ pod: o.podId, container: o.kind === 'container' ? o.containerId : undefined, name: o.name, priority: o.priority, workingSetBytes: o.workingSetBytes, reason: o.message }, o.kind === 'sandbox' ? 'evicting BE VM pod' : 'evicting BE container');
      const rec: EvictionRecord = { ...o, at: new Date().toISOString(), outcome: 'pending' };
      // Recorded in decision order (the order the strategy chose), not completion order.
      this.evictions.push(rec);
      if (this.evictions.length > MAX_ACTIONS) this.evictions.shift();
      this.kill(o)
        .then(() => {
          rec.outcome = 'killed';
          this.counters.evictions++;
        })
        .catch((err: unknown) => {
          rec.outcome = 'failed';
          rec.error = messageOf(err);
          this.opts.log.error({ container: o.containerId, err }, 'eviction failed');
        })
        .finally(() => {
          this.evicting.delete(o.containerId);
          this.note(o.kind === 'sandbox' ? `evicted VM pod ${o.podId.slice(0, 12)} (${o.name}): ${rec.outcome}` : `evicted container ${o.containerId.slice(0, 12)} (${o.name}) of pod ${o.podId.slice(0, 12)}: ${rec.outcome}`);
        });
    }
  }

  private async kill(o: EvictionOrder): Promise<void> {
    if (o.kind === 'container') return this.opts.runtime.evict(o.containerId, o.message);
    if (!this.opts.runtime.evictPod) throw new Error('this runtime cannot stop a whole pod');
    return this.opts.runtime.evictPod(o.podId, o.message);
  }

  /** The spec hook (register with lifecycle.addSpecHook). */
  readonly specHook: SpecHook = (spec, ctx) => {
    const res = applyQosToSpec(spec, ctx, {
      policy: this.policies.current,
      beAllowance: () => {
        if (this.state.allowanceCores === undefined) return undefined;
        return { cores: this.state.allowanceCores, cgroups: this.state.lastShares.size };
      },
      beCpus: () => (this.last?.decision.reports.cpuSuppress as { cpus?: string } | undefined)?.cpus,
      qosScope: (handler) => this.opts.runtime.qosScopeOf?.(handler) ?? 'container',
      reserveExclusive: (id, cpus) => {
        const online = this.last?.input.node.onlineCpus;
        if (!online) return undefined;
        const requests = [...this.state.exclusive].map(([key, v]) => ({ key, cpus: v.length, pinned: v })).concat([{ key: id, cpus, pinned: [] as number[] }]);
        const alloc = allocateExclusive(online, requests, this.state.exclusive, this.policies.current.cpuset.sharedPoolMinCpus);
        const mine = alloc.assigned.get(id);
        if (mine) {
          this.state.exclusive = alloc.assigned;
          this.saved?.save(this.state);
        }
        return mine;
      },
    });
    if (res.changed.length) this.opts.log.debug({ pod: ctx.podId, container: ctx.containerId, kind: ctx.kind, cls: res.cls, changed: res.changed }, 'QoS spec settings');
  };

  /** What `policy` (default: the one in force) would set on this node now; writes nothing. */
  async simulate(body?: unknown): Promise<Record<string, unknown>> {
    const policy: Policy = body === undefined || body === '' ? this.policies.current : typeof body === 'string' ? parsePolicyText(body, 'the request') : validatePolicy(body, 'the request');
    const input = this.last?.input ?? (await this.input());
    const d = decide(input, policy, this.state);
    return { policy, be: d.reports.cpuSuppress, memory: d.reports.memory, cpuset: d.reports.cpuset, pods: d.pods, evictions: d.evictions, degraded: d.degraded };
  }

  policyStatus(): PolicyStatus {
    return this.policies.status();
  }

  /** Validate, persist and put in force; the next step uses it. */
  async applyPolicy(body: unknown): Promise<PolicyStatus> {
    try {
      await this.policies.apply(body);
    } catch (err) {
      this.counters.policyRejected++;
      throw err;
    }
    this.note(`policy applied (${this.policies.status().source})`);
    return this.policies.status();
  }

  status(): Record<string, unknown> {
    const d = this.last?.decision;
    const p = this.policies.status();
    // What the last step degraded says it for this policy; the kernel's missing features the step did not name follow.
    const fromStep = d?.degraded ?? [];
    const named = new Set(fromStep.map((x) => x.feature));
    const degraded: Degraded[] = [
      ...this.features.filter((f) => !f.available && !named.has(f.feature)).map((f) => ({ feature: f.feature, reason: f.reason ?? 'unavailable' })),
      ...fromStep,
    ];
    return {
      enabled: p.policy.enabled,
      policy: { source: p.source, loadedAt: p.loadedAt, file: p.file, lastError: p.lastError },
      loopIntervalMs: this.loopIntervalMs,
      restoredState: this.restored,
      lastStep: this.last ? { at: this.last.at, durationMs: this.last.durationMs } : undefined,
      be: d?.reports.cpuSuppress,
      memory: d?.reports.memory,
      cpuset: d?.reports.cpuset,
      pods: (d?.pods ?? []).map((x) => ({ podId: x.podId, name: x.name, namespace: x.namespace, cls: x.cls, classSource: x.classSource, priority: x.priority, targets: x.targets })),
      counters: this.counters,
      history: this.history,
      lastActions: this.actions.slice(-30),
      evictions: this.evictions.slice(-30),
      degraded,
      knobErrors: this.knobErrors.slice(-30),
      features: this.features,
    };
  }

  /** Numbers for SLI metrics. */
  snapshot(): QosSnapshot {
    const d = this.last?.decision;
    const be = d?.reports.cpuSuppress as { allowanceCores?: number; beUsedCores?: number } | undefined;
    const mem = d?.reports.memory as { phase?: string } | undefined;
    return {
      enabled: this.policies.current.enabled,
      policySource: this.policies.status().source,
      beAllowanceCores: be?.allowanceCores,
      beUsedCores: be?.beUsedCores,
      psiFactor: this.state.psiFactor,
      memoryPhase: mem?.phase ?? 'normal',
      counters: { ...this.counters },
      suppressions: this.counters.suppressions,
      evictions: this.counters.evictions,
      podClasses: Object.fromEntries((d?.pods ?? []).map((x) => [x.podId, x.cls])),
      pods: (d?.pods ?? []).map((x) => ({ podId: x.podId, namespace: x.namespace, name: x.name, cls: x.cls })),
    };
  }
}
