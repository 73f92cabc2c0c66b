/** The QoS settings put into a new container's OCI spec, before the loop's first pass over it. */
import { describe, expect, it } from 'vitest';
import { PodSandboxConfig, ContainerConfig } from '../../../src/gen/runtime/v1/api.js';
import { policySchema } from '../../../src/qos/policy/schema.js';
import { applyQosToSpec, type HookView } from '../../../src/qos/spec-hook.js';
import type { SpecHookContext } from '../../../src/runtimes/lifecycle/index.js';
import type { Spec } from '../../../src/runtimes/oci/spec-types.js';

const BE_POD = PodSandboxConfig.fromPartial({ metadata: { name: 'be', namespace: 'ns', uid: 'u' }, annotations: { 'berth.dev/qos-class': 'BE' } });

function ctx(kind: 'sandbox' | 'container', pod = BE_POD): SpecHookContext {
  return { kind, podId: 'p', containerId: 'c', handler: 'runc', pod, ...(kind === 'container' ? { container: ContainerConfig.fromPartial({ metadata: { name: 'c' } }) } : {}) };
}

function view(policy: Record<string, unknown>, allowance: number | undefined, cpus: string | undefined, scope: 'container' | 'sandbox' = 'container'): HookView {
  return {
    qosScope: () => scope,
    policy: policySchema.parse(policy),
    beAllowance: () => (allowance === undefined ? undefined : { cores: allowance, cgroups: 1 }),
    beCpus: () => cpus,
    reserveExclusive: () => undefined,
  };
}

const spec = (): Spec => ({ ociVersion: '1.0.2', process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/' }, linux: {} }) as Spec;

describe('QoS spec hook', () => {
  it('starts a BE container on the BE CPUs, with no quota when the allowance covers them (cpuset policy)', () => {
    const s = spec();
    const r = applyQosToSpec(s, ctx('container'), view({}, 1.3, '1'));
    expect(r.cls).toBe('BE');
    expect(s.linux!.resources!.cpu).toEqual({ shares: 2, cpus: '1' });
    expect(s.process!.oomScoreAdj).toBe(1000);
  });

  it('adds a first quota when the allowance is under the BE CPUs (cpuset policy)', () => {
    const s = spec();
    applyQosToSpec(s, ctx('container'), view({}, 0.6, '1'));
    // One share of 0.6 cores among the one BE cgroup there is and this new one.
    expect(s.linux!.resources!.cpu).toEqual({ shares: 2, cpus: '1', quota: 30_000, period: 100_000 });
  });

  it('gives a quota and leaves the cpuset alone with the cfsQuota policy', () => {
    const s = spec();
    applyQosToSpec(s, ctx('container'), view({ cpuSuppressPolicy: 'cfsQuota' }, 1.3, '1'));
    expect(s.linux!.resources!.cpu).toEqual({ shares: 2, quota: 65_000, period: 100_000 });
  });

  it('confines the BE sandbox too, but gives it no quota and no oom_score_adj', () => {
    const s = spec();
    applyQosToSpec(s, ctx('sandbox'), view({}, 0.6, '1'));
    expect(s.linux!.resources!.cpu).toEqual({ shares: 2, cpus: '1' });
    expect(s.process!.oomScoreAdj).toBeUndefined();
  });

  it('puts no host CPU numbers into a VM pod’s specs (the loop confines its sandbox on the host)', () => {
    const s = spec();
    applyQosToSpec(s, ctx('container'), view({}, 1.3, '1', 'sandbox'));
    expect(s.linux!.resources!.cpu).toEqual({ shares: 2 });
    const lse = spec();
    const pod = PodSandboxConfig.fromPartial({ metadata: { name: 'lse', namespace: 'ns', uid: 'u' }, annotations: { 'berth.dev/qos-class': 'LSE' } });
    const reserve = { ...view({}, 1.3, '1', 'sandbox'), reserveExclusive: () => [1] };
    applyQosToSpec(lse, ctx('container', pod), reserve);
    expect(lse.linux!.resources!.cpu).toBeUndefined();
    applyQosToSpec(lse, ctx('container', pod), { ...reserve, qosScope: () => 'container' });
    expect(lse.linux!.resources!.cpu).toEqual({ cpus: '1' });
  });

  it('leaves the spec as it is before the loop has decided anything, or with QoS disabled', () => {
    const s = spec();
    applyQosToSpec(s, ctx('container'), view({}, undefined, undefined));
    expect(s.linux!.resources!.cpu).toEqual({ shares: 2 });
    const off = spec();
    applyQosToSpec(off, ctx('container'), view({ enabled: false }, 0.6, '1'));
    expect(off.linux!.resources).toBeUndefined();
  });
});
