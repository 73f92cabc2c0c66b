import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { testBed, until, type TestBed } from './support.js';

let bed: TestBed;
beforeAll(() => {
  bed = testBed();
});
afterAll(async () => {
  await bed.cleanup();
});

const MiB = 1 << 20;

/** Gone, or a zombie waiting for init to reap it. */
function dead(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return true;
  }
}

describe('processes in a real cgroup', () => {
  it('attaches a sleep, lists it, reads its stats, freezes, kills and removes the cgroup', async () => {
    const path = `${bed.parent}/sleeper`;
    await bed.cg.create(path);
    const sleeper = bed.spawn('sleep', ['120']);
    await bed.cg.attach(path, sleeper.pid!);
    expect(bed.cg.pids(path)).toEqual([sleeper.pid]);
    expect(bed.cg.pids(bed.parent, { recursive: true })).toContain(sleeper.pid);
    expect(bed.cg.pids(bed.parent)).not.toContain(sleeper.pid);

    const s = bed.cg.readStats(path)!;
    expect(s.partial).toBeUndefined();
    expect(s.pids?.current).toBe(1);
    expect(s.memory?.usageBytes).toBeGreaterThanOrEqual(0);
    expect(s.memory?.workingSetBytes).toBeLessThanOrEqual(s.memory!.usageBytes);
    expect(s.cpu?.usageNs).toBeGreaterThanOrEqual(0);
    if (bed.cg.feature('psi.cgroup').available) expect(s.psi?.cpu?.some).toBeDefined();

    if (bed.cg.feature('freezer').available) {
      expect(await bed.cg.freeze(path)).toBe(true);
      expect(await bed.cg.thaw(path)).toBe(true);
    }

    await bed.cg.kill(path);
    expect(await bed.exited(sleeper)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(bed.cg.pids(path)).toEqual([]);
    await bed.cg.remove(path);
    for (const d of bed.dirsOf(path)) expect(existsSync(d), d).toBe(false);
    expect(bed.cg.readStats(path)).toBeUndefined();
  });

  it('accounts CPU time of a busy loop and throttles it under a quota', async () => {
    const path = `${bed.parent}/busy`;
    await bed.cg.create(path);
    await bed.cg.write(path, 'cpuMax', { quota: 20_000, period: 100_000 });
    const { p, go } = bed.gated('i=0; while [ $i -lt 60000 ]; do i=$((i+1)); done');
    await bed.cg.attach(path, p.pid!);
    const before = bed.cg.readStats(path, { perCpu: true })!.cpu!;
    go();
    expect(await bed.exited(p)).toEqual({ code: 0, signal: null });
    const after = bed.cg.readStats(path, { perCpu: true })!.cpu!;
    expect(after.usageNs).toBeGreaterThan(before.usageNs);
    expect(after.periods!).toBeGreaterThan(0);
    expect(after.throttledPeriods!).toBeGreaterThan(0);
    expect(after.throttledNs!).toBeGreaterThan(0);
    if (bed.cg.mode !== 'v2') {
      expect(after.perCpuNs?.length).toBeGreaterThan(0);
      expect(after.perCpuNs!.reduce((a, b) => a + b, 0)).toBe(after.usageNs);
    }
  });

  it('records an OOM kill of a process that allocates past its memory limit', async () => {
    const path = `${bed.parent}/oom`;
    await bed.cg.create(path);
    await bed.cg.write(path, 'memoryMax', 16 * MiB);
    // memory+swap above the memory limit, so the memory counter (and its failcnt) trips first
    if (bed.cg.supports('memoryMemswLimit').supported) await bed.cg.write(path, 'memoryMemswLimit', 32 * MiB);
    if (bed.cg.supports('memorySwapMax').supported) await bed.cg.write(path, 'memorySwapMax', 0);
    // dd fills a 64 MiB buffer from /dev/zero: four times the limit
    const { p, go } = bed.gated('exec busybox dd if=/dev/zero of=/dev/null bs=64M count=1');
    await bed.cg.attach(path, p.pid!);
    go();
    expect(await bed.exited(p)).toEqual({ code: null, signal: 'SIGKILL' });
    const m = bed.cg.readStats(path)!.memory!;
    expect(m.oomKills).toBeGreaterThanOrEqual(1);
    expect(m.limitBytes).toBe(16 * MiB);
    if (bed.cg.mode === 'v2') {
      expect(m.events!.oomKill).toBeGreaterThanOrEqual(1);
      expect(m.events!.max).toBeGreaterThan(0);
    } else {
      expect(m.failcnt!).toBeGreaterThan(0);
      expect(m.underOom).toBe(false);
      expect(m.maxUsageBytes!).toBeGreaterThan(15 * MiB);
    }
  });

  it('destroy() kills a process tree spread over nested cgroups and removes them all', async () => {
    const pod = `${bed.parent}/pod`;
    await bed.cg.create(`${pod}/a`);
    await bed.cg.create(`${pod}/b`);
    const a = bed.gated('sleep 120 & sleep 120 & wait');
    const b = bed.spawn('sleep', ['120']);
    await bed.cg.attach(`${pod}/a`, a.p.pid!);
    await bed.cg.attach(`${pod}/b`, b.pid!);
    a.go();
    await until(() => bed.cg.pids(pod, { recursive: true }).length === 4);
    const all = bed.cg.pids(pod, { recursive: true });
    await bed.cg.destroy(pod);
    expect((await bed.exited(a.p)).signal).toBe('SIGKILL');
    expect((await bed.exited(b)).signal).toBe('SIGKILL');
    for (const pid of all) expect(dead(pid), `pid ${pid}`).toBe(true);
    for (const d of bed.dirsOf(pod)) expect(existsSync(d), d).toBe(false);
  });

  it('destroy() also kills processes in a descendant that was frozen on its own', async () => {
    const pod = `${bed.parent}/frozenpod`;
    await bed.cg.create(`${pod}/ctr`);
    const { p, go } = bed.gated('sleep 120 & wait');
    await bed.cg.attach(`${pod}/ctr`, p.pid!);
    go(); // the background sleep is forked inside the cgroup
    await until(() => bed.cg.pids(`${pod}/ctr`).length === 2);
    if (bed.cg.feature('freezer').available) expect(await bed.cg.freeze(`${pod}/ctr`)).toBe(true);
    const inside = bed.cg.pids(`${pod}/ctr`);
    expect(inside).toHaveLength(2);
    await bed.cg.destroy(pod);
    expect((await bed.exited(p)).signal).toBe('SIGKILL');
    for (const pid of inside) expect(dead(pid), `pid ${pid}`).toBe(true);
    for (const d of bed.dirsOf(pod)) expect(existsSync(d), d).toBe(false);
  });

  it('removing a cgroup that still has a process fails with EBUSY and names the pid', async () => {
    const path = `${bed.parent}/busyrm`;
    await bed.cg.create(path);
    const s = bed.spawn('sleep', ['120']);
    await bed.cg.attach(path, s.pid!);
    await expect(bed.cg.remove(path, { timeoutMs: 50 })).rejects.toThrow(new RegExp(`EBUSY.*processes still in it: ${s.pid}`));
    await bed.cg.destroy(path);
    expect(bed.cg.exists(path)).toBe(false);
  });
});
