/**
 * The cgroup v2 code paths of QoS, on a FAKE v2 tree (regular files; test/helpers/fake-cgroupfs.ts)
 * until a v2 kernel is available: the executor writes cpu.max, cpu.idle, cpu.max.burst,
 * memory.high/low/min and io.weight files, restores drift and skips what the host lacks; the
 * engine runs whole steps (BE quota, LS protection, reclaim, eviction order, PSI from cgroup
 * cpu.pressure) against it. File formats and decisions only — not kernel behaviour.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CgroupManager } from '../../../src/cgroups/manager.js';
import type { QosRuntime, RuntimePod } from '../../../src/qos/collect.js';
import { QosEngine } from '../../../src/qos/engine.js';
import { Executor } from '../../../src/qos/executor.js';
import type { NodeReader } from '../../../src/qos/node-stats.js';
import type { DesiredTarget } from '../../../src/qos/types.js';
import { failedPrecondition } from '../../../src/util/errors.js';
import { logger, setLogLevel } from '../../../src/util/log.js';
import { createFakeCgroupfs, type FakeCgroupfs } from '../../helpers/fake-cgroupfs.js';

setLogLevel('silent');
const log = logger('test');
const MiB = 2 ** 20;
let fake: FakeCgroupfs;
let cg: CgroupManager;

beforeEach(() => {
  fake = createFakeCgroupfs();
  fake.addCgroup('/berth');
  cg = CgroupManager.detect({ procRoot: fake.procRoot, probeCgroup: '/berth' });
});
afterEach(() => fake.cleanup());

const desired = (path: string, knobs: DesiredTarget['knobs'], neutral: DesiredTarget['neutral'] = {}): DesiredTarget => ({ path, podId: 'p', id: 'c', kind: 'container', cls: 'BE', knobs, neutral });

describe('executor (fake v2 tree)', () => {
  it('writes v2 files, restores drift, and skips vanished cgroups', async () => {
    fake.addCgroup('/berth/c1');
    const ex = new Executor(cg, log);
    const want = () => desired('/berth/c1', { cpuIdle: true, cpuMax: { quota: 50_000, period: 100_000 }, memoryHigh: 64 * MiB, blkioWeight: 10 }, { cpuBurst: 0, memoryLow: 0 });
    const r = await ex.apply([want(), desired('/berth/gone', { cpuIdle: true })]);
    expect(fake.read('/berth/c1', 'cpu.idle').trim()).toBe('1');
    expect(fake.read('/berth/c1', 'cpu.max').trim()).toBe('50000 100000');
    expect(fake.read('/berth/c1', 'memory.high').trim()).toBe(String(64 * MiB));
    expect(fake.read('/berth/c1', 'io.weight').trim()).toBe('1'); // blkio 10 → io.weight 1
    expect(r.actions.map((a) => a.knob).sort()).toEqual(['blkioWeight', 'cpuIdle', 'cpuMax', 'memoryHigh']);
    expect(r.errors).toEqual([]);

    // Unchanged desired state: no writes. Changed behind our back: restored and counted.
    expect((await ex.apply([want()])).actions).toEqual([]);
    fake.write('/berth/c1', 'cpu.idle', '0\n');
    const again = await ex.apply([want()]);
    expect(again.actions).toMatchObject([{ knob: 'cpuIdle', why: 'drift' }]);
    expect(fake.read('/berth/c1', 'cpu.idle').trim()).toBe('1');
    expect(ex.counters.driftRestored).toBe(1);
  });

  it('puts a knob without a neutral value (a VM sandbox’s quota) back to what it found', async () => {
    fake.addCgroup('/berth/vm', { 'cpu.max': '800000 100000\n' });
    const ex = new Executor(cg, log);
    await ex.apply([desired('/berth/vm', { cpuMax: { quota: 20_000, period: 100_000 }, cpuIdle: true }, { cpuIdle: false })]);
    expect(fake.read('/berth/vm', 'cpu.max').trim()).toBe('20000 100000');
    await ex.apply([desired('/berth/vm', { cpuMax: { quota: 30_000, period: 100_000 }, cpuIdle: true }, { cpuIdle: false })]);
    expect(fake.read('/berth/vm', 'cpu.max').trim()).toBe('30000 100000');
    await ex.apply([desired('/berth/vm', {}, { cpuIdle: false })]);
    expect(fake.read('/berth/vm', 'cpu.max').trim()).toBe('800000 100000');
    expect(fake.read('/berth/vm', 'cpu.idle').trim()).toBe('0');
  });

  it('never writes a knob the host lacks, and keeps kernel refusals as errors instead of throwing', async () => {
    fake.addCgroup('/berth/c2');
    const ex = new Executor(cg, log);
    await ex.apply([desired('/berth/c2', { cgroupPriority: 3, cpuBvtWarpNs: -1, cpuIdle: true })]);
    expect(fake.has('/berth/c2', 'cgroup.priority')).toBe(false);
    expect(ex.unsupported('cgroupPriority')).toMatch(/cgroup\.priority/);

    let writes = 0;
    const refusing = {
      system: { pageSize: 4096 },
      supports: () => ({ supported: true as const, root: '/x', files: [] }),
      exists: () => true,
      read: () => 0,
      write: async () => {
        writes++;
        throw failedPrecondition('write cpu.cfs_burst_us=9 to /x: EINVAL (the kernel rejected the value)');
      },
    } as unknown as ConstructorParameters<typeof Executor>[0];
    const ex2 = new Executor(refusing, log);
    const r = await ex2.apply([desired('/berth/c3', { cpuBurst: 9 })]);
    expect(writes).toBe(2); // tried, then retried once after the other knobs
    expect(r.errors).toMatchObject([{ path: '/berth/c3', knob: 'cpuBurst', count: 1 }]);
    expect(r.errors[0]!.reason).toMatch(/EINVAL/);
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
    sandboxCgroupPath: `/berth/${id}`,
    sandboxOwn: { cpuShares: 2 },
    containers,
    ...extra,
  };
}

describe('engine steps (fake v2 tree)', () => {
  let mem = { totalBytes: 1000 * MiB, availableBytes: 800 * MiB };
  let busy = 0;
  const node: NodeReader = {
    cpuTimes: () => ({ busy: (busy += 100), total: busy + 100 }),
    meminfo: () => mem,
    onlineCpus: () => [0, 1],
  };

  function setMemory(path: string, usage: number, inactiveFile: number) {
    fake.write(path, 'memory.current', `${usage}\n`);
    fake.write(path, 'memory.stat', `anon ${usage - inactiveFile}\nfile ${inactiveFile}\ninactive_file ${inactiveFile}\n`);
  }

  it('sets BE quota, LS protection and burst, squeezes with memory.high, then evicts in order; simulate writes nothing', async () => {
    for (const p of ['/berth/be', '/berth/b1', '/berth/be2', '/berth/b2', '/berth/ls', '/berth/l1']) fake.addCgroup(p);
    setMemory('/berth/b1', 200 * MiB, 50 * MiB);
    setMemory('/berth/b2', 100 * MiB, 0);
    const rt = new FakeRuntime([
      rpod('be', 'BE', [{ id: 'b1', name: 'b1', cgroupPath: '/berth/b1', createdAtNs: '2', own: {} }], { priority: 5 }),
      rpod('be2', 'BE', [{ id: 'b2', name: 'b2', cgroupPath: '/berth/b2', createdAtNs: '3', own: {} }], { priority: 1 }),
      rpod('ls', 'LS', [{ id: 'l1', name: 'l1', cgroupPath: '/berth/l1', createdAtNs: '4', own: { cpuQuota: 40_000, cpuPeriod: 100_000, memoryRequestBytes: 128 * MiB } }]),
    ]);
    const dir = join(fake.root, 'etc');
    mkdirSync(dir);
    writeFileSync(join(dir, 'policy.yaml'), 'cpuSuppressPolicy: cfsQuota\nmemoryProtection: { minPercent: 25 }\n');
    const engine = new QosEngine({ cg, runtime: rt, log, node, procRoot: fake.procRoot, policyFile: join(dir, 'policy.yaml'), loopIntervalMs: 60_000 });
    await engine.step();

    // First step: no CPU rates yet → BE starts at the 0.5-core floor, split between two BE containers.
    expect(fake.read('/berth/b1', 'cpu.max').trim()).toBe('25000 100000');
    expect(fake.read('/berth/b2', 'cpu.max').trim()).toBe('25000 100000');
    expect(fake.read('/berth/b1', 'cpu.idle').trim()).toBe('1');
    expect(fake.read('/berth/be', 'cpu.idle').trim()).toBe('1');
    expect(fake.read('/berth/l1', 'cpu.max.burst').trim()).toBe('40000');
    expect(fake.read('/berth/l1', 'memory.low').trim()).toBe(String(128 * MiB));
    expect(fake.read('/berth/l1', 'memory.min').trim()).toBe(String(32 * MiB));
    expect(fake.read('/berth/b1', 'memory.high').trim()).toBe('max');

    // Simulating another policy changes nothing on disk.
    const sim = (await engine.simulate({ cpuSuppressPolicy: 'cpuset', be: { cpuIdle: false } })) as { pods: Array<{ podId: string; targets: Array<{ id: string; knobs: Record<string, unknown> }> }> };
    expect(sim.pods.find((p) => p.podId === 'be')!.targets.find((t) => t.id === 'b1')!.knobs).toMatchObject({ cpuIdle: false, cpuShares: 2, cpusetCpus: '1' });
    expect(fake.read('/berth/b1', 'cpu.idle').trim()).toBe('1');
    expect(fake.read('/berth/b1', 'cpuset.cpus').trim()).toBe('0-1');

    // Node memory at 90 %: squeeze BE to its working set (+4 MiB) with memory.high …
    mem = { totalBytes: 1000 * MiB, availableBytes: 100 * MiB };
    await engine.step();
    expect(fake.read('/berth/b1', 'memory.high').trim()).toBe(String(154 * MiB));
    expect(fake.read('/berth/b2', 'memory.high').trim()).toBe(String(104 * MiB));
    expect(rt.evicted).toEqual([]);
    // … and if still above a step later, evict: lowest priority first.
    await engine.step();
    await new Promise((r) => setImmediate(r));
    expect(rt.evicted).toEqual(['b2', 'b1']);
    const status = engine.status() as { evictions: Array<{ containerId: string }>; counters: { evictions: number } };
    expect(status.evictions.map((e) => e.containerId)).toEqual(['b2', 'b1']);
    expect(engine.snapshot()).toMatchObject({ memoryPhase: 'evict', counters: { evictions: 2 } });
    // Pressure gone: the squeeze is lifted back to the pod's own value.
    mem = { totalBytes: 1000 * MiB, availableBytes: 800 * MiB };
    rt.list = [rpod('be', 'BE', [{ id: 'b1', name: 'b1', cgroupPath: '/berth/b1', createdAtNs: '2', own: {} }])];
    await engine.step();
    expect(fake.read('/berth/b1', 'memory.high').trim()).toBe('max');
  });

  it('tightens the BE allowance while LS pods stall on CPU (cgroup cpu.pressure)', async () => {
    for (const p of ['/berth/be', '/berth/b1', '/berth/ls', '/berth/l1']) fake.addCgroup(p);
    const rt = new FakeRuntime([
      rpod('be', 'BE', [{ id: 'b1', name: 'b1', cgroupPath: '/berth/b1', createdAtNs: '2', own: {} }]),
      rpod('ls', 'LS', [{ id: 'l1', name: 'l1', cgroupPath: '/berth/l1', createdAtNs: '4', own: {} }]),
    ]);
    const engine = new QosEngine({ cg, runtime: rt, log, node, procRoot: fake.procRoot, loopIntervalMs: 60_000 });
    let usage = 0;
    let stall = 0;
    const tick = async () => {
      // LS busy (usage grows fast) and stalled for most of the interval.
      usage += 5_000_000;
      stall += 5_000_000;
      fake.write('/berth/l1', 'cpu.stat', `usage_usec ${usage}\nuser_usec ${usage}\nsystem_usec 0\n`);
      fake.write('/berth/l1', 'cpu.pressure', `some avg10=0.00 avg60=0.00 avg300=0.00 total=${stall}\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`);
      await new Promise((r) => setTimeout(r, 20));
      await engine.step();
    };
    await tick();
    await tick();
    await tick();
    const s = engine.snapshot();
    expect(s.psiFactor).toBeLessThan(1);
    const be = (engine.status() as { be: { psi: { from: string; action: string } } }).be;
    expect(be.psi).toMatchObject({ from: 'pods', action: 'tighten' });
  });

  it('lets the event loop run between cgroups while a step reads and checks knobs', async () => {
    const pods: RuntimePod[] = [];
    for (let i = 0; i < 6; i++) {
      fake.addCgroup(`/berth/p${i}`);
      fake.addCgroup(`/berth/c${i}`);
      pods.push(rpod(`p${i}`, i % 2 ? 'BE' : 'LS', [{ id: `c${i}`, name: `c${i}`, cgroupPath: `/berth/c${i}`, createdAtNs: String(i + 2), own: {} }]));
    }
    // sliceMs 0: a pause at every point where a step may pause (berthd's default pauses after 0.5 ms of work).
    const engine = new QosEngine({ cg, runtime: new FakeRuntime(pods), log, node, procRoot: fake.procRoot, loopIntervalMs: 60_000, sliceMs: 0 });
    await engine.step(); // writes what the policy wants
    // A step with nothing to write is all synchronous reads; count event-loop turns during it.
    let turns = 0;
    let counting = true;
    const tick = () => {
      if (!counting) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const steps = [engine.step(), engine.step()]; // a second call waits for the first
    await Promise.all(steps);
    counting = false;
    expect(turns).toBeGreaterThanOrEqual(2 * 6);
  });
});

describe('engine restart with saved loop state (fake v2 tree)', () => {
  // Four idle CPUs: the BE allowance regrows every step.
  let total = 0;
  const node: NodeReader = {
    cpuTimes: () => ({ busy: 0, total: (total += 4000) }),
    meminfo: () => ({ totalBytes: 1000 * MiB, availableBytes: 800 * MiB }),
    onlineCpus: () => [0, 1, 2, 3],
  };
  const lse = (id: string, createdAtNs: string) =>
    rpod(id, 'LSE', [{ id: `${id}c`, name: id, cgroupPath: `/berth/${id}c`, createdAtNs, own: { cpuQuota: 100_000, cpuPeriod: 100_000 } }], { createdAtNs });
  const be = rpod('be', 'BE', [{ id: 'b1', name: 'b1', cgroupPath: '/berth/b1', createdAtNs: '9', own: {} }], { createdAtNs: '9' });

  it('keeps exclusive CPUs where they are and BE’s allowance where it was', async () => {
    for (const p of ['/berth/a', '/berth/ac', '/berth/b', '/berth/bc', '/berth/c', '/berth/cc', '/berth/be', '/berth/b1']) fake.addCgroup(p);
    const stateFile = join(fake.root, 'run', 'qos-state.json');
    const rt = new FakeRuntime([lse('a', '2'), lse('b', '3'), be]);
    const first = new QosEngine({ cg, runtime: rt, log, node, procRoot: fake.procRoot, loopIntervalMs: 60_000, stateFile });
    await first.start();
    expect(fake.read('/berth/ac', 'cpuset.cpus').trim()).toBe('3');
    expect(fake.read('/berth/bc', 'cpuset.cpus').trim()).toBe('2');
    // a goes, c comes: the newcomer takes the highest free CPU, b stays on 2.
    rt.list = [lse('b', '3'), lse('c', '4'), be];
    await first.step();
    await first.step();
    expect(fake.read('/berth/bc', 'cpuset.cpus').trim()).toBe('2');
    expect(fake.read('/berth/cc', 'cpuset.cpus').trim()).toBe('3');
    const allowance = first.snapshot().beAllowanceCores!;
    expect(allowance).toBeGreaterThan(0.5); // regrew from the floor
    await first.stop();

    // Restarted with the saved state: nothing moves, BE keeps its allowance.
    const second = new QosEngine({ cg, runtime: rt, log, node, procRoot: fake.procRoot, loopIntervalMs: 60_000, stateFile });
    await second.start();
    await second.stop();
    expect(fake.read('/berth/bc', 'cpuset.cpus').trim()).toBe('2');
    expect(fake.read('/berth/cc', 'cpuset.cpus').trim()).toBe('3');
    expect(second.snapshot().beAllowanceCores).toBe(allowance);
    expect(second.status()).toMatchObject({ restoredState: { file: stateFile } });

    // What the file prevents: started afresh, exclusive CPUs are handed out again in creation
    // order (b takes 3 from under c) and BE drops to the floor.
    const fresh = new QosEngine({ cg, runtime: rt, log, node, procRoot: fake.procRoot, loopIntervalMs: 60_000 });
    await fresh.start();
    await fresh.stop();
    expect(fake.read('/berth/bc', 'cpuset.cpus').trim()).toBe('3');
    expect(fresh.snapshot().beAllowanceCores).toBe(0.5);
  });
});
