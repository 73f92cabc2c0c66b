import { describe, expect, it } from 'vitest';
import {
  blkioWeightToIoWeight,
  cpusToQuota,
  ioWeightToBlkioWeight,
  ociSwapToV2,
  pageFloor,
  sharesToWeight,
  weightToShares,
} from '../../../src/cgroups/convert.js';
import { BerthError, Code } from '../../../src/util/errors.js';

describe('cpu shares <-> weight (runc / kubelet formulas)', () => {
  it('maps the shares range onto the weight range', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39); // the kubelet's 1-CPU request
    expect(sharesToWeight(262144)).toBe(10000);
    expect(sharesToWeight(0)).toBe(0);
    // 1 + ((shares-2)*9999)/262142, integer division
    for (const s of [3, 100, 512, 2048, 100000]) expect(sharesToWeight(s)).toBe(1 + Math.floor(((s - 2) * 9999) / 262142));
  });
  it('inverts weight to shares', () => {
    expect(weightToShares(1)).toBe(2);
    expect(weightToShares(100)).toBe(2597);
    expect(weightToShares(10000)).toBe(262144);
    // both use integer division, so a round trip can lose one unit
    expect(sharesToWeight(weightToShares(100))).toBe(99);
    expect(sharesToWeight(weightToShares(10000))).toBe(10000);
    expect(weightToShares(sharesToWeight(512))).toBe(500);
  });
  it('clamps out-of-range inputs instead of wrapping', () => {
    expect(sharesToWeight(1)).toBe(1);
    expect(sharesToWeight(10 ** 9)).toBe(10000);
    expect(weightToShares(20000)).toBe(262144);
  });
});

describe('blkio weight <-> io.weight', () => {
  it('maps [10..1000] onto [1..10000]', () => {
    expect(blkioWeightToIoWeight(10)).toBe(1);
    expect(blkioWeightToIoWeight(1000)).toBe(10000);
    expect(blkioWeightToIoWeight(500)).toBe(4950);
    expect(blkioWeightToIoWeight(300)).toBe(2930);
    expect(ioWeightToBlkioWeight(1)).toBe(10);
    expect(ioWeightToBlkioWeight(10000)).toBe(1000);
    expect(ioWeightToBlkioWeight(blkioWeightToIoWeight(500))).toBe(500);
  });
});

describe('ociSwapToV2', () => {
  it('follows the OCI memory+swap convention', () => {
    expect(ociSwapToV2(0, -1)).toBe('max');
    expect(ociSwapToV2(-1, 1000)).toBe('max');
    expect(ociSwapToV2(0, 1000)).toBeUndefined();
    expect(ociSwapToV2(3000, -1)).toBe(3000);
    expect(ociSwapToV2(3000, 1000)).toBe(2000);
    expect(ociSwapToV2(1000, 1000)).toBe(0);
  });
  it('rejects impossible combinations with INVALID_ARGUMENT', () => {
    for (const [swap, mem] of [
      [500, 1000],
      [500, 0],
      [500, -5],
    ] as const) {
      try {
        ociSwapToV2(swap, mem);
        expect.fail(`accepted swap=${swap} memory=${mem}`);
      } catch (e) {
        expect((e as BerthError).code).toBe(Code.INVALID_ARGUMENT);
      }
    }
  });
});

describe('cpusToQuota / pageFloor', () => {
  it('computes quotas with the 1 ms floor', () => {
    expect(cpusToQuota(1.5)).toBe(150000);
    expect(cpusToQuota(0.001)).toBe(1000);
    expect(cpusToQuota(2, 50000)).toBe(100000);
  });
  it('rounds memory down to pages', () => {
    expect(pageFloor(100000000, 4096)).toBe(99999744);
    expect(pageFloor(8192, 4096)).toBe(8192);
  });
});
