/**
 * CgroupStatsReader on a FAKE cgroup v2 tree (regular files; see test/helpers/fake-cgroupfs.ts):
 * what it reads and carries, descriptor reuse and release, vanishing and re-created cgroups.
 * The real-kernel twin (v1, hybrid and v2) is test/integration/cgroups/stats-reader.test.ts.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CgroupManager } from '../../../src/cgroups/manager.js';
import { CgroupStatsReader } from '../../../src/cgroups/stats-reader.js';
import { createFakeCgroupfs, SAMPLE_V2_STATS, type FakeCgroupfs } from '../../helpers/fake-cgroupfs.js';
import { setLogLevel } from '../../../src/util/log.js';

setLogLevel('warn');

let fake: FakeCgroupfs;
let cg: CgroupManager;
let r: CgroupStatsReader;

const FILES = { ...SAMPLE_V2_STATS, 'cgroup.threads': '101\n102\n' };

beforeEach(() => {
  fake = createFakeCgroupfs();
  fake.addCgroup('/kubepods');
  cg = CgroupManager.detect({ procRoot: fake.procRoot, probeCgroup: '/kubepods' });
  r = new CgroupStatsReader(cg.system);
});

afterEach(() => {
  r?.close();
  fake?.cleanup();
});

describe('CgroupStatsReader (fake v2 tree)', () => {
  it('reads what readStats reads (but block I/O), memory.stat keys only', () => {
    fake.addCgroup('/kubepods/s', FILES);
    const fast = r.read('/kubepods/s')!;
    const full = cg.readStats('/kubepods/s')!;
    expect(r.psi).toBe(true);
    expect(fast.cpu).toEqual(full.cpu);
    const { stat: fastStat, ...fastMem } = fast.memory!;
    const { stat: fullStat, ...fullMem } = full.memory!;
    expect(fastMem).toEqual(fullMem);
    expect(fastStat).toEqual({ anon: 6000000, file: 4000000, file_mapped: 100, inactive_file: 3000000, active_file: 1000000, pgfault: 42, pgmajfault: 2 });
    for (const [k, v] of Object.entries(fastStat)) expect(fullStat[k]).toBe(v);
    expect(fast.pids).toEqual(full.pids);
    expect(fast.psi).toEqual(full.psi);
    expect(fast.io).toBeUndefined();
    expect(fast.partial).toBeUndefined();
    expect(r.threadIds('/kubepods/s')).toEqual([101, 102]);
  });

  it('carries the slow and warm parts unless asked, and re-reads memory.stat only when memory usage moved', () => {
    fake.addCgroup('/kubepods/c', FILES);
    r.read('/kubepods/c');
    fake.write('/kubepods/c', 'memory.max', '30000000\n');
    fake.write('/kubepods/c', 'pids.current', '4\n');
    fake.write('/kubepods/c', 'memory.events', 'low 0\nhigh 6\nmax 7\noom 1\noom_kill 2\n');
    fake.write('/kubepods/c', 'memory.stat', 'anon 1\nfile 1\ninactive_file 5000000\n');
    fake.write('/kubepods/c', 'cpu.stat', 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n');
    let s = r.read('/kubepods/c', { slow: false, warm: false, memoryStat: false })!;
    expect(s.cpu?.usageNs).toBe(2_500_000); // CPU is read every time
    expect(s.memory?.limitBytes).toBe(20_000_000);
    expect(s.pids?.current).toBe(3);
    expect(s.memory?.oomKills).toBe(1);
    expect(s.memory?.workingSetBytes).toBe(7_000_000); // usage unchanged: memory.stat carried
    fake.write('/kubepods/c', 'memory.current', '11000000\n');
    s = r.read('/kubepods/c', { slow: false, warm: false, memoryStat: false })!;
    expect(s.memory?.workingSetBytes).toBe(6_000_000); // usage moved: memory.stat re-read
    s = r.read('/kubepods/c')!;
    expect(s.memory?.limitBytes).toBe(30_000_000);
    expect(s.pids?.current).toBe(4);
    expect(s.memory?.oomKills).toBe(2);
  });

  it('a full read in the same pass reuses what the probe read; the next pass reads afresh', () => {
    fake.addCgroup('/kubepods/p', FILES);
    expect(r.probe('/kubepods/p')).toEqual({ cpuNs: 1_500_000, memoryBytes: 10_000_000 });
    fake.write('/kubepods/p', 'cpu.stat', 'usage_usec 9000\n');
    expect(r.read('/kubepods/p')!.cpu?.usageNs).toBe(1_500_000);
    r.sweep();
    expect(r.read('/kubepods/p')!.cpu?.usageNs).toBe(9_000_000);
  });

  it('undefined for a missing or removed cgroup (descriptors closed); a re-created one is read afresh', () => {
    expect(r.read('/kubepods/none')).toBeUndefined();
    expect(r.probe('/kubepods/none')).toBeUndefined();
    const dir = fake.addCgroup('/kubepods/gone', FILES);
    expect(r.read('/kubepods/gone')).toBeDefined();
    expect(r.openDescriptors).toBeGreaterThan(0);
    rmSync(dir, { recursive: true });
    // Regular files stay readable through open descriptors (cgroupfs answers ENODEV): forget() is what the sampler calls.
    r.forget('/kubepods/gone');
    expect(r.openDescriptors).toBe(0);
    expect(r.read('/kubepods/gone')).toBeUndefined();
    fake.addCgroup('/kubepods/gone', { ...FILES, 'pids.current': '9\n' });
    expect(r.read('/kubepods/gone')!.pids?.current).toBe(9);
  });

  it('leaves out files this host lacks, without marking the snapshot partial; marks read errors partial', () => {
    fake.addCgroup('/kubepods/nopsi', {}, ['cpu.pressure', 'memory.pressure', 'io.pressure', 'memory.peak']);
    const s = r.read('/kubepods/nopsi')!;
    expect(s.psi).toBeUndefined();
    expect(s.memory?.maxUsageBytes).toBeUndefined();
    expect(s.partial).toBeUndefined();
    const dir = fake.addCgroup('/kubepods/broken', {}, ['memory.stat']);
    mkdirSync(join(dir, 'memory.stat')); // reading a directory fails with EISDIR
    const b = r.read('/kubepods/broken')!;
    expect(b.partial?.reason).toContain('EISDIR');
    expect(b.cpu).toBeDefined();
  });

  it('closes the descriptors of cgroups not read for a dozen passes', () => {
    fake.addCgroup('/kubepods/a', FILES);
    fake.addCgroup('/kubepods/b', FILES);
    r.read('/kubepods/a');
    r.read('/kubepods/b');
    const both = r.openDescriptors;
    for (let i = 0; i < 13; i++) {
      r.probe('/kubepods/a');
      r.sweep();
    }
    expect(r.openDescriptors).toBeGreaterThan(0);
    expect(r.openDescriptors).toBeLessThan(both);
  });

  it('keeps at most maxOpen descriptors and still reads past that', () => {
    const small = new CgroupStatsReader(cg.system, { maxOpen: 2 });
    fake.addCgroup('/kubepods/m', FILES);
    expect(small.read('/kubepods/m')!.memory?.usageBytes).toBe(10_000_000);
    expect(small.openDescriptors).toBeLessThanOrEqual(2);
    expect(small.read('/kubepods/m')!.pids?.current).toBe(3);
    small.close();
    expect(small.openDescriptors).toBe(0);
  });
});
