/**
 * The v2 code paths, exercised on a FAKE cgroup v2 tree (regular files in a temp dir; see
 * test/helpers/fake-cgroupfs.ts). These prove file names, formats and conversions, not kernel
 * behaviour: the real-kernel tests are in test/integration/cgroups.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createFakeCgroupfs, SAMPLE_V2_STATS, type FakeCgroupfs } from '../../helpers/fake-cgroupfs.js';
import { CgroupManager } from '../../../src/cgroups/manager.js';
import { CgroupFileError, readKernelFile } from '../../../src/cgroups/fsio.js';
import { readStats } from '../../../src/cgroups/stats.js';
import { sharesToWeight, weightToShares } from '../../../src/cgroups/convert.js';
import { BerthError, Code } from '../../../src/util/errors.js';
import { setLogLevel } from '../../../src/util/log.js';

setLogLevel('warn');

let fake: FakeCgroupfs;
let cg: CgroupManager;

function setup(opts: Parameters<typeof createFakeCgroupfs>[0] = {}): void {
  fake = createFakeCgroupfs(opts);
  fake.addCgroup('/kubepods');
  cg = CgroupManager.detect({ procRoot: fake.procRoot, probeCgroup: '/kubepods' });
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<{ code: Code; message: string }> {
  try {
    if (typeof p === 'function') p();
    else await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BerthError);
    return { code: (e as BerthError).code, message: (e as Error).message };
  }
  throw new Error('expected an error');
}

afterEach(() => fake?.cleanup());

describe('detection (fake v2 tree)', () => {
  beforeEach(() => setup());

  it('finds v2 mode, the unified mount, its controllers and the page size', () => {
    const { layout, pageSize } = cg.system;
    expect(layout.mode).toBe('v2');
    expect(layout.unified).toBe(fake.cgroupRoot);
    expect(layout.v1).toEqual({});
    expect(layout.v2Controllers).toContain('cpu');
    expect(layout.v2SubtreeControl).toContain('memory');
    expect(pageSize).toBe(4096);
  });

  it('reports v2 features from the probe cgroup', () => {
    for (const f of ['cpu.weight', 'cpu.idle', 'cpu.burst', 'memory.high', 'memory.low', 'memory.min', 'memory.swap', 'memory.oom.group', 'io.weight', 'cgroup.kill', 'freezer', 'cpuset', 'psi.node', 'psi.cgroup'] as const) {
      expect(cg.feature(f), f).toMatchObject({ available: true });
    }
    for (const f of ['cpu.shares', 'memory.soft_limit', 'blkio.weight', 'io.bfq.weight', 'cpu.bvt_warp_ns', 'cgroup.priority', 'memory.wmark_ratio', 'resctrl'] as const) {
      expect(cg.feature(f), f).toMatchObject({ available: false, reason: expect.any(String) });
    }
    expect(cg.feature('cpu.burst').file).toBe(`${fake.cgroupRoot}/<cgroup>/cpu.max.burst`);
    expect(cg.feature('sched_schedstats')).toMatchObject({ available: true, value: '0' });
  });

  it('without a probe cgroup, a plain mkdir is not a cgroup: inspects the root and says so', () => {
    const other = CgroupManager.detect({ procRoot: fake.procRoot });
    expect(other.feature('cpu.idle')).toMatchObject({ available: false, reason: expect.stringContaining('is not a cgroup') });
    expect(readdirSync(fake.cgroupRoot).filter((n) => n.startsWith('berth-probe'))).toEqual([]);
  });

  it('explains a controller missing from subtree_control', () => {
    fake.cleanup();
    setup({ subtreeControl: ['memory', 'pids'] });
    fake.addCgroup('/nocpu', {}, ['cpu.idle', 'cpu.max.burst', 'cpu.weight', 'cpu.max']);
    const c = CgroupManager.detect({ procRoot: fake.procRoot, probeCgroup: '/nocpu' });
    expect(c.feature('cpu.idle').reason).toBe(`controller cpu is not enabled in ${fake.cgroupRoot}/cgroup.subtree_control`);
  });

  it('finds resctrl from mountinfo and reports missing PSI and schedstats', () => {
    fake.cleanup();
    setup({ psi: false, schedstats: null, extraMountinfo: ['50 25 0:40 / /sys/fs/resctrl rw,relatime - resctrl resctrl rw'] });
    expect(cg.feature('resctrl')).toMatchObject({ available: true, file: '/sys/fs/resctrl' });
    expect(cg.feature('psi.node')).toMatchObject({ available: false, reason: 'kernel built without CONFIG_PSI' });
    expect(cg.feature('sched_schedstats').available).toBe(false);
  });
});

describe('knobs (fake v2 tree)', () => {
  beforeEach(() => {
    setup();
    fake.addCgroup('/kubepods/pod1');
  });
  const P = '/kubepods/pod1';

  it('writes cpu shares as cpu.weight and reads back through the inverse', async () => {
    expect(await cg.write(P, 'cpuShares', 1024)).toBe(weightOf(1024));
    expect(fake.read(P, 'cpu.weight')).toBe('39');
    expect(await cg.write(P, 'cpuWeight', 250)).toBe(250);
    expect(fake.read(P, 'cpu.weight')).toBe('250');
  });

  it('writes cpu.max, cpu.max.burst and cpu.idle', async () => {
    expect(await cg.write(P, 'cpuMax', { quota: 50000, period: 100000 })).toEqual({ quota: 50000, period: 100000 });
    expect(fake.read(P, 'cpu.max')).toBe('50000 100000');
    expect(await cg.write(P, 'cpuMax', { quota: 'max', period: 100000 })).toEqual({ quota: 'max', period: 100000 });
    expect(fake.read(P, 'cpu.max')).toBe('max 100000');
    await cg.write(P, 'cpuBurst', 20000);
    expect(fake.read(P, 'cpu.max.burst')).toBe('20000');
    expect(await cg.write(P, 'cpuIdle', true)).toBe(true);
    expect(fake.read(P, 'cpu.idle')).toBe('1');
    expect(cg.read(P, 'cpuIdle')).toBe(true);
  });

  it('writes memory.max/high/low/min/swap.max and oom.group with "max" for unlimited', async () => {
    const MiB = 1 << 20;
    expect(await cg.write(P, 'memoryMax', 64 * MiB)).toBe(64 * MiB);
    expect(fake.read(P, 'memory.max')).toBe(String(64 * MiB));
    expect(await cg.write(P, 'memoryMax', 'max')).toBe('max');
    expect(fake.read(P, 'memory.max')).toBe('max');
    await cg.write(P, 'memoryHigh', 48 * MiB);
    await cg.write(P, 'memoryLow', 16 * MiB);
    await cg.write(P, 'memoryMin', 8 * MiB);
    await cg.write(P, 'memorySwapMax', 0);
    await cg.write(P, 'memoryOomGroup', true);
    expect([fake.read(P, 'memory.high'), fake.read(P, 'memory.low'), fake.read(P, 'memory.min')]).toEqual([`${48 * MiB}`, `${16 * MiB}`, `${8 * MiB}`]);
    expect(fake.read(P, 'memory.swap.max')).toBe('0');
    expect(fake.read(P, 'memory.oom.group')).toBe('1');
  });

  it('verifies the read-back: the fake does not round to pages, so an unaligned limit is caught', async () => {
    const e = await codeOf(cg.write(P, 'memoryMax', 100_000_000));
    expect(e.code).toBe(Code.INTERNAL);
    expect(e.message).toContain(`${fake.cgroupRoot}${P}/memory.max`);
    expect(e.message).toContain('reads back 100000000, expected 99999744');
  });

  it('normalises cpuset lists on read-back', async () => {
    expect(await cg.write(P, 'cpusetCpus', '1,0')).toBe('0-1');
    expect(fake.read(P, 'cpuset.cpus')).toBe('1,0');
    expect(await cg.write(P, 'cpusetMems', '0')).toBe('0');
  });

  it('writes pids.max and blkio weight (io.weight converted; io.bfq.weight when present)', async () => {
    expect(await cg.write(P, 'pidsMax', 100)).toBe(100);
    expect(await cg.write(P, 'pidsMax', 'max')).toBe('max');
    expect(await cg.write(P, 'blkioWeight', 500)).toBe(500);
    expect(fake.read(P, 'io.weight')).toBe('4950');
    expect(await cg.write(P, 'ioWeight', 300)).toBe(300);
    fake.addCgroup('/kubepods/pod2', { 'io.bfq.weight': 'default 100\n' });
    expect(await cg.write('/kubepods/pod2', 'blkioWeight', 300)).toBe(300);
    expect(fake.read('/kubepods/pod2', 'io.bfq.weight')).toBe('300');
  });

  it('refuses v1-only knobs, bad values and missing cgroups with actionable errors', async () => {
    expect(cg.supports('memorySoftLimit')).toEqual({ supported: false, reason: expect.stringContaining('memoryLow') });
    expect((await codeOf(cg.write(P, 'memorySoftLimit', 1 << 20))).code).toBe(Code.FAILED_PRECONDITION);
    expect((await codeOf(cg.write(P, 'memoryMemswLimit', 1 << 20))).message).toContain('memorySwapMax');
    expect((await codeOf(cg.write(P, 'cpuShares', 1))).code).toBe(Code.INVALID_ARGUMENT);
    expect((await codeOf(cg.write(P, 'cpuMax', { quota: 10, period: 100000 }))).code).toBe(Code.INVALID_ARGUMENT);
    expect((await codeOf(cg.write(P, 'cpusetCpus', 'x'))).code).toBe(Code.INVALID_ARGUMENT);
    expect((await codeOf(cg.write('/kubepods/nope', 'pidsMax', 5))).code).toBe(Code.NOT_FOUND);
    expect((await codeOf(cg.write('/kubepods/../x', 'pidsMax', 5))).code).toBe(Code.INVALID_ARGUMENT);
    expect(cg.supports('cpuBvtWarpNs')).toMatchObject({ supported: false });
  });

  it('names the file and errno when a knob file is missing', async () => {
    rmSync(join(fake.cgroupRoot, P, 'pids.max'));
    try {
      await cg.write(P, 'pidsMax', 5);
      expect.fail('write succeeded');
    } catch (e) {
      expect(e).toBeInstanceOf(CgroupFileError);
      const err = e as CgroupFileError;
      expect(err.code).toBe(Code.FAILED_PRECONDITION);
      expect(err.errno).toBe('ENOENT');
      expect(err.path).toBe(join(fake.cgroupRoot, P, 'pids.max'));
      expect(err.message).toBe(`write pids.max=5 to ${err.path}: ENOENT (no such file: the cgroup does not exist or this kernel lacks the file)`);
    }
    expect(fake.has(P, 'pids.max')).toBe(false); // a write never creates a file
  });

  it('applies several knobs at once', async () => {
    await cg.apply(P, { cpuWeight: 50, pidsMax: 10, memoryHigh: 1 << 20, cpuIdle: undefined });
    expect([fake.read(P, 'cpu.weight'), fake.read(P, 'pids.max'), fake.read(P, 'memory.high')]).toEqual(['50', '10', String(1 << 20)]);
  });
});

describe('lifecycle (fake v2 tree)', () => {
  beforeEach(() => setup());

  it('create delegates controllers in each ancestor and makes the directories', async () => {
    fake.write('/kubepods', 'cgroup.subtree_control', '');
    await cg.create('/kubepods/newpod/ctr');
    expect(fake.read('/kubepods', 'cgroup.subtree_control')).toBe('+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc');
    expect(readdirSync(join(fake.cgroupRoot, 'kubepods/newpod'))).toContain('ctr');
    expect(cg.exists('/kubepods/newpod/ctr')).toBe(true);
    expect(cg.children('/kubepods')).toContain('newpod');
  });

  it('lists pids from cgroup.procs, recursively on request', () => {
    fake.addCgroup('/kubepods/p', { 'cgroup.procs': '10\n11\n' });
    fake.addCgroup('/kubepods/p/c', { 'cgroup.procs': '12\n' });
    expect(cg.pids('/kubepods/p')).toEqual([10, 11]);
    expect(cg.pids('/kubepods/p', { recursive: true })).toEqual([10, 11, 12]);
    expect(cg.pids('/kubepods/missing')).toEqual([]);
  });

  it('refuses to remove the root cgroup', async () => {
    expect((await codeOf(cg.remove('/'))).code).toBe(Code.FAILED_PRECONDITION);
  });
});

describe('stats (fake v2 tree)', () => {
  beforeEach(() => setup());

  it('reads cpu, memory (working set), events, pids, io and PSI', () => {
    fake.addCgroup('/kubepods/s', {
      ...SAMPLE_V2_STATS,
      'io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=1 rios=1 wios=1\n',
    });
    const s = cg.readStats('/kubepods/s')!;
    expect(s.partial).toBeUndefined();
    expect(s.mode).toBe('v2');
    expect(s.cpu).toEqual({ usageNs: 1_500_000, userNs: 1_000_000, systemNs: 500_000, periods: 10, throttledPeriods: 3, throttledNs: 700_000, bursts: 1, burstNs: 20_000 });
    expect(s.memory).toMatchObject({
      usageBytes: 10_000_000,
      workingSetBytes: 7_000_000,
      limitBytes: 20_000_000,
      maxUsageBytes: 12_000_000,
      rssBytes: 6_000_000,
      cacheBytes: 4_000_000,
      oomKills: 1,
      events: { low: 0, high: 5, max: 7, oom: 1, oomKill: 1 },
      pgfault: 42,
      pgmajfault: 2,
    });
    expect(s.pids).toEqual({ current: 3, max: 100 });
    expect(s.io).toMatchObject({ readBytes: 4097, writeBytes: 8193, reads: 2, writes: 3 });
    expect(s.psi?.cpu?.some).toEqual({ avg10: 1.5, avg60: 0.5, avg300: 0.1, totalUs: 1234 });
    expect(s.psi?.memory).toBeDefined();
  });

  it('floors the working set at 0 and reads only the requested groups', () => {
    fake.addCgroup('/kubepods/w', { 'memory.current': '100\n', 'memory.stat': 'inactive_file 4096\n' });
    const s = cg.readStats('/kubepods/w', { cpu: false, pids: false, io: false, psi: false })!;
    expect(s.memory?.workingSetBytes).toBe(0);
    expect(s.cpu).toBeUndefined();
    expect(s.pids).toBeUndefined();
    expect(Object.keys(s).sort()).toEqual(['memory', 'mode', 'path', 'timestampMs']);
  });

  it('returns undefined for a missing cgroup and omits files the kernel lacks', () => {
    expect(cg.readStats('/kubepods/none')).toBeUndefined();
    fake.addCgroup('/kubepods/nopsi', {}, ['cpu.pressure', 'memory.pressure', 'io.pressure', 'memory.peak']);
    const s = cg.readStats('/kubepods/nopsi')!;
    expect(s.psi).toBeUndefined();
    expect(s.memory?.maxUsageBytes).toBeUndefined();
    expect(s.partial).toBeUndefined();
  });

  it('returns a partial snapshot, not an exception, when the cgroup vanishes mid-read', () => {
    const dir = fake.addCgroup('/kubepods/v');
    let reads = 0;
    const io = {
      read(path: string): string {
        if (++reads === 3) rmSync(dir, { recursive: true, force: true }); // removed after two files
        return readKernelFile(path);
      },
      exists: existsSync,
    };
    const s = readStats(cg.system, '/kubepods/v', {}, io)!;
    expect(s.partial?.reason).toMatch(/^cgroup removed while reading \(.*: ENOENT\)$/);
    expect(s.cpu).toBeDefined();
    expect(s.pids).toBeUndefined();
    expect(readStats(cg.system, '/kubepods/v', {}, io)).toBeUndefined();
  });

  it('marks a read error as partial instead of throwing', () => {
    const dir = fake.addCgroup('/kubepods/broken', {}, ['memory.stat']);
    mkdirSync(join(dir, 'memory.stat')); // reading a directory fails with EISDIR
    const s = cg.readStats('/kubepods/broken')!;
    expect(s.partial?.reason).toContain('EISDIR');
    expect(s.cpu).toBeDefined();
  });
});

function weightOf(shares: number): number {
  return weightToShares(sharesToWeight(shares)); // read back through the inverse
}
