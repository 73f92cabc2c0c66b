import { describe, expect, it } from 'vitest';
import { LinuxContainerResources } from '../../../src/gen/runtime/v1/api.js';
import { cgroupsPathFor, clampOomScoreAdj, withOomScoreAdj, withResources } from '../../../src/runtimes/oci/opts/resources.js';
import { Code } from '../../../src/util/errors.js';
import { blankSpec, ctxWith, expectBerthError } from './helpers.js';

describe('oom_score_adj clamp', () => {
  it.each([
    [-998, 0, 0],
    [-997, -500, -500],
    [1000, 0, 1000],
    [500, 500, 500],
    [-1000, -1000, -1000],
    [0, 300, 300],
  ])('requested %i with berthd at %i → %i', (req, cur, want) => {
    expect(clampOomScoreAdj(req, cur)).toBe(want);
  });
  it('out-of-range values are refused', async () => {
    await expectBerthError(() => clampOomScoreAdj(1001, 0), Code.INVALID_ARGUMENT, /1001/);
    await expectBerthError(() => clampOomScoreAdj(-1001, 0), Code.INVALID_ARGUMENT, /-1001/);
  });
  it('writes process.oomScoreAdj', async () => {
    const spec = blankSpec();
    await withOomScoreAdj(-998, -100)(spec, ctxWith());
    expect(spec.process!.oomScoreAdj).toBe(-100);
  });
});

describe('cgroupsPath', () => {
  it.each([
    ['cgroupfs', '/kubepods/burstable/podabc', 'c1', '/kubepods/burstable/podabc/c1'],
    ['cgroupfs', '/kubepods/', 'c1', '/kubepods/c1'],
    ['cgroupfs', '', 'c1', undefined],
    ['systemd', 'kubepods-burstable-podabc.slice', 'c1', 'kubepods-burstable-podabc.slice:berth:c1'],
    ['systemd', '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podabc.slice', 'c1', 'kubepods-burstable-podabc.slice:berth:c1'],
    ['systemd', '', 'c1', undefined],
  ] as const)('%s %s', (driver, parent, id, want) => {
    expect(cgroupsPathFor(driver, parent, id)).toBe(want);
  });
  it('mismatched parents are refused', async () => {
    await expectBerthError(() => cgroupsPathFor('systemd', '/kubepods/burstable', 'c'), Code.INVALID_ARGUMENT, /not a systemd slice/);
    await expectBerthError(() => cgroupsPathFor('cgroupfs', 'kubepods', 'c'), Code.INVALID_ARGUMENT, /absolute/);
  });
});

describe('resources', () => {
  const run = async (r: Partial<LinuxContainerResources>, facts = { swapAccounting: true, hugetlb: true }) => {
    const spec = blankSpec();
    await withResources(LinuxContainerResources.fromPartial(r), facts)(spec, ctxWith());
    return spec.linux!.resources!;
  };

  it('maps cpu and cpuset, zero meaning unset', async () => {
    const res = await run({ cpuPeriod: 100000n, cpuQuota: 50000n, cpuShares: 512n, cpusetCpus: '0-1', cpusetMems: '0' });
    expect(res.cpu).toEqual({ period: 100000, quota: 50000, shares: 512, cpus: '0-1', mems: '0' });
    expect(res.memory).toBeUndefined();
    expect((await run({ cpuShares: 2n })).cpu).toEqual({ shares: 2 });
  });

  it('memory limit sets swap = limit unless swap is asked for', async () => {
    expect((await run({ memoryLimitInBytes: 1n << 30n })).memory).toEqual({ limit: 2 ** 30, swap: 2 ** 30 });
    expect((await run({ memoryLimitInBytes: 100n, memorySwapLimitInBytes: 300n })).memory).toEqual({ limit: 100, swap: 300 });
    expect((await run({ memoryLimitInBytes: 100n }, { swapAccounting: false, hugetlb: true })).memory).toEqual({ limit: 100 });
  });

  it('hugepages only with a hugetlb controller; unified copied', async () => {
    const r = { hugepageLimits: [{ pageSize: '2MB', limit: 4194304n }], unified: { 'memory.high': '1000' } };
    const withHt = await run(r);
    expect(withHt.hugepageLimits).toEqual([{ pageSize: '2MB', limit: 4194304 }]);
    expect(withHt.unified).toEqual({ 'memory.high': '1000' });
    expect((await run(r, { swapAccounting: true, hugetlb: false })).hugepageLimits).toBeUndefined();
  });

  it('absent resources leave the spec alone', async () => {
    const spec = blankSpec();
    await withResources(undefined, { swapAccounting: true, hugetlb: true })(spec, ctxWith());
    expect(spec.linux!.resources).toBeUndefined();
  });
});
