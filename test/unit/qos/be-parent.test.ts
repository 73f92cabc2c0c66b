/** The top-level BE parent: where it is per driver, the knobs it gets, and its place in a decision. */
import { describe, expect, it } from 'vitest';
import { beParentKnobs, resolveBeParent } from '../../../src/qos/be-parent.js';
import { qosConfigSchema } from '../../../src/qos/config-schema.js';
import { decide } from '../../../src/qos/decide.js';
import { DEFAULT_POLICY, policySchema } from '../../../src/qos/policy/schema.js';
import { initialState } from '../../../src/qos/strategies/types.js';
import type { NodeView } from '../../../src/qos/types.js';

function node(unsupported: NodeView['unsupported'] = {}): NodeView {
  return { mode: 'v1', onlineCpus: [0, 1], cpuCapacityCores: 2, cpuUsedCores: 1, memTotalBytes: 1e9, memUsedBytes: 1e8, unsupported, cgroupPsi: false, burstCappedAtQuota: true };
}

describe('resolveBeParent', () => {
  it('defaults per driver, takes a configured path, and "" turns it off', () => {
    expect(resolveBeParent('cgroupfs', undefined)).toEqual({ parent: '/berth-besteffort', path: '/berth-besteffort', driver: 'cgroupfs' });
    expect(resolveBeParent('systemd', undefined)).toEqual({ parent: 'berth_besteffort.slice', path: '/berth_besteffort.slice', driver: 'systemd' });
    expect(resolveBeParent('cgroupfs', '/batch')?.path).toBe('/batch');
    expect(resolveBeParent('cgroupfs', '')).toBeUndefined();
  });

  it('config rejects relative paths and ".." with the key named', () => {
    expect(qosConfigSchema.safeParse({ beCgroupParent: 'relative/path' }).success).toBe(false);
    const r = qosConfigSchema.safeParse({ beCgroupParent: '/a/../b' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['beCgroupParent']);
    expect(qosConfigSchema.parse({ beCgroupParent: 'batch.slice' }).beCgroupParent).toBe('batch.slice');
  });
});

describe('beParentKnobs', () => {
  it('idle (and the lowest I/O weight) while the policy is on; kernel defaults when it is off', () => {
    expect(beParentKnobs(node(), DEFAULT_POLICY)).toEqual({ knobs: { cpuIdle: true, blkioWeight: 10 }, neutral: { cpuIdle: false, cpuShares: 1024, blkioWeight: 100 } });
    const off = policySchema.parse({ enabled: false });
    expect(beParentKnobs(node(), off).knobs).toEqual({});
  });

  it('falls back to minimal shares without cpu.idle, and skips what the host lacks', () => {
    const r = beParentKnobs(node({ cpuIdle: 'kernel < 5.15', blkioWeight: 'no bfq' }), DEFAULT_POLICY);
    expect(r.knobs).toEqual({ cpuShares: 2 });
    expect(r.neutral).toEqual({ cpuShares: 1024 });
  });
});

describe('decide with a BE parent', () => {
  it('manages the parent as a group target: idle when enabled, restored to defaults when disabled', () => {
    const on = decide({ node: node(), pods: [], pageSize: 4096, beParent: '/berth-besteffort' }, DEFAULT_POLICY, initialState());
    const t = on.targets.find((x) => x.path === '/berth-besteffort')!;
    expect(t.kind).toBe('group');
    expect(t.knobs).toEqual({ cpuIdle: true, blkioWeight: 10 });
    // cpu.idle pins the weight: no shares are written while it is set.
    expect(t.neutral.cpuShares).toBeUndefined();
    const off = decide({ node: node(), pods: [], pageSize: 4096, beParent: '/berth-besteffort' }, policySchema.parse({ enabled: false }), initialState());
    const u = off.targets.find((x) => x.path === '/berth-besteffort')!;
    expect(u.knobs).toEqual({});
    expect(u.neutral).toEqual({ cpuIdle: false, cpuShares: 1024, blkioWeight: 100 });
    expect(decide({ node: node(), pods: [], pageSize: 4096 }, DEFAULT_POLICY, initialState()).targets).toEqual([]);
  });
});
