/** The `qos` key of the berthd configuration (src/daemon/config.ts embeds this schema). */
import { z } from 'zod';

export const qosConfigSchema = z
  .object({
    /** Run the co-location QoS engine (classes, BE suppression, eviction). */
    enabled: z.boolean().default(true),
    /** YAML/JSON policy file, re-read on change; absent → the embedded default policy. */
    policyFile: z.string().startsWith('/', 'expected an absolute path').optional(),
    /** Period of the dynamic loop (suppression, PSI feedback, memory, drift repair). */
    loopIntervalMs: z.number().int().min(100).max(60_000).default(1000),
  })
  .strict();

export type QosConfig = z.infer<typeof qosConfigSchema>;
