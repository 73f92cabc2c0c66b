/**
 * CgroupStatsReader (the every-second stats reader behind the sampler) on the real kernel, in
 * whatever mode this host has (v1, hybrid or v2: the cases branch on the detected mode, so the
 * cgroup v2 VM runs them too). Cached descriptors must see a removed cgroup as gone (ENODEV),
 * a re-created one afresh, and the numbers must be the ones readStats reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CgroupStatsReader } from '../../../src/cgroups/index.js';
import { testBed, until, type TestBed } from './support.js';

let bed: TestBed;
let reader: CgroupStatsReader;
beforeAll(() => {
  bed = testBed();
  reader = new CgroupStatsReader(bed.cg.system);
});
afterAll(async () => {
  reader?.close();
  await bed.cleanup();
});

const MiB = 1 << 20;

describe('CgroupStatsReader on real cgroups', () => {
  it('reads what readStats reads; the probe sees CPU move; threads are listed', async () => {
    const path = `${bed.parent}/same`;
    await bed.cg.create(path);
    const { p, go } = bed.gated('i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo done; exec sleep 300');
    await bed.cg.attach(path, p.pid!);
    const before = reader.probe(path)!;
    expect(before.cpuNs).toBeGreaterThanOrEqual(0);
    let out = '';
    p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    go();
    await until(() => (reader.probe(path)?.cpuNs ?? 0) > before.cpuNs! && bed.cg.readStats(path)!.pids!.current === 1);
    reader.sweep();

    const fast = reader.read(path)!;
    const full = bed.cg.readStats(path)!;
    expect(fast.partial).toBeUndefined();
    expect(fast.mode).toBe(bed.cg.mode);
    expect(fast.cpu!.usageNs).toBeGreaterThan(before.cpuNs!);
    expect(full.cpu!.usageNs).toBeGreaterThanOrEqual(fast.cpu!.usageNs);
    expect(Object.keys(fast.cpu!).filter((k) => fast.cpu![k as keyof typeof fast.cpu] !== undefined).sort()).toEqual(
      Object.keys(full.cpu!).filter((k) => full.cpu![k as keyof typeof full.cpu] !== undefined).sort(),
    );
    // (Charges made before the attach stay where they were: usage may still be 0 here.)
    expect(fast.memory!.usageBytes).toBeGreaterThanOrEqual(0);
    expect(fast.memory!.workingSetBytes).toBeLessThanOrEqual(fast.memory!.usageBytes);
    expect(fast.memory!.limitBytes).toEqual(full.memory!.limitBytes);
    expect(fast.memory!.oomKills).toEqual(full.memory!.oomKills);
    for (const k of Object.keys(fast.memory!.stat)) expect(full.memory!.stat, k).toHaveProperty(k);
    expect(fast.memory!.inactiveFileBytes).toBeDefined();
    expect(fast.pids).toEqual(full.pids);
    expect(fast.psi === undefined).toBe(full.psi === undefined);
    if (bed.cg.mode === 'v2') expect(fast.psi?.cpu?.some).toBeDefined();
    if (bed.cg.mode === 'v2') expect(fast.memory!.events).toEqual(full.memory!.events);
    else expect(fast.memory!.underOom).toBe(false);
    expect(reader.threadIds(path)).toEqual([p.pid]);
    expect(reader.openDescriptors).toBeGreaterThan(0);
  });

  it('carries a limit until asked for the slow parts', async () => {
    const path = `${bed.parent}/limit`;
    await bed.cg.create(path);
    await bed.cg.write(path, 'memoryMax', 64 * MiB);
    expect(reader.read(path)!.memory!.limitBytes).toBe(64 * MiB);
    await bed.cg.write(path, 'memoryMax', 128 * MiB);
    expect(reader.read(path, { slow: false })!.memory!.limitBytes).toBe(64 * MiB);
    expect(reader.read(path, { slow: true })!.memory!.limitBytes).toBe(128 * MiB);
  });

  it('a cgroup removed under cached descriptors reads as gone; re-created, it is read afresh', async () => {
    const path = `${bed.parent}/doomed`;
    await bed.cg.create(path);
    const sleeper = bed.spawn('sleep', ['300']);
    await bed.cg.attach(path, sleeper.pid!);
    expect(reader.read(path)!.pids?.current).toBe(1);
    expect(reader.threadIds(path)).toEqual([sleeper.pid]);
    const open = reader.openDescriptors;
    await bed.cg.destroy(path);
    // The cached descriptors now answer ENODEV: no stale numbers, and they are closed.
    expect(reader.probe(path)).toBeUndefined();
    expect(reader.openDescriptors).toBeLessThan(open);
    expect(reader.read(path)).toBeUndefined();
    expect(reader.threadIds(path)).toBeUndefined();

    await bed.cg.create(path);
    expect(reader.read(path)!.pids?.current).toBe(0);
    expect(reader.threadIds(path)).toEqual([]);
    const again = bed.spawn('sleep', ['300']);
    await bed.cg.attach(path, again.pid!);
    reader.sweep();
    const s = reader.read(path)!;
    expect(s.partial).toBeUndefined();
    expect(s.pids?.current).toBe(1);
    expect(reader.threadIds(path)).toEqual([again.pid]);
  });
});
