/**
 * Co-location QoS on the real kernel: classes LSE, LSR, LS, BE, SYSTEM (classes.ts), a policy
 * that is data (policy/), strategies that decide (strategies/, pure: views + policy + state →
 * desired knob values), one executor that writes knobs through src/cgroups (executor.ts:
 * caches, diffs, verifies, restores drift), and the loop that ties them together (engine.ts).
 *
 *   const qos = await startQos({ config: config.qos, root, state, cg, lifecycle, sampler, admin, log });
 *   qos?.snapshot();   // for SLI, shape below
 *   await qos?.stop();
 *
 * Snapshot (QosSnapshot), for SLI metrics — cheap, no I/O, values from the last loop step:
 *   enabled            boolean   policy.enabled
 *   policySource       string    "embedded defaults" | <policy file> | "admin API (in memory)"
 *   beAllowanceCores   number?   BE CPU allowance in force, cores (undefined before the first step)
 *   beUsedCores        number?   CPU BE cgroups used over the last period, cores
 *   psiFactor          number    PSI feedback factor in (0, 1]; 1 = not tightened
 *   memoryPhase        string    "normal" | "squeeze" | "evict"
 *   counters           QosCounters, monotonic since start:
 *     steps, stepErrors, suppressions (steps in which BE ran suppressed: CPU allowance below
 *     node capacity, or memory squeezed), evictions (BE containers killed), knobWrites,
 *     knobErrors, driftRestored (knobs changed behind berth's back and put back),
 *     policyReloads, policyRejected
 *   suppressions       number    = counters.suppressions   (the field names src/sli/qos-view.ts reads)
 *   evictions          number    = counters.evictions
 *   podClasses         Record<podId, class>
 *   pods               [{ podId, namespace, name, cls }]   class of every ready pod
 */
import { join } from 'node:path';
import type { AdminServer } from '../admin/server.js';
import type { CgroupManager } from '../cgroups/index.js';
import type { Lifecycle } from '../runtimes/lifecycle/index.js';
import type { StatsSampler } from '../sli/sampler.js';
import type { Logger } from '../util/log.js';
import { registerQosRoutes } from './admin-routes.js';
import type { QosConfig } from './config-schema.js';
import { QosEngine } from './engine.js';
import { LifecycleQosRuntime } from './runtime-adapter.js';
import { resolveBeParent } from './be-parent.js';

export { resolveBeParent, DEFAULT_BE_PARENT, type BeParent } from './be-parent.js';
export { QosEngine, type QosSnapshot, type QosCounters, type EvictionRecord } from './engine.js';
export { qosConfigSchema, type QosConfig } from './config-schema.js';
export { policySchema, DEFAULT_POLICY, type Policy, type PolicyInput } from './policy/schema.js';
export { parsePolicyText, validatePolicy } from './policy/parse.js';
export { classify, priorityOf, CLASS_KEY, KOORD_CLASS_KEY, PRIORITY_KEY, MEMORY_REQUEST_KEY } from './classes.js';
export { EVICTED_REASON } from './runtime-adapter.js';
export { QOS_CLASSES, type QosClass } from './types.js';

export interface StartQosOptions {
  config: QosConfig;
  /** berthd's persistent root: where the policy lives when `qos.policyFile` is not set. */
  root: string;
  /** berthd's state directory (gone after a reboot): where the loop's state is saved. */
  state: string;
  cg: CgroupManager;
  lifecycle: Lifecycle;
  sampler?: StatsSampler;
  admin: Pick<AdminServer, 'route'>;
  log: Logger;
}

/** The policy file: configured, or `<root>/qos-policy.yaml`, so a policy applied live survives a restart. */
export function policyFileOf(config: Pick<QosConfig, 'policyFile'>, root: string): string {
  return config.policyFile ?? join(root, 'qos-policy.yaml');
}

/** Build the engine, hook it into the lifecycle and the admin API, and start the loop.
 * Undefined when `qos.enabled` is false. */
export async function startQos(o: StartQosOptions): Promise<QosEngine | undefined> {
  if (!o.config.enabled) {
    o.log.info('QoS engine disabled by configuration (qos.enabled: false)');
    return undefined;
  }
  const runtime = new LifecycleQosRuntime(o.lifecycle, o.sampler, o.log);
  const beParent = resolveBeParent(o.lifecycle.cgroupDriver, o.config.beCgroupParent);
  const engine = new QosEngine({ cg: o.cg, runtime, log: o.log, policyFile: policyFileOf(o.config, o.root), stateFile: join(o.state, 'qos-state.json'), loopIntervalMs: o.config.loopIntervalMs, beParent });
  o.lifecycle.addSpecHook(engine.specHook);
  o.lifecycle.setCgroupParentChooser(engine.chooseParent);
  registerQosRoutes(o.admin, engine);
  await engine.start();
  return engine;
}
