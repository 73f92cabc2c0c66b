/**
 * Shared pieces of the QoS integration tests: a pod environment whose berthd runs QoS with a
 * policy file of the test's own, the admin client, and cgroup reads of a container (through
 * src/cgroups, as berth reads them).
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { AdminClient } from '../../../src/admin/client.js';
import { CgroupManager } from '../../../src/cgroups/index.js';
import { setLogLevel } from '../../../src/util/log.js';
import { eventually, startPodEnv, type PodEnv } from '../../helpers/pod-env.js';

setLogLevel('warn');

export interface QosEnv {
  env: PodEnv;
  admin: AdminClient;
  cg: CgroupManager;
  policyFile: string;
  writePolicy(doc: Record<string, unknown> | string): Promise<void>;
  status(): Promise<QosStatus>;
  cleanup(): Promise<void>;
}

/** The parts of GET /v1/qos/status the tests read. */
export interface QosStatus {
  enabled: boolean;
  policy: { source: string; lastError?: { message: string } };
  be?: { allowanceCores: number; beUsedCores: number; nonBeUsedCores: number; systemUsedCores: number; limitedBy: string; shares: Record<string, number>; psi: { factor: number } };
  memory?: { phase: string; usedPercent: number };
  pods: Array<{ podId: string; name: string; cls: string; targets: Array<{ id: string; path: string; knobs: Record<string, unknown> }> }>;
  counters: Record<string, number>;
  history: Array<{ at: string; allowanceCores?: number; beUsedCores?: number }>;
  evictions: Array<{ containerId: string; name: string; priority: number; outcome: string; message: string }>;
  lastActions: Array<Record<string, unknown>>;
  degraded: Array<{ feature: string; reason: string }>;
}

/** A berthd with QoS on and `policy` in its policy file; `config` adds other berthd settings (runtime handlers, …). */
export async function startQosEnv(policy: Record<string, unknown>, loopIntervalMs = 1000, config: Record<string, unknown> = {}): Promise<QosEnv> {
  const pending = join('/tmp', `berth-qos-policy-${process.pid}-${Date.now()}.yaml`);
  await writeFile(pending, stringify(policy));
  const env = await startPodEnv({ config: { ...config, qos: { policyFile: pending, loopIntervalMs } } });
  const admin = new AdminClient(env.d.adminSocket);
  const cg = CgroupManager.detect();
  const qe: QosEnv = {
    env,
    admin,
    cg,
    policyFile: pending,
    async writePolicy(doc) {
      await writeFile(pending, typeof doc === 'string' ? doc : stringify(doc));
    },
    status: () => admin.get<QosStatus>('/v1/qos/status'),
    async cleanup() {
      try {
        await env.cleanup();
      } finally {
        await rm(pending, { force: true });
      }
    },
  };
  return qe;
}

/**
 * Set the node memory threshold to 1 % (more than that is always in use, so every BE candidate
 * goes, lowest priority first) and wait until `count` evictions have been carried out.
 */
export async function evictEveryBe(q: QosEnv, count: number): Promise<QosStatus> {
  await q.admin.post('/v1/qos/policy', { memoryEvictThresholdPercent: 1 });
  return eventually(async () => {
    const st = await q.status();
    return st.evictions.length >= count && st.evictions.every((e) => e.outcome === 'killed') ? st : undefined;
  }, 20_000);
}

export const BUSY = 'while :; do :; done';

/** CPU time a cgroup used (ns), read through src/cgroups. */
export function cpuUsageNs(cg: CgroupManager, path: string): number {
  const s = cg.readStats(path, { cpu: true, memory: false, pids: false, io: false, psi: false });
  if (!s?.cpu) throw new Error(`no cpu stats for ${path}`);
  return s.cpu.usageNs;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
