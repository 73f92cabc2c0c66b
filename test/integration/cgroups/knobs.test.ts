import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { testBed, type TestBed } from './support.js';
import { readKernelFile } from '../../../src/cgroups/fsio.js';
import {
  CgroupFileError,
  blkioWeightToIoWeight,
  ioWeightToBlkioWeight,
  sharesToWeight,
  weightToShares,
  type KnobName,
  type KnobValues,
} from '../../../src/cgroups/index.js';
import { BerthError, Code } from '../../../src/util/errors.js';
import { KernelFiles } from '../../../src/util/kernel-files.js';

let bed: TestBed;
let P: string;
beforeAll(async () => {
  bed = testBed();
  P = `${bed.parent}/knobs`;
  await bed.cg.create(P);
});
afterAll(async () => {
  await bed.cleanup();
});

const MiB = 1 << 20;
const v2 = () => bed.cg.mode === 'v2';

/** The raw content of a knob's main file in the test cgroup. */
function raw(knob: KnobName): string {
  const s = bed.cg.supports(knob);
  if (!s.supported) throw new Error(`${knob} unsupported: ${s.reason}`);
  return readKernelFile(join(s.root, P, s.files[0]!)).trim();
}

async function rejection(p: Promise<unknown>): Promise<BerthError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BerthError);
    return e as BerthError;
  }
  throw new Error('expected the write to be refused');
}

/**
 * Write a knob when this host supports it and check the verified read-back; when it does not,
 * check that the write is refused with FAILED_PRECONDITION and the detected reason.
 */
async function writeOrRefused<K extends KnobName>(knob: K, value: KnobValues[K], expected: KnobValues[K] = value): Promise<boolean> {
  const support = bed.cg.supports(knob);
  if (support.supported) {
    expect(await bed.cg.write(P, knob, value), knob).toEqual(expected);
    expect(bed.cg.read(P, knob), knob).toEqual(expected);
    return true;
  }
  const e = await rejection(bed.cg.write(P, knob, value));
  expect(e.code, knob).toBe(Code.FAILED_PRECONDITION);
  expect(e.message).toContain(support.reason);
  return false;
}

