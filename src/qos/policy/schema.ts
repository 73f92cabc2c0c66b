/**
 * The co-location policy: data, validated with zod (every key has a range), loaded from a
 * YAML/JSON file (config `qos.policyFile`) or the embedded defaults, hot-reloaded, and applied
 * or simulated through the admin API. Example (every key optional; these are the defaults):
 *
 *   enabled: true
 *   cpuSuppressPolicy: cpuset            # cpuset (whole CPUs, no throttling) | cfsQuota
 *   cpuSuppressThresholdPercent: 65      # node CPU share (LS + system + BE) BE may fill up to
 *   cpuSuppressMinCores: 0.5             # BE allowance floor
 *   cpuSuppressMaxIncreasePercent: 10    # allowance regrowth per step, % of node capacity
 *   lsPressureTargetPercent: 20          # PSI feedback target (LS pods' CPU stall, %)
 *   psiFeedback: { enabled: true, source: auto, tightenFactor: 0.7, relaxPercent: 10, minFactor: 0.05, windowSeconds: 10 }
 *   memoryEvictThresholdPercent: 70      # node memory used (MemTotal − MemAvailable)
 *   memoryReleasePercent: 5              # squeezing stops this far below the threshold
 *   cpuBurstPercent: 1000                # LS burst = quota × this / 100 (kernel caps at quota)
 *   defaultClass: { kubeletBestEffort: BE, other: LS }
 *   be: { cpuIdle: true, cpuShares: 2, blkioWeight: 10, oomScoreAdj: 1000, cgroupPriority: 7, bvtWarpNs: -1 }
 *   memoryProtection: { minPercent: 0, lowPercent: 100 }
 *   cpuset: { sharedPoolMinCpus: 1 }
 */
import { z } from 'zod';
import { QOS_CLASSES } from '../types.js';

const pct = (lo: number, hi: number, def: number) => z.number().min(lo).max(hi).default(def);
const qosClass = z.enum(QOS_CLASSES);

const psiSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** auto: LS pods' own CPU pressure where per-cgroup PSI exists, else node PSI. */
    source: z.enum(['auto', 'pods', 'node']).default('auto'),
    /** Allowance factor multiplier per step while pressure is above target. */
    tightenFactor: z.number().min(0.1).max(0.99).default(0.7),
    /** Factor regrowth per step (percentage points) while pressure is below half the target. */
    relaxPercent: pct(1, 100, 10),
    /** The factor never drops below this. */
    minFactor: z.number().min(0).max(1).default(0.05),
    /**
     * The stall steered by is a mean over about this long (exponentially weighted, like the
     * kernel's avg10); 0: the last period alone. A period over twice the target tightens at once.
     */
    windowSeconds: z.number().min(0).max(300).default(10),
  })
  .strict()
  .prefault({});

const beSchema = z
  .object({
    /** SCHED_IDLE for the whole BE cgroup where the kernel has cpu.idle. */
    cpuIdle: z.boolean().default(true),
    /** Shares for BE where cpu.idle is unavailable or off. */
    cpuShares: z.number().int().min(2).max(262144).default(2),
    blkioWeight: z.number().int().min(10).max(1000).default(10),
    /** Raising oom_score_adj needs no privilege; 1000 = first to be OOM-killed. */
    oomScoreAdj: z.number().int().min(-1000).max(1000).default(1000),
    /** RUE (OpenCloudOS) cgroup.priority for BE; LS classes get 0. */
    cgroupPriority: z.number().int().min(0).max(7).default(7),
    /** Anolis group identity cpu.bvt_warp_ns for BE (LS classes get 2). */
    bvtWarpNs: z.number().int().min(-1).max(2).default(-1),
  })
  .strict()
  .prefault({});

export const policySchema = z
  .object({
    enabled: z.boolean().default(true),
    cpuSuppressPolicy: z.enum(['cfsQuota', 'cpuset']).default('cpuset'),
    cpuSuppressThresholdPercent: pct(1, 100, 65),
    cpuSuppressMinCores: z.number().min(0.01).max(4096).default(0.5),
    cpuSuppressMaxIncreasePercent: pct(1, 100, 10),
    lsPressureTargetPercent: pct(1, 100, 20),
    psiFeedback: psiSchema,
    memoryEvictThresholdPercent: pct(1, 100, 70),
    memoryReleasePercent: pct(0, 50, 5),
    cpuBurstPercent: z.number().int().min(0).max(10000).default(1000),
    defaultClass: z
      .object({
        /** Pods the kubelet put in its BestEffort QoS (cgroup parent …besteffort…). */
        kubeletBestEffort: qosClass.default('BE'),
        other: qosClass.default('LS'),
      })
      .strict()
      .prefault({}),
    be: beSchema,
    memoryProtection: z
      .object({
        /** memory.min (v2) as a percentage of the container's memory request. */
        minPercent: pct(0, 100, 0),
        /** memory.low (v2) / memory.soft_limit_in_bytes (v1) as a percentage of the request. */
        lowPercent: pct(0, 100, 100),
      })
      .strict()
      .prefault({}),
    cpuset: z
      .object({
        /** CPUs that stay in the shared pool however many LSE/LSR pods ask. */
        sharedPoolMinCpus: z.number().int().min(1).max(4096).default(1),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Policy = z.infer<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

export const DEFAULT_POLICY: Policy = policySchema.parse({});
