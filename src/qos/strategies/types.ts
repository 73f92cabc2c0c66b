/**
 * The one small interface every co-location strategy implements: given this step's node and
 * pod views, the policy and the state carried from the last step, say which knob values each
 * cgroup should have (and, for memory, which containers to evict). Strategies never do I/O;
 * the executor writes what they decide.
 */
import type { KnobValues } from '../../cgroups/index.js';
import type { Policy } from '../policy/schema.js';
import type { MemoryState } from '../math/eviction.js';
import type { Degraded, EvictionOrder, NodeView, PodView, QosClass } from '../types.js';

export interface ClassifiedPod extends PodView {
  cls: QosClass;
  classSource: string;
  classWarning?: string;
}

/** What carries over from one step to the next. */
export interface QosState {
  /** BE allowance in force, cores (undefined before the first suppression step). */
  allowanceCores?: number;
  /** PSI feedback factor in (0, 1]. */
  psiFactor: number;
  /** The mean LS stall the factor was steered by, percent (math/psi.ts smoothPressure). */
  psiPressurePct?: number;
  memory: MemoryState;
  /** Exclusive CPUs by container (or VM sandbox) id. */
  exclusive: Map<string, number[]>;
  /** BE CPU share applied last step, cores, by target id. */
  lastShares: Map<string, number>;
}

export function initialState(): QosState {
  return { psiFactor: 1, memory: { stepsAbove: 0 }, exclusive: new Map(), lastShares: new Map() };
}

/** Facts one strategy establishes for those after it in the same step. */
export interface StepFacts {
  /** CPUs not reserved for LSE/LSR containers. */
  sharedCpus?: number[];
}

export interface StrategyContext {
  node: NodeView;
  pods: ClassifiedPod[];
  policy: Policy;
  state: QosState;
  pageSize: number;
  facts: StepFacts;
}

export interface KnobSet {
  path: string;
  knobs: Partial<KnobValues>;
}

export interface StrategyResult {
  knobs: KnobSet[];
  state?: Partial<QosState>;
  facts?: StepFacts;
  evictions?: EvictionOrder[];
  degraded?: Degraded[];
  /** What the strategy decided and why, for status and simulate. */
  report?: Record<string, unknown>;
}

export interface Strategy {
  readonly name: string;
  decide(ctx: StrategyContext): StrategyResult;
}

/** The targets suppression acts on: containers of runc pods, the sandbox of VM pods. */
export function primaryTargets(pod: PodView) {
  return [...(pod.sandbox ? [pod.sandbox] : []), ...pod.containers].filter((t) => t.primary);
}

export function allTargets(pod: PodView) {
  return [...(pod.sandbox ? [pod.sandbox] : []), ...pod.containers];
}
