/**
 * Real-kernel twin of test/unit/qos/v2-fake-tree.test.ts: the QoS executor and engine steps
 * on a cgroup-v2-only kernel. The executor writes cpu.idle, cpu.max (BE suppression),
 * cpu.max.burst, memory.high/low/min and io.weight; the kernel reads them back, refuses what it
 * refuses (burst above the quota), and accounts real processes (working sets for the memory
 * squeeze, cpu.pressure for the PSI feedback). The node readings (total CPU, meminfo) and the
 * pod list are injected, as in the fake-tree test; every cgroup file is real.
 * Runs only in the VM of `npm run test:v2`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { testBed, type TestBed } from '../integration/cgroups/support.js';
import type { CgroupManager } from '../../src/cgroups/manager.js';
import type { QosRuntime, RuntimePod } from '../../src/qos/collect.js';
import { QosEngine } from '../../src/qos/engine.js';
import { Executor } from '../../src/qos/executor.js';
import type { NodeReader } from '../../src/qos/node-stats.js';
import type { DesiredTarget } from '../../src/qos/types.js';
import { logger, setLogLevel } from '../../src/util/log.js';

setLogLevel('silent');
const log = logger('test');
const MiB = 2 ** 20;
const ROOT = '/sys/fs/cgroup';

let bed: TestBed;
let cg: CgroupManager;
let B: string; // plays /berth of the fake tree
beforeAll(async () => {
  bed = testBed();
  cg = bed.cg;
  if (cg.mode !== 'v2') throw new Error(`these tests need a cgroup v2 kernel (found ${cg.mode}): run them with npm run test:v2`);
  B = `${bed.parent}/berth`;
  await cg.create(B);
});
afterAll(async () => {
  await bed.cleanup();
});

const file = (path: string, name: string) => readFileSync(join(ROOT, path, name), 'utf8').trim();
const desired = (path: string, knobs: DesiredTarget['knobs'], neutral: DesiredTarget['neutral'] = {}): DesiredTarget => ({ path, podId: 'p', id: 'c', kind: 'container', cls: 'BE', knobs, neutral });

describe('executor on a real v2 kernel (twin of "executor (fake v2 tree)")', () => {
  it('writes v2 files, restores drift, and skips vanished cgroups', async () => {
    const c1 = `${B}/c1`;
    await cg.create(c1);
    const ex = new Executor(cg, log);
    const r = await ex.apply([
      desired(c1, { cpuIdle: true, cpuMax: { quota: 50_000, period: 100_000 }, memoryHigh: 64 * MiB, blkioWeight: 10 }, { cpuBurst: 0, memoryLow: 0 }),
      desired(`${B}/gone`, { cpuIdle: true }),
    ]);
    expect(file(c1, 'cpu.idle')).toBe('1');
    expect(file(c1, 'cpu.max')).toBe('50000 100000');
    expect(file(c1, 'memory.high')).toBe(String(64 * MiB));
    expect(file(c1, 'io.weight')).toBe('default 1'); // blkio 10 → io.weight 1
    expect(r.actions.map((a) => a.knob).sort()).toEqual(['blkioWeight', 'cpuIdle', 'cpuMax', 'memoryHigh']);
    expect(r.errors).toEqual([]);

    // Unchanged desired state: no writes. Changed behind our back: restored and counted.
    // (The same knobs each time: a knob left out leaves management and goes back to its baseline.)
    const same = () => [desired(c1, { cpuIdle: true, cpuMax: { quota: 50_000, period: 100_000 }, memoryHigh: 64 * MiB, blkioWeight: 10 }, { cpuBurst: 0, memoryLow: 0 })];
    expect((await ex.apply(same())).actions).toEqual([]);
    writeFileSync(join(ROOT, c1, 'cpu.idle'), '0');
    const again = await ex.apply(same());
    expect(again.actions).toMatchObject([{ knob: 'cpuIdle', why: 'drift' }]);
    expect(file(c1, 'cpu.idle')).toBe('1');
    expect(ex.counters.driftRestored).toBe(1);
  });

  it('never writes a knob the host lacks, and keeps the kernel\'s refusals as errors instead of throwing', async () => {
    const c2 = `${B}/c2`;
    await cg.create(c2);
    const ex = new Executor(cg, log);
    await ex.apply([desired(c2, { cgroupPriority: 3, cpuBvtWarpNs: -1, cpuIdle: true })]);
    expect(() => readFileSync(join(ROOT, c2, 'cgroup.priority'))).toThrow(/ENOENT/);
    expect(ex.unsupported('cgroupPriority')).toMatch(/cgroup\.priority/);
    expect(file(c2, 'cpu.idle')).toBe('1');

    // A burst above the quota: the kernel answers EINVAL; tried, retried once, then kept.
    const r = await ex.apply([desired(c2, { cpuMax: { quota: 10_000, period: 100_000 }, cpuBurst: 50_000 })]);
    expect(file(c2, 'cpu.max')).toBe('10000 100000');
    expect(file(c2, 'cpu.max.burst')).toBe('0');
    expect(r.errors).toMatchObject([{ path: c2, knob: 'cpuBurst', count: 1 }]);
    expect(r.errors[0]!.reason).toBe(`write cpu.max.burst=50000 to ${ROOT}${c2}/cpu.max.burst: EINVAL (the kernel rejected the value)`);
  });
});

class FakeRuntime implements QosRuntime {
  evicted: string[] = [];
  constructor(public list: RuntimePod[]) {}
  pods() {
    return this.list;
  }
  async evict(id: string) {
    this.evicted.push(id);
    this.list = this.list.map((p) => ({ ...p, containers: p.containers.filter((c) => c.id !== id) }));
  }
}

function rpod(id: string, cls: string, containers: RuntimePod['containers'], extra: Partial<RuntimePod> = {}): RuntimePod {
  return {
    id,
    name: id,
    namespace: 'ns',
    annotations: { 'berth.dev/qos-class': cls },
    labels: {},
    cgroupParent: '',
    handler: 'runc',
    qosScope: 'container',
    priority: 0,
    createdAtNs: '1',
    sandboxCgroupPath: `${B}/${id}`,
    sandboxOwn: { cpuShares: 2 },
    containers,
    ...extra,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A shell in `path` that writes `mib` MiB to /dev/shm (charged to the cgroup) and waits. */
