import { describe, expect, it } from 'vitest';
import { containerLinuxResources, milliCpuToQuota, milliCpuToShares, oomScoreAdj, podQosTier, podTotals } from '../../../src/cli/manifest/resources.js';

const GiB = 1n << 30n;

describe('kubelet resource mapping', () => {
  it('cpu shares = max(2, milli*1024/1000), capped; quota = milli*period/1000, at least 1000', () => {
    expect(milliCpuToShares(undefined)).toBe(2);
    expect(milliCpuToShares(1n)).toBe(2);
    expect(milliCpuToShares(100n)).toBe(102);
    expect(milliCpuToShares(1000n)).toBe(1024);
    expect(milliCpuToShares(1_000_000n)).toBe(262144);
    expect(milliCpuToQuota(undefined)).toBe(0);
    expect(milliCpuToQuota(500n)).toBe(50_000);
    expect(milliCpuToQuota(1n)).toBe(1000);
    expect(milliCpuToQuota(2500n)).toBe(250_000);
  });

  it('QoS tier: Guaranteed when every container has equal cpu+memory requests and limits (requests default to limits)', () => {
    expect(podQosTier([{ limits: { cpu: '1', memory: '1Gi' } }])).toBe('Guaranteed');
    expect(podQosTier([{ requests: { cpu: '1000m', memory: '1024Mi' }, limits: { cpu: 1, memory: '1Gi' } }])).toBe('Guaranteed');
    expect(podQosTier([{ limits: { cpu: '1', memory: '1Gi' } }, { requests: { cpu: '500m' }, limits: { cpu: '1', memory: '1Gi' } }])).toBe('Burstable');
    expect(podQosTier([{ limits: { cpu: '1', memory: '1Gi' } }, undefined])).toBe('Burstable');
    expect(podQosTier([{ requests: { memory: '10Mi' } }])).toBe('Burstable');
    expect(podQosTier([{ limits: { cpu: '1' } }])).toBe('Burstable');
    expect(podQosTier([undefined, {}, { requests: {}, limits: {} }])).toBe('BestEffort');
    expect(podQosTier([{ requests: { cpu: '0' } }])).toBe('BestEffort');
  });

  it('oom_score_adj by tier; Burstable = 1000 - 1000*request/capacity, kept within 3..999', () => {
    expect(oomScoreAdj('Guaranteed', GiB, 8n * GiB)).toBe(-997);
    expect(oomScoreAdj('BestEffort', undefined, 8n * GiB)).toBe(1000);
    expect(oomScoreAdj('Burstable', 2n * GiB, 8n * GiB)).toBe(750);
    expect(oomScoreAdj('Burstable', 8n * GiB, 8n * GiB)).toBe(3);
    expect(oomScoreAdj('Burstable', undefined, 8n * GiB)).toBe(999);
    expect(oomScoreAdj('Burstable', 1n, 8n * GiB)).toBe(999);
  });

  it('container resources: shares from the request (or the limit), quota and memory from the limits', () => {
    expect(containerLinuxResources({ requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: '500m', memory: '64Mi' } }, 'Burstable', 8n * GiB)).toEqual({
      cpuShares: 102,
      cpuQuota: 50_000,
      cpuPeriod: 100_000,
      memoryLimitInBytes: 64 * 1024 * 1024,
      oomScoreAdj: 997,
    });
    expect(containerLinuxResources({ limits: { cpu: '2' } }, 'Burstable', 8n * GiB)).toMatchObject({ cpuShares: 2048, cpuQuota: 200_000 });
    expect(containerLinuxResources(undefined, 'BestEffort', 8n * GiB)).toEqual({ cpuShares: 2, cpuQuota: 0, cpuPeriod: 0, memoryLimitInBytes: 0, oomScoreAdj: 1000 });
  });

  it('pod totals: sums, the largest init container when bigger, limits only when every container has one', () => {
    const t = podTotals([{ requests: { cpu: '100m' }, limits: { cpu: '200m', memory: '64Mi' } }, { requests: { cpu: '300m' }, limits: { cpu: '1', memory: '64Mi' } }], [{ requests: { cpu: '2' }, limits: { cpu: '2' } }]);
    expect(t.requests.cpuMilli).toBe(2000n);
    expect(t.limits.cpuMilli).toBe(2000n);
    expect(t.limits.memoryBytes).toBe(128n * 1024n * 1024n);
    const open = podTotals([{ limits: { cpu: '1' } }, { requests: { cpu: '1' } }], []);
    expect(open.limits.cpuMilli).toBeUndefined();
    expect(open.requests.cpuMilli).toBe(2000n);
  });
});
