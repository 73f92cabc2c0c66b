/** The `qos` key of the berthd configuration (src/daemon/config.ts embeds this schema). */
import { z } from 'zod';

export const qosConfigSchema = z
  .object({
    /** Run the co-location QoS engine (classes, BE suppression, eviction). */
    enabled: z.boolean().default(true),
    /**
     * YAML/JSON policy file, re-read on change; where `berth qos apply` saves a policy. Default
     * `<root>/qos-policy.yaml`; while the file does not exist, the embedded default policy.
     */
    policyFile: z.string().startsWith('/', 'expected an absolute path').optional(),
    /** Period of the dynamic loop (suppression, PSI feedback, memory, drift repair). */
    loopIntervalMs: z.number().int().min(100).max(60_000).default(1000),
    /**
     * Top-level cgroup parent, kept idle, for BE pods whose config names no cgroup_parent
     * (default "/berth-besteffort", or "berth_besteffort.slice" with the systemd driver; ""
     * keeps them under the default parent). Pods with a cgroup_parent keep theirs.
     */
    beCgroupParent: z
      .string()
      .refine((s) => s === '' || s.startsWith('/') || /^[A-Za-z0-9_.@-]+\.slice$/.test(s), 'expected "", an absolute cgroup path, or a systemd slice name')
      .refine((s) => !s.split('/').includes('..'), 'must not contain ".."')
      .optional(),
  })
  .strict();

export type QosConfig = z.infer<typeof qosConfigSchema>;
