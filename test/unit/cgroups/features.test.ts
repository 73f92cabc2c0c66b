import { describe, expect, it } from 'vitest';
import { decideFeatures, type HostFacts, type ProbeListing } from '../../../src/cgroups/features.js';
import type { CgroupLayout } from '../../../src/cgroups/types.js';

const host: HostFacts = {
  nodePsi: 'ok',
  nodePsiFile: '/proc/pressure/cpu',
  cgroupPsi: 'ok',
  resctrlKnown: false,
  schedstats: '0',
  schedstatsFile: '/proc/sys/kernel/sched_schedstats',
};

const v1Layout: CgroupLayout = {
  mode: 'v1',
  v1: { cpu: '/cg/cpu', memory: '/cg/memory', blkio: '/cg/blkio' },
  named: {},
  v2Controllers: [],
  v2SubtreeControl: [],
  kernelControllers: [],
};

const v1Listing: ProbeListing = {
  v1: {
    cpu: new Set(['cgroup.procs', 'cpu.shares', 'cpu.cfs_quota_us']),
    memory: new Set(['cgroup.procs', 'memory.limit_in_bytes', 'memory.soft_limit_in_bytes']),
    blkio: new Set(['cgroup.procs', 'blkio.bfq.weight']),
  },
  dirs: {},
  mounts: { cpu: '/cg/cpu', memory: '/cg/memory', blkio: '/cg/blkio' },
};

describe('decideFeatures (v1)', () => {
  const f = decideFeatures(v1Layout, v1Listing, host);
  it('reports present files as available with their per-cgroup file', () => {
    expect(f['cpu.shares']).toEqual({ name: 'cpu.shares', available: true, file: '/cg/cpu/<cgroup>/cpu.shares' });
    expect(f['memory.soft_limit'].available).toBe(true);
    expect(f['blkio.bfq.weight'].available).toBe(true);
  });
  it('explains missing files, unmounted controllers and v2-only features', () => {
    expect(f['cpu.idle']).toMatchObject({ available: false, reason: expect.stringContaining('no cpu.idle in cgroup v1') });
    expect(f['cpu.burst'].reason).toContain('5.14');
    expect(f['memory.swap'].reason).toContain('swapaccount=1');
    expect(f['cpuset'].reason).toBe('cgroup v1 controller cpuset is not mounted');
    expect(f['memory.oom.group'].reason).toContain('only in cgroup v2');
    expect(f['cgroup.kill'].available).toBe(false);
    expect(f['psi.cgroup']).toMatchObject({ available: false, reason: expect.stringContaining('cgroup2') });
  });
  it('decides host features', () => {
    expect(f['psi.node'].available).toBe(true);
    expect(f['resctrl']).toMatchObject({ available: false, reason: expect.stringContaining('no resctrl') });
    expect(f['sched_schedstats']).toMatchObject({ available: true, value: '0', reason: expect.stringContaining('sched_schedstats=1') });
  });
});

describe('decideFeatures (v2)', () => {
  const layout: CgroupLayout = {
    mode: 'v2',
    unified: '/cg',
    v1: {},
    named: {},
    v2Controllers: ['cpu', 'memory', 'io', 'pids'],
    v2SubtreeControl: ['memory', 'pids'],
    kernelControllers: [],
  };
  const listing: ProbeListing = {
    v1: {},
    unified: new Set(['cgroup.procs', 'cgroup.kill', 'cgroup.freeze', 'memory.high', 'memory.low', 'memory.min', 'memory.oom.group', 'cpu.pressure']),
    dirs: { unified: '/cg/probe' },
    mounts: { unified: '/cg' },
  };
  const f = decideFeatures(layout, listing, { ...host, schedstats: undefined, resctrlMount: '/sys/fs/resctrl' });
  it('reports v2 files and names the subtree_control reason for a delegated-away controller', () => {
    expect(f['memory.high']).toEqual({ name: 'memory.high', available: true, file: '/cg/<cgroup>/memory.high' });
    expect(f['cpu.idle']).toMatchObject({ available: false, reason: 'controller cpu is not enabled in /cg/cgroup.subtree_control' });
    expect(f['cpuset']).toMatchObject({ available: false, reason: 'controller cpuset is not available in /cg/cgroup.controllers' });
    expect(f['cpu.shares']).toMatchObject({ available: false, reason: expect.stringContaining('cpu.weight') });
    expect(f['memory.soft_limit'].available).toBe(false);
    expect(f['cgroup.kill'].available).toBe(true);
    expect(f['freezer'].available).toBe(true);
    expect(f['psi.cgroup']).toEqual({ name: 'psi.cgroup', available: true, file: '/cg/<cgroup>/cpu.pressure' });
    expect(f['resctrl']).toEqual({ name: 'resctrl', available: true, file: '/sys/fs/resctrl' });
    expect(f['sched_schedstats'].reason).toContain('CONFIG_SCHEDSTATS');
  });
  it('reports PSI disabled at boot', () => {
    const g = decideFeatures(layout, listing, { ...host, nodePsi: 'EOPNOTSUPP', cgroupPsi: 'EOPNOTSUPP' });
    expect(g['psi.node'].reason).toContain('psi=1');
    expect(g['psi.cgroup'].reason).toContain('psi=1');
  });
});
