/**
 * Real-kernel twins of test/unit/cgroups/fake-v2.test.ts: the same detection, knob, lifecycle
 * and stats cases, on a cgroup-v2-only kernel instead of a fake tree of regular files. Where
 * the fake only stores bytes, the kernel here rounds, normalises, refuses and accounts, and
 * these tests pin what it does. Runs only in the VM of `npm run test:v2` (the host is v1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { testBed, type TestBed } from '../integration/cgroups/support.js';
import { CgroupManager } from '../../src/cgroups/manager.js';
import { CgroupFileError } from '../../src/cgroups/fsio.js';
import { sharesToWeight, weightToShares } from '../../src/cgroups/convert.js';
import { BerthError, Code } from '../../src/util/errors.js';

const ROOT = '/sys/fs/cgroup';
const MiB = 1 << 20;
const ALL = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'];

let bed: TestBed;
let cg: CgroupManager;
beforeAll(() => {
  bed = testBed();
  cg = bed.cg;
  if (cg.mode !== 'v2') throw new Error(`these tests need a cgroup v2 kernel (found ${cg.mode}): run them with npm run test:v2`);
});
afterAll(async () => {
  await bed.cleanup();
});

const file = (path: string, name: string) => readFileSync(join(ROOT, path, name), 'utf8').trim();

async function codeOf(p: Promise<unknown>): Promise<{ code: Code; message: string; err: BerthError }> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BerthError);
    return { code: (e as BerthError).code, message: (e as Error).message, err: e as BerthError };
  }
  throw new Error('expected an error');
}

describe('detection on a real v2 kernel (twin of "detection (fake v2 tree)")', () => {
  it('finds v2 mode, the unified mount, its controllers and the page size', () => {
    const { layout, pageSize } = cg.system;
    expect(layout.mode).toBe('v2');
    expect(layout.unified).toBe(ROOT);
    expect(layout.v1).toEqual({});
    expect(layout.named).toEqual({});
    expect(layout.v2Controllers).toEqual(ALL);
    expect(layout.v2SubtreeControl).toEqual(ALL);
    expect(pageSize).toBe(4096);
  });

  it('reports the features of Debian 12 generic kernel from a probe cgroup', () => {
    for (const f of ['cpu.weight', 'cpu.idle', 'cpu.burst', 'memory.high', 'memory.low', 'memory.min', 'memory.swap', 'memory.oom.group', 'io.weight', 'cgroup.kill', 'freezer', 'cpuset', 'psi.node', 'psi.cgroup'] as const) {
      expect(cg.feature(f), f).toMatchObject({ available: true });
      expect(cg.feature(f).reason, f).toBeUndefined();
    }
    for (const f of ['cpu.shares', 'memory.soft_limit', 'blkio.weight', 'blkio.bfq.weight', 'io.bfq.weight', 'cpu.bvt_warp_ns', 'cgroup.priority', 'memory.wmark_ratio', 'resctrl'] as const) {
      expect(cg.feature(f), f).toMatchObject({ available: false, reason: expect.any(String) });
    }
    expect(cg.feature('cpu.burst').file).toBe(`${ROOT}/<cgroup>/cpu.max.burst`);
    expect(cg.feature('psi.cgroup').file).toBe(`${ROOT}/<cgroup>/cpu.pressure`);
    expect(cg.feature('sched_schedstats')).toMatchObject({ available: true, value: '0' });
    expect(readdirSync(ROOT).filter((n) => n.startsWith('berth-probe'))).toEqual([]);
  });

  it('explains a controller that the probe cgroup\'s parent does not delegate', async () => {
    const parent = `${bed.parent}/nocpu`;
    await cg.create(parent);
    writeFileSync(join(ROOT, parent, 'cgroup.subtree_control'), '+memory +pids');
    mkdirSync(join(ROOT, parent, 'probe'));
    const c = CgroupManager.detect({ probeCgroup: `${parent}/probe` });
    expect(c.feature('cpu.idle')).toMatchObject({
      available: false,
      reason: `controller cpu is not enabled in ${ROOT}${parent}/cgroup.subtree_control (probe cgroup ${ROOT}${parent}/probe)`,
    });
    expect(c.feature('memory.high').available).toBe(true);
  });
});

describe('knobs on a real v2 kernel (twin of "knobs (fake v2 tree)")', () => {
  let P: string;
  beforeAll(async () => {
    P = `${bed.parent}/pod1`;
    await cg.create(P);
  });

  it('writes cpu shares as cpu.weight and reads back through the inverse', async () => {
    expect(await cg.write(P, 'cpuShares', 1024)).toBe(weightToShares(sharesToWeight(1024)));
    expect(file(P, 'cpu.weight')).toBe('39');
    expect(await cg.write(P, 'cpuWeight', 250)).toBe(250);
    expect(file(P, 'cpu.weight')).toBe('250');
  });

  it('writes cpu.max, cpu.max.burst and cpu.idle; the kernel refuses a weight while idle', async () => {
    expect(await cg.write(P, 'cpuMax', { quota: 50000, period: 100000 })).toEqual({ quota: 50000, period: 100000 });
    expect(file(P, 'cpu.max')).toBe('50000 100000');
    expect(await cg.write(P, 'cpuBurst', 20000)).toBe(20000);
    expect(file(P, 'cpu.max.burst')).toBe('20000');
    expect(await cg.write(P, 'cpuMax', { quota: 'max', period: 100000 })).toEqual({ quota: 'max', period: 100000 });
    expect(file(P, 'cpu.max')).toBe('max 100000');
    expect(await cg.write(P, 'cpuIdle', true)).toBe(true);
    expect(file(P, 'cpu.idle')).toBe('1');
    const refused = await codeOf(cg.write(P, 'cpuWeight', 100));
    expect(refused.code).toBe(Code.FAILED_PRECONDITION);
    expect(refused.message).toBe(`write cpu.weight=100 to ${ROOT}${P}/cpu.weight: EINVAL (the kernel rejected the value)`);
    expect(await cg.write(P, 'cpuIdle', false)).toBe(false);
    expect(await cg.write(P, 'cpuBurst', 0)).toBe(0);
  });

  it('writes memory.max/high/low/min/swap.max and oom.group with "max" for unlimited', async () => {
    expect(await cg.write(P, 'memoryMax', 64 * MiB)).toBe(64 * MiB);
    expect(file(P, 'memory.max')).toBe(String(64 * MiB));
    expect(await cg.write(P, 'memoryMax', 'max')).toBe('max');
    expect(file(P, 'memory.max')).toBe('max');
    await cg.write(P, 'memoryHigh', 48 * MiB);
    await cg.write(P, 'memoryLow', 16 * MiB);
    await cg.write(P, 'memoryMin', 8 * MiB);
    await cg.write(P, 'memorySwapMax', 0);
    await cg.write(P, 'memoryOomGroup', true);
    expect([file(P, 'memory.high'), file(P, 'memory.low'), file(P, 'memory.min')]).toEqual([`${48 * MiB}`, `${16 * MiB}`, `${8 * MiB}`]);
    expect(file(P, 'memory.swap.max')).toBe('0');
    expect(file(P, 'memory.oom.group')).toBe('1');
    for (const k of ['memoryHigh', 'memoryLow', 'memoryMin'] as const) await cg.write(P, k, k === 'memoryHigh' ? 'max' : 0);
  });

  it('an unaligned limit is rounded down to pages by the kernel, and the verified write expects exactly that', async () => {
    expect(await cg.write(P, 'memoryMax', 100_000_000)).toBe(99_999_744);
    expect(file(P, 'memory.max')).toBe('99999744');
    await cg.write(P, 'memoryMax', 'max');
  });

  it('cpuset lists are normalised by the kernel itself', async () => {
    const n = cpus().length;
    const reversed = Array.from({ length: n }, (_, i) => String(n - 1 - i)).join(',');
    expect(await cg.write(P, 'cpusetCpus', reversed)).toBe(n > 1 ? `0-${n - 1}` : '0');
    expect(file(P, 'cpuset.cpus')).toBe(n > 1 ? `0-${n - 1}` : '0');
    expect(await cg.write(P, 'cpusetMems', '0')).toBe('0');
    expect(file(P, 'cpuset.mems')).toBe('0');
  });

  it('writes pids.max and blkio weight (as io.weight "default N")', async () => {
    expect(await cg.write(P, 'pidsMax', 100)).toBe(100);
    expect(file(P, 'pids.max')).toBe('100');
    expect(await cg.write(P, 'pidsMax', 'max')).toBe('max');
    expect(await cg.write(P, 'blkioWeight', 500)).toBe(500);
    expect(file(P, 'io.weight')).toBe('default 4950');
    expect(await cg.write(P, 'ioWeight', 300)).toBe(300);
    expect(file(P, 'io.weight')).toBe('default 300');
  });

  it('refuses v1-only knobs, bad values and missing cgroups with actionable errors', async () => {
    expect(cg.supports('memorySoftLimit')).toEqual({ supported: false, reason: expect.stringContaining('memoryLow') });
    expect((await codeOf(cg.write(P, 'memorySoftLimit', MiB))).code).toBe(Code.FAILED_PRECONDITION);
    expect((await codeOf(cg.write(P, 'memoryMemswLimit', MiB))).message).toContain('memorySwapMax');
    expect((await codeOf(cg.write(P, 'cpuShares', 1))).code).toBe(Code.INVALID_ARGUMENT);
    expect((await codeOf(cg.write(P, 'cpuMax', { quota: 10, period: 100000 }))).code).toBe(Code.INVALID_ARGUMENT);
    expect((await codeOf(cg.write(P, 'cpusetCpus', 'x'))).code).toBe(Code.INVALID_ARGUMENT);
    expect((await codeOf(cg.write(`${P}/nope`, 'pidsMax', 5))).code).toBe(Code.NOT_FOUND);
    expect((await codeOf(cg.write(`${P}/../x`, 'pidsMax', 5))).code).toBe(Code.INVALID_ARGUMENT);
    expect(cg.supports('cpuBvtWarpNs')).toMatchObject({ supported: false });
  });

  it('names the file and errno when the parent does not delegate the controller (no pids.max)', async () => {
    const parent = `${bed.parent}/nopids`;
    await cg.create(`${parent}/c`);
    writeFileSync(join(ROOT, parent, 'cgroup.subtree_control'), '-pids');
    const path = join(ROOT, parent, 'c', 'pids.max');
    expect(existsSync(path)).toBe(false);
    const { err } = await codeOf(cg.write(`${parent}/c`, 'pidsMax', 5));
    expect(err).toBeInstanceOf(CgroupFileError);
    expect(err.code).toBe(Code.FAILED_PRECONDITION);
    expect((err as CgroupFileError).errno).toBe('ENOENT');
    expect((err as CgroupFileError).path).toBe(path);
    expect(err.message).toBe(`write pids.max=5 to ${path}: ENOENT (no such file: the cgroup does not exist or this kernel lacks the file)`);
    expect(existsSync(path)).toBe(false); // a write never creates a file
  });

  it('applies several knobs at once', async () => {
    await cg.apply(P, { cpuWeight: 50, pidsMax: 10, memoryHigh: MiB, cpuIdle: undefined });
    expect([file(P, 'cpu.weight'), file(P, 'pids.max'), file(P, 'memory.high')]).toEqual(['50', '10', String(MiB)]);
  });
});

describe('lifecycle on a real v2 kernel (twin of "lifecycle (fake v2 tree)")', () => {
  it('create delegates controllers in each ancestor and makes the directories', async () => {
    const pod = `${bed.parent}/kubepods/newpod`;
    await cg.create(`${pod}/ctr`);
    expect(file(`${bed.parent}/kubepods`, 'cgroup.subtree_control')).toBe(ALL.join(' '));
    expect(file(pod, 'cgroup.subtree_control')).toBe(ALL.join(' '));
    expect(file(`${pod}/ctr`, 'cgroup.controllers')).toBe(ALL.join(' '));
    expect(cg.exists(`${pod}/ctr`)).toBe(true);
    expect(cg.children(`${bed.parent}/kubepods`)).toEqual(['newpod']);
  });

  it('lists pids recursively; a cgroup that delegates controllers cannot hold processes (EBUSY)', async () => {
    const p = `${bed.parent}/kubepods/p`;
    await cg.create(`${p}/a`);
    await cg.create(`${p}/b`);
    const [s1, s2, s3] = [bed.spawn('sleep', ['120']), bed.spawn('sleep', ['120']), bed.spawn('sleep', ['120'])];
    await cg.attach(`${p}/a`, s1.pid!);
    await cg.attach(`${p}/a`, s2.pid!);
    await cg.attach(`${p}/b`, s3.pid!);
    expect(cg.pids(`${p}/a`)).toEqual([s1.pid!, s2.pid!].sort((x, y) => x - y));
    expect(cg.pids(p)).toEqual([]);
    expect(cg.pids(p, { recursive: true })).toEqual([s1.pid!, s2.pid!, s3.pid!].sort((x, y) => x - y));
    expect(cg.pids(`${p}/missing`)).toEqual([]);
    const busy = await codeOf(cg.attach(p, s3.pid!));
    expect((busy.err as CgroupFileError).errno).toBe('EBUSY');
    expect(busy.message).toContain(`${ROOT}${p}/cgroup.procs`);
    await cg.destroy(p);
    expect(cg.exists(p)).toBe(false);
  });

  it('refuses to remove the root cgroup', async () => {
    expect((await codeOf(cg.remove('/'))).code).toBe(Code.FAILED_PRECONDITION);
  });
});

/** The block device the VM gives us (virtio disk), as io.stat names it ("254:0"). */
function scratchDisk(): { dev: string; majMin: string } | undefined {
  const name = existsSync('/sys/block/vda/dev') ? 'vda' : undefined;
  return name ? { dev: `/dev/${name}`, majMin: readFileSync(`/sys/block/${name}/dev`, 'utf8').trim() } : undefined;
}

