import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { testBed, type TestBed } from './support.js';
import { readKernelFile } from '../../../src/cgroups/fsio.js';
import { CgroupManager, type Feature } from '../../../src/cgroups/index.js';

const CGROUP2_SUPER_MAGIC = 0x63677270;
const CGROUP_SUPER_MAGIC = 0x27e0eb;

let bed: TestBed;
beforeAll(() => {
  bed = testBed();
});
afterAll(async () => {
  await bed.cleanup();
});

function fsType(path: string): number | undefined {
  try {
    return statfsSync(path).type;
  } catch {
    return undefined;
  }
}

describe('cgroup detection on this kernel', () => {
  it('finds the mode that statfs(2) sees, as runc decides it', () => {
    const { layout } = bed.cg.system;
    const unifiedAtRoot = fsType('/sys/fs/cgroup') === CGROUP2_SUPER_MAGIC;
    const hybridMount = fsType('/sys/fs/cgroup/unified') === CGROUP2_SUPER_MAGIC;
    const expected = unifiedAtRoot ? 'v2' : hybridMount ? 'hybrid' : 'v1';
    expect(layout.mode).toBe(expected);
    if (layout.mode !== 'v1') expect(fsType(layout.unified!)).toBe(CGROUP2_SUPER_MAGIC);
    for (const [ctrl, mount] of Object.entries(layout.v1)) {
      expect(fsType(mount!), ctrl).toBe(CGROUP_SUPER_MAGIC);
      expect(existsSync(join(mount!, 'cgroup.procs')), ctrl).toBe(true);
    }
    if (layout.mode === 'v2') {
      expect(layout.v2Controllers.join(' ')).toBe(readKernelFile('/sys/fs/cgroup/cgroup.controllers').trim());
    } else {
      // every v1 controller the kernel has enabled and that is mounted shows up in the layout
      for (const c of ['cpu', 'cpuacct', 'memory', 'pids']) {
        if (layout.kernelControllers.includes(c) && existsSync(`/sys/fs/cgroup/${c}`)) expect(layout.v1[c], c).toBeDefined();
      }
    }
  });

  it('reports each cgroup-file feature as available exactly when a fresh child cgroup has the file', async () => {
    const child = `${bed.parent}/detect`;
    await bed.cg.create(child);
    // probe beside the child, so both see the same controller delegation (v2 subtree_control)
    const fresh = CgroupManager.detect({ probeParent: bed.parent });
    expect(fresh.mode).toBe(bed.cg.mode);
    const perCgroup = Object.values(fresh.system.features).filter((f): f is Feature & { file: string } => !!f.file?.includes('/<cgroup>/'));
    expect(perCgroup.length).toBeGreaterThan(10);
    for (const f of perCgroup) {
      const file = f.file.replace('/<cgroup>/', `${child}/`);
      expect(existsSync(file), `${f.name}: ${file} (${f.reason ?? 'available'})`).toBe(f.available);
    }
    for (const f of Object.values(fresh.system.features)) if (!f.available) expect(f.reason, f.name).toBeTruthy();
  });

  it('reports node PSI, resctrl and schedstats as the host has them', () => {
    const { features } = bed.cg.system;
    let psiReadable = true;
    try {
      readKernelFile('/proc/pressure/cpu');
    } catch {
      psiReadable = false;
    }
    expect(features['psi.node'].available).toBe(psiReadable);
    const resctrlMounted = readKernelFile('/proc/self/mountinfo').includes(' - resctrl ');
    expect(features.resctrl.available).toBe(resctrlMounted);
    expect(features.sched_schedstats.available).toBe(existsSync('/proc/sys/kernel/sched_schedstats'));
  });

  it('removes its probe cgroups', () => {
    const mine = `berth-probe-${process.pid}-`;
    const roots = [...Object.values(bed.cg.system.layout.v1), bed.cg.system.layout.unified].filter((r): r is string => !!r);
    for (const r of roots) expect(readdirSync(r).filter((n) => n.startsWith(mine)), r).toEqual([]);
  });
});
