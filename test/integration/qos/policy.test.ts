/**
 * Policy as data on a running berthd: the policy file is hot-reloaded within a loop period, a
 * broken one is rejected with its key paths while the previous policy stays in force, the
 * admin API applies (and persists) and simulates policies — simulation writes nothing.
 */
import { readFile, stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminError } from '../../../src/admin/client.js';
import { eventually } from '../../helpers/pod-env.js';
import { startQosEnv, type QosEnv } from './support.js';

let q: QosEnv;
beforeAll(async () => {
  q = await startQosEnv({ cpuSuppressThresholdPercent: 60 });
});
afterAll(async () => {
  await q?.cleanup();
});

interface PolicyStatus {
  policy: Record<string, unknown> & { cpuSuppressThresholdPercent: number; cpuSuppressPolicy: string };
  source: string;
  lastError?: { message: string };
}

describe('QoS policy (file, admin API)', () => {
  it('hot-reloads the file, rejects a broken one, applies and simulates over the admin socket', async () => {
    const { admin } = q;
    expect(((await stat(q.env.d.adminSocket)).mode & 0o777).toString(8)).toBe('660');
    const first = await admin.get<PolicyStatus>('/v1/qos/policy');
    expect(first.source).toBe(q.policyFile);
    expect(first.policy.cpuSuppressThresholdPercent).toBe(60);
    expect(first.policy.memoryEvictThresholdPercent).toBe(70);

    // Hot reload: an edit takes effect within a loop period (1 s; allow for a loaded machine).
    await q.writePolicy({ cpuSuppressThresholdPercent: 40, cpuBurstPercent: 300 });
    await eventually(async () => (await admin.get<PolicyStatus>('/v1/qos/policy')).policy.cpuSuppressThresholdPercent === 40, 5000);

    // A broken file: rejected with key paths; the previous policy stays in force.
    await q.writePolicy('cpuSuppressThresholdPercent: 500\npsiFeedback:\n  tightenFactor: 2\nbogus: 1\n');
    const rejected = await eventually(async () => {
      const p = await admin.get<PolicyStatus>('/v1/qos/policy');
      return p.lastError ? p : undefined;
    }, 5000);
    expect(rejected.lastError!.message).toMatch(/cpuSuppressThresholdPercent/);
    expect(rejected.lastError!.message).toMatch(/psiFeedback\.tightenFactor/);
    expect(rejected.lastError!.message).toMatch(/unknown key\(s\) "bogus"/);
    expect(rejected.policy.cpuSuppressThresholdPercent).toBe(40);
    expect((await q.status()).counters.policyRejected).toBeGreaterThan(0);

    // Apply through the API: invalid → 400 with key paths, nothing changes; valid YAML → in force and persisted.
    const err = await admin.post('/v1/qos/policy', { cpuSuppressPolicy: 'freeze', memoryEvictThresholdPercent: -1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdminError);
    expect((err as AdminError).status).toBe(400);
    expect((err as AdminError).message).toMatch(/cpuSuppressPolicy/);
    expect((err as AdminError).message).toMatch(/memoryEvictThresholdPercent/);
    const yaml = '# applied by the test\ncpuSuppressThresholdPercent: 55\ncpuSuppressPolicy: cfsQuota\n';
    const applied = await admin.request<PolicyStatus>('POST', '/v1/qos/policy', yaml);
    expect(applied.policy.cpuSuppressThresholdPercent).toBe(55);
    expect(applied.lastError).toBeUndefined();
    expect(await readFile(q.policyFile, 'utf8')).toBe(yaml);
  });

  it('simulates a policy per pod without writing a knob', async () => {
    const { env, admin, cg } = q;
    const be = await env.runPod('be', { annotations: { 'berth.dev/qos-class': 'BE' } });
    const beCtr = await env.runContainer(be, 'sleeper', ['sleep', '1000']);
    const path = await eventually(async () => (await q.status()).pods.find((p) => p.podId === be)?.targets.find((t) => t.id === beCtr)?.path);
    await eventually(async () => cg.read(path, 'cpuIdle'));
    const before = { cpus: cg.read(path, 'cpusetCpus'), quota: cg.read(path, 'cpuMax'), idle: cg.read(path, 'cpuIdle') };

    const sim = await admin.post<{ pods: Array<{ podId: string; cls: string; targets: Array<{ id: string; knobs: Record<string, unknown> }> }>; be: { policy: string; cpus: string; allowanceCores: number; shares: Record<string, number> } }>(
      '/v1/qos/simulate',
      { cpuSuppressPolicy: 'cpuset', be: { cpuIdle: false } },
    );
    const pod = sim.pods.find((p) => p.podId === be)!;
    expect(pod.cls).toBe('BE');
    const knobs = pod.targets.find((t) => t.id === beCtr)!.knobs;
    expect(sim.be.policy).toBe('cpuset');
    expect(knobs.cpusetCpus).toBe(sim.be.cpus);
    expect(knobs.cpuIdle).toBe(false);
    expect(knobs.cpuShares).toBe(2);
    // Whole CPUs and no quota, unless the allowance is under one CPU (then a quota on that one).
    if (sim.be.allowanceCores >= 1) expect(knobs.cpuMax).toEqual({ quota: 'max', period: 100_000 });
    else expect(knobs.cpuMax).toEqual({ quota: Math.floor(sim.be.shares[beCtr]! * 100_000), period: 100_000 });

    // Nothing was written: a few loop steps later the knobs are what the policy in force says.
    await new Promise((r) => setTimeout(r, 2500));
    expect(cg.read(path, 'cpuIdle')).toBe(before.idle);
    expect(cg.read(path, 'cpusetCpus')).toBe(before.cpus);
    expect(cg.read(path, 'cpuMax').quota).not.toBe('max');
    // Simulating a broken policy is refused like applying one.
    await expect(admin.post('/v1/qos/simulate', { cpuSuppressMinCores: 0 })).rejects.toThrow(/cpuSuppressMinCores/);
  });

  it('leaves the BE parent neutral while a pod placed there as BE is no longer BE', async () => {
    const { env, admin, cg } = q;
    const parent = env.d.beParent;
    // A pod with no class label is BE under this policy, so it goes under the BE parent …
    await admin.post('/v1/qos/policy', { defaultClass: { other: 'BE' } });
    const pod = await env.runPod('was-be');
    const ctr = await env.runContainer(pod, 'sleeper', ['sleep', '1000']);
    const path = await eventually(async () => (await q.status()).pods.find((p) => p.podId === pod)?.targets.find((t) => t.id === ctr)?.path);
    expect(path.startsWith(`${parent}/`)).toBe(true);
    expect(cg.read(parent, 'cpuIdle')).toBe(true);

    // … and LS under the next one: idle, the parent would make it idle against the whole node.
    await admin.post('/v1/qos/policy', { defaultClass: { other: 'LS' } });
    const degraded = await eventually(async () => {
      const s = await q.status();
      return s.pods.find((p) => p.podId === pod)?.cls === 'LS' && !cg.read(parent, 'cpuIdle') ? s.degraded : undefined;
    }, 5000);
    expect(degraded).toContainEqual({ feature: 'be-parent', reason: expect.stringContaining(`pod test/was-be is LS (default) but was placed under the BE parent ${parent}`) });
    expect(cg.read(path, 'cpuIdle')).toBe(false);

    // Once it is gone the parent is idle again.
    await env.cri.runtime.stopPodSandbox({ podSandboxId: pod });
    await env.cri.runtime.removePodSandbox({ podSandboxId: pod });
    await eventually(async () => cg.read(parent, 'cpuIdle'), 5000);
    expect((await q.status()).degraded.filter((d) => d.feature === 'be-parent')).toEqual([]);
  });
});