describe('typed knobs on the real kernel', () => {
  it('cpu shares / weight (converted on the other version)', async () => {
    expect(await bed.cg.write(P, 'cpuShares', 512)).toBe(v2() ? weightToShares(sharesToWeight(512)) : 512);
    expect(raw('cpuShares')).toBe(v2() ? String(sharesToWeight(512)) : '512');
    expect(await bed.cg.write(P, 'cpuWeight', 200)).toBe(v2() ? 200 : sharesToWeight(weightToShares(200)));
    expect(raw('cpuWeight')).toBe(v2() ? '200' : String(weightToShares(200)));
  });

  it('cpu quota/period (cpu.max or cfs_quota_us + cfs_period_us) and burst', async () => {
    await writeOrRefused('cpuMax', { quota: 50_000, period: 100_000 });
    expect(raw('cpuMax')).toBe(v2() ? '50000 100000' : '50000');
    await writeOrRefused('cpuMax', { quota: 30_000, period: 50_000 });
    if (await writeOrRefused('cpuBurst', 20_000)) {
      // burst above the quota: our validation accepts it, the kernel refuses it
      const e = await rejection(bed.cg.write(P, 'cpuBurst', 60_000));
      const file = join(bed.cg.dir(P, 'cpu')!, v2() ? 'cpu.max.burst' : 'cpu.cfs_burst_us');
      expect(e).toBeInstanceOf(CgroupFileError);
      expect(e.code).toBe(Code.FAILED_PRECONDITION);
      expect((e as CgroupFileError).errno).toBe('EINVAL');
      expect(e.message).toMatch(new RegExp(`^write ${v2() ? 'cpu\\.max\\.burst' : 'cpu\\.cfs_burst_us'}=60000 to ${file}: EINVAL`));
      await writeOrRefused('cpuBurst', 0);
    }
    await writeOrRefused('cpuMax', { quota: 'max', period: 100_000 });
  });

  it('cpu.idle; the kernel refuses weight changes while idle', async () => {
    if (await writeOrRefused('cpuIdle', true)) {
      const e = await rejection(bed.cg.write(P, 'cpuShares', 1024));
      expect(e.code).toBe(Code.FAILED_PRECONDITION);
      expect(e.message).toContain('EINVAL');
      await writeOrRefused('cpuIdle', false);
    }
    await writeOrRefused('cpuShares', 1024, v2() ? weightToShares(sharesToWeight(1024)) : 1024);
  });

  it('cpuset cpus and mems, normalised like the kernel prints them', async () => {
    if (!bed.cg.supports('cpusetCpus').supported) {
      await writeOrRefused('cpusetCpus', '0');
      return;
    }
    const n = cpus().length;
    const all = Array.from({ length: n }, (_, i) => String(i)).join(','); // "0,1"
    await writeOrRefused('cpusetCpus', all, n > 1 ? `0-${n - 1}` : '0');
    await writeOrRefused('cpusetCpus', '0');
    await writeOrRefused('cpusetMems', '0');
    const e = await rejection(bed.cg.write(P, 'cpusetCpus', '4095'));
    expect(e.code).toBe(Code.FAILED_PRECONDITION);
    expect(e.message).toContain(join(P, 'cpuset.cpus'));
    expect(e.message).toMatch(/: E[A-Z]+/);
  });

  it('memory limit (page-rounded by the kernel), soft limit, high/low/min, swap', async () => {
    // 100,000,000 bytes is not page-aligned: the kernel rounds down and the verify expects that
    expect(await bed.cg.write(P, 'memoryMax', 100_000_000)).toBe(Math.floor(100_000_000 / 4096) * 4096);
    await writeOrRefused('memoryMax', 64 * MiB);
    await writeOrRefused('memorySoftLimit', 32 * MiB);
    await writeOrRefused('memoryHigh', 48 * MiB);
    await writeOrRefused('memoryLow', 8 * MiB);
    await writeOrRefused('memoryMin', 4 * MiB);
    await writeOrRefused('memoryMemswLimit', 128 * MiB);
    await writeOrRefused('memorySwapMax', 0);
    await writeOrRefused('memoryOomGroup', true);
    await writeOrRefused('memoryWmarkRatio', 80);
    if (bed.cg.supports('memoryMemswLimit').supported) await writeOrRefused('memoryMemswLimit', 'max');
    await writeOrRefused('memoryMax', 'max');
    expect(raw('memoryMax')).toBe(v2() ? 'max' : '9223372036854771712');
  });

  it('pids.max and block I/O weight', async () => {
    await writeOrRefused('pidsMax', 50);
    await writeOrRefused('pidsMax', 'max');
    // v2 without BFQ converts to io.weight and back (300 happens to survive the round trip)
    const viaIoWeight = v2() && !existsSync(join(bed.cg.dir(P, 'blkio')!, 'io.bfq.weight'));
    await writeOrRefused('blkioWeight', 300, viaIoWeight ? ioWeightToBlkioWeight(blkioWeightToIoWeight(300)) : 300);
    await writeOrRefused('ioWeight', 300);
  });

  it('vendor knobs: supported only on their kernels, refused with the reason elsewhere', async () => {
    await writeOrRefused('cpuBvtWarpNs', 1);
    await writeOrRefused('cgroupPriority', 1);
  });

  it('validates values before touching the kernel', async () => {
    for (const [knob, value] of [
      ['cpuShares', 1],
      ['cpuWeight', 0],
      ['cpuMax', { quota: 500, period: 100_000 }],
      ['memoryMax', -1],
      ['pidsMax', 1.5],
      ['cpusetCpus', '0-'],
    ] as Array<[KnobName, never]>) {
      const e = await rejection(bed.cg.write(P, knob, value));
      expect(e.code, knob).toBe(Code.INVALID_ARGUMENT);
    }
  });

  it('apply() writes several knobs, retrying the ones whose order matters', async () => {
    const burst = bed.cg.supports('cpuBurst').supported;
    await bed.cg.apply(P, { cpuMax: { quota: 20_000, period: 100_000 }, pidsMax: 20, ...(burst ? { cpuBurst: 15_000 } : {}) });
    expect(bed.cg.read(P, 'cpuMax')).toEqual({ quota: 20_000, period: 100_000 });
    expect(bed.cg.read(P, 'pidsMax')).toBe(20);
    if (burst) {
      // the kernel refuses a quota below the current burst (EINVAL): apply() writes the burst,
      // then retries the quota
      await bed.cg.apply(P, { cpuMax: { quota: 10_000, period: 100_000 }, cpuBurst: 5_000 });
      expect(bed.cg.read(P, 'cpuBurst')).toBe(5_000);
      expect(bed.cg.read(P, 'cpuMax')).toEqual({ quota: 10_000, period: 100_000 });
    }
  });
});

describe('knob reads through kept descriptors (the QoS executor’s drift check)', () => {
  it('see a value changed behind berth’s back, and NOT_FOUND once the cgroup is gone', async () => {
    const path = `${bed.parent}/kept`;
    await bed.cg.create(path);
    const files = new KernelFiles();
    const set = await bed.cg.write(path, 'cpuShares', 512); // v2: through cpu.weight, so not 512 exactly
    expect(bed.cg.read(path, 'cpuShares', files)).toBe(set);
    expect(bed.cg.read(path, 'cpuMax', files)).toEqual({ quota: 'max', period: 100_000 });
    const kept = files.size;
    expect(kept).toBeGreaterThan(0);
    // Written by someone else (plain open/write/close): the kept descriptor reads it at once.
    const file = bed.cg.supports('cpuShares');
    if (!file.supported) throw new Error('cpu shares/weight unsupported');
    writeFileSync(join(file.root, path, file.files[0]!), v2() ? '200' : '2048');
    expect(bed.cg.read(path, 'cpuShares', files)).toBe(v2() ? weightToShares(200) : 2048);
    expect(files.size).toBe(kept); // the same descriptors, no reopening
    await bed.cg.remove(path);
    const err = (() => {
      try {
        bed.cg.read(path, 'cpuShares', files);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(BerthError);
    expect((err as BerthError).code).toBe(Code.NOT_FOUND);
    files.close();
  });
});