async function holder(path: string, mib: number): Promise<() => void> {
  const shm = `/dev/shm/berth-v2-qos-${process.pid}-${path.split('/').pop()}`;
  const p = bed.spawn('busybox', ['sh', '-c', `read go\nbusybox dd if=/dev/zero of=${shm} bs=1M count=${mib} 2>/dev/null\nread done`]);
  await cg.attach(path, p.pid!);
  p.stdin!.write('go\n');
  const want = mib * MiB;
  for (let i = 0; i < 3000 && (cg.readStats(path, { memory: true, cpu: false, pids: false, io: false, psi: false })?.memory?.usageBytes ?? 0) < want; i++) await sleep(20);
  return () => {
    p.stdin!.write('done\n');
    rmSync(shm, { force: true });
  };
}

describe('engine steps on a real v2 kernel (twin of "engine steps (fake v2 tree)")', () => {
  let mem = { totalBytes: 1000 * MiB, availableBytes: 800 * MiB };
  let busy = 0;
  const node: NodeReader = {
    cpuTimes: () => ({ busy: (busy += 100), total: busy + 100 }),
    meminfo: () => mem,
    onlineCpus: () => [0, 1],
  };

  it('sets BE quota, LS protection and burst, squeezes with memory.high, then evicts in order', async () => {
    const [be, b1, be2, b2, ls, l1] = ['be', 'b1', 'be2', 'b2', 'ls', 'l1'].map((n) => `${B}/${n}`) as [string, string, string, string, string, string];
    for (const p of [be, b1, be2, b2, ls, l1]) await cg.create(p);
    // what runc set for the LS container from its CRI limits: the burst must fit under it
    await cg.write(l1, 'cpuMax', { quota: 40_000, period: 100_000 });
    const release1 = await holder(b1, 24);
    const release2 = await holder(b2, 12);
    try {
      const rt = new FakeRuntime([
        rpod('be', 'BE', [{ id: 'b1', name: 'b1', cgroupPath: b1, createdAtNs: '2', own: {} }], { priority: 5 }),
        rpod('be2', 'BE', [{ id: 'b2', name: 'b2', cgroupPath: b2, createdAtNs: '3', own: {} }], { priority: 1 }),
        rpod('ls', 'LS', [{ id: 'l1', name: 'l1', cgroupPath: l1, createdAtNs: '4', own: { cpuQuota: 40_000, cpuPeriod: 100_000, memoryRequestBytes: 128 * MiB } }]),
      ]);
      const policyFile = `/tmp/berth-v2-qos-policy-${process.pid}.yaml`;
      writeFileSync(policyFile, 'cpuSuppressPolicy: cfsQuota\nmemoryProtection: { minPercent: 25 }\n');
      const engine = new QosEngine({ cg, runtime: rt, log, node, procRoot: '/proc', policyFile, loopIntervalMs: 60_000 });
      try {
        await engine.step();
        // First step: no CPU rates yet → BE starts at the 0.5-core floor, split between two BE containers.
        expect(file(b1, 'cpu.max')).toBe('25000 100000');
        expect(file(b2, 'cpu.max')).toBe('25000 100000');
        expect(file(b1, 'cpu.idle')).toBe('1');
        expect(file(be, 'cpu.idle')).toBe('1');
        expect(file(l1, 'cpu.max.burst')).toBe('40000');
        expect(file(l1, 'memory.low')).toBe(String(128 * MiB));
        expect(file(l1, 'memory.min')).toBe(String(32 * MiB));
        expect(file(b1, 'memory.high')).toBe('max');
        // the kernel took every write: nothing refused (e.g. a weight while cpu.idle is set)
        expect((engine.status() as { knobErrors: unknown[] }).knobErrors).toEqual([]);

        // Node memory at 90 %: squeeze BE to its working set (+4 MiB) with memory.high …
        mem = { totalBytes: 1000 * MiB, availableBytes: 100 * MiB };
        await engine.step();
        const high1 = Number(file(b1, 'memory.high'));
        const high2 = Number(file(b2, 'memory.high'));
        expect(high1).toBeGreaterThanOrEqual(28 * MiB); // 24 MiB in /dev/shm + 4 MiB
        expect(high1).toBeLessThan(40 * MiB);
        expect(high2).toBeGreaterThanOrEqual(16 * MiB);
        expect(high2).toBeLessThan(high1);
        expect(high1 % 4096).toBe(0);
        expect(rt.evicted).toEqual([]);
        // … and if still above a step later, evict: lowest priority first.
        await engine.step();
        await new Promise((r) => setImmediate(r));
        expect(rt.evicted).toEqual(['b2', 'b1']);
        expect(engine.snapshot()).toMatchObject({ memoryPhase: 'evict', counters: { evictions: 2 } });
        // Pressure gone: the squeeze is lifted back to the pod's own value.
        mem = { totalBytes: 1000 * MiB, availableBytes: 800 * MiB };
        rt.list = [rpod('be', 'BE', [{ id: 'b1', name: 'b1', cgroupPath: b1, createdAtNs: '2', own: {} }])];
        await engine.step();
        expect(file(b1, 'memory.high')).toBe('max');
      } finally {
        rmSync(policyFile, { force: true });
      }
    } finally {
      release1();
      release2();
    }
  });

  it('tightens the BE allowance while LS pods stall on CPU (real cgroup cpu.pressure)', async () => {
    const [be, b1, ls, l1] = ['be-psi', 'b1-psi', 'ls-psi', 'l1-psi'].map((n) => `${B}/${n}`) as [string, string, string, string];
    for (const p of [be, b1, ls, l1]) await cg.create(p);
    // One busy loop more than the VM has CPUs, in the LS container: one always waits for a CPU.
    // (Not two pinned to one CPU by cpuset: the engine resets an LS container's cpuset to all CPUs.)
    const spin = Array.from({ length: cpus().length + 1 }, () => '(while :; do :; done) &').join(' ');
    const loops = bed.spawn('busybox', ['sh', '-c', `read go\n${spin} wait`]);
    await cg.attach(l1, loops.pid!);
    loops.stdin!.write('go\n');
    try {
      const rt = new FakeRuntime([
        rpod('be-psi', 'BE', [{ id: 'b1', name: 'b1', cgroupPath: b1, createdAtNs: '2', own: {} }]),
        rpod('ls-psi', 'LS', [{ id: 'l1', name: 'l1', cgroupPath: l1, createdAtNs: '4', own: {} }]),
      ]);
      const engine = new QosEngine({ cg, runtime: rt, log, node, procRoot: '/proc', loopIntervalMs: 60_000 });
      for (let i = 0; i < 3; i++) {
        await sleep(1000);
        await engine.step();
      }
      expect(cg.readStats(l1)!.psi!.cpu!.some.totalUs).toBeGreaterThan(0);
      expect(engine.snapshot().psiFactor).toBeLessThan(1);
      const status = engine.status() as { be: { psi: { from: string; action: string } } };
      expect(status.be.psi).toMatchObject({ from: 'pods', action: 'tighten' });
    } finally {
      await cg.kill(l1);
    }
  });
});