describe('stats on a real v2 kernel (twin of "stats (fake v2 tree)")', () => {
  it('reads cpu (throttling), memory (working set, events, peak), pids, io and PSI of a real workload', async () => {
    const S = `${bed.parent}/stats`;
    await cg.create(S);
    await cg.apply(S, { cpuMax: { quota: 50_000, period: 100_000 }, memoryMax: 64 * MiB, pidsMax: 100, cpusetCpus: '0' });
    const disk = scratchDisk();
    // Two busy loops on one CPU wait for each other (CPU pressure) and exceed the quota
    // (throttling); 8 MiB in /dev/shm is charged to the cgroup; 64 reads of 4 KiB from the
    // raw disk with O_DIRECT are block I/O the cgroup is billed for.
    const loop = 'i=0; while [ $i -lt 15000 ]; do i=$((i+1)); done';
    const shm = `/dev/shm/berth-v2-stats-${process.pid}`;
    const marker = `/tmp/berth-v2-stats-${process.pid}.done`;
    const script = [
      `(${loop}) & (${loop}) &`,
      `busybox dd if=/dev/zero of=${shm} bs=1M count=8 2>/dev/null`,
      disk ? `busybox dd if=${disk.dev} of=/dev/null bs=4096 count=64 iflag=direct 2>/dev/null` : 'true',
      `wait; : > ${marker}`,
    ].join('\n');
    // stays in the cgroup (holding the /dev/shm charge) until the stats are read
    const p = bed.spawn('busybox', ['sh', '-c', `read go\n${script}\nread done`]);
    let s;
    try {
      await cg.attach(S, p.pid!);
      p.stdin!.write('go\n');
      await until(() => existsSync(marker));
      s = cg.readStats(S)!;
      p.stdin!.write('done\n');
      expect(await bed.exited(p)).toEqual({ code: 0, signal: null });
    } finally {
      rmSync(shm, { force: true });
      rmSync(marker, { force: true });
    }

    expect(s.partial).toBeUndefined();
    expect(s.mode).toBe('v2');
    expect(s.cpu!.usageNs).toBeGreaterThan(0);
    expect(s.cpu!.userNs! + s.cpu!.systemNs!).toBeGreaterThan(0);
    expect(s.cpu!.usageNs % 1000).toBe(0); // usage_usec scaled to ns
    expect(s.cpu!.periods).toBeGreaterThan(0);
    expect(s.cpu!.throttledPeriods).toBeGreaterThan(0);
    expect(s.cpu!.throttledNs).toBeGreaterThan(0);
    expect(s.cpu!.bursts).toBe(0);
    expect(s.memory!.usageBytes).toBeGreaterThanOrEqual(8 * MiB);
    expect(s.memory!.workingSetBytes).toBeLessThanOrEqual(s.memory!.usageBytes);
    expect(s.memory!.limitBytes).toBe(64 * MiB);
    expect(s.memory!.maxUsageBytes).toBeGreaterThanOrEqual(s.memory!.usageBytes);
    expect(s.memory!.stat.shmem).toBeGreaterThanOrEqual(8 * MiB);
    expect(s.memory!.pgfault).toBeGreaterThan(0);
    expect(s.memory!.events).toEqual({ low: 0, high: 0, max: 0, oom: 0, oomKill: 0 });
    expect(s.memory!.oomKills).toBe(0);
    expect(s.pids).toEqual({ current: 1, max: 100 });
    if (disk) {
      const d = s.io!.devices.find((x) => `${x.major}:${x.minor}` === disk.majMin);
      expect(d, `io.stat has ${disk.majMin}`).toBeDefined();
      expect(s.io!.readBytes).toBeGreaterThanOrEqual(64 * 4096);
      expect(s.io!.reads).toBeGreaterThanOrEqual(1);
    }
    // per-cgroup PSI: the two loops were runnable while the other ran on the one CPU
    expect(s.psi!.cpu!.some.totalUs).toBeGreaterThan(0);
    expect(s.psi!.memory).toBeDefined();
    expect(s.psi!.io).toBeDefined();
  });

  it('reads only the requested groups', async () => {
    const W = `${bed.parent}/w`;
    await cg.create(W);
    const s = cg.readStats(W, { cpu: false, pids: false, io: false, psi: false })!;
    expect(s.memory!.workingSetBytes).toBeGreaterThanOrEqual(0);
    expect(Object.keys(s).sort()).toEqual(['memory', 'mode', 'path', 'timestampMs']);
  });

  it('returns undefined for a missing or removed cgroup', async () => {
    expect(cg.readStats(`${bed.parent}/none`)).toBeUndefined();
    const R = `${bed.parent}/gone`;
    await cg.create(R);
    expect(cg.readStats(R)).toBeDefined();
    await cg.remove(R);
    expect(cg.readStats(R)).toBeUndefined();
  });
});

async function until(cond: () => boolean, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
