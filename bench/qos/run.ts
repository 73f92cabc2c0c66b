/**
 * The QoS loop's own CPU at N containers (default 100, two per pod, half the pods BE):
 *   node --import ./bench/ts-loader.mjs bench/qos/run.ts [containers=100] [steps=30]
 * Needs root. It makes real pod, sandbox and container cgroups, each with a sleeping process,
 * and runs the real QoS engine (default policy: classes' static knobs, cpuset suppression, PSI,
 * memory) over them through a fake runtime, one step a second as berthd does. Prints the main
 * thread's CPU per step (what a step costs berthd, pauses excluded), per container, and as a
 * share of one core at the default 1 s loop. The first steps write every knob; the ones measured
 * come after, when a step reads usage, checks knobs for drift and writes only what changed.
 * Everything it creates is removed, also on failure or Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CgroupManager } from '../../src/cgroups/index.js';
import type { QosRuntime, RuntimePod } from '../../src/qos/collect.js';
import { QosEngine } from '../../src/qos/engine.js';
import { cpuMark } from '../../src/sli/kernel-files.js';
import { logger, setLogLevel } from '../../src/util/log.js';

const N = Number(process.argv[2] ?? 100);
const STEPS = Number(process.argv[3] ?? 30);
const WARMUP = 10;
const PER_POD = 2;
const ROOT = `/berth-bench-qos-${process.pid}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function main(): Promise<void> {
  setLogLevel('warn');
  const cg = CgroupManager.detect();
  const procs: ChildProcess[] = [];
  const pods: RuntimePod[] = [];
  const paths: string[] = [];
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    for (const p of procs) p.kill('SIGKILL');
    await sleep(200);
    for (const p of [...paths].reverse()) await cg.destroy(p).catch(() => {});
    await cg.destroy(ROOT).catch((err: unknown) => console.error(`could not remove ${ROOT}:`, err));
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    await cg.create(ROOT);
    for (let i = 0; i < N / PER_POD; i++) {
      // As the kubelet lays pods out: a pod cgroup holding the sandbox's (pause) and each container's.
      const podPath = `${ROOT}/pod${i}`;
      await cg.create(podPath);
      paths.push(podPath);
      const sandboxPath = `${podPath}/sandbox`;
      await cg.create(sandboxPath);
      paths.push(sandboxPath);
      const pause = spawn('sleep', ['3600'], { stdio: 'ignore' });
      procs.push(pause);
      await cg.attach(sandboxPath, pause.pid!);
      const pod: RuntimePod = {
        id: `pod${i}`,
        name: `pod-${i}`,
        namespace: 'bench',
        annotations: { 'berth.dev/qos-class': i % 2 ? 'BE' : 'LS' },
        labels: {},
        cgroupParent: ROOT,
        handler: 'runc',
        qosScope: 'container',
        priority: 0,
        createdAtNs: String(i + 1),
        sandboxCgroupPath: sandboxPath,
        sandboxOwn: { cpuShares: 2 },
        containers: [],
      };
      for (let j = 0; j < PER_POD; j++) {
        const path = `${podPath}/c${j}`;
        await cg.create(path);
        paths.push(path);
        const p = spawn('sleep', ['3600'], { stdio: 'ignore' });
        procs.push(p);
        await cg.attach(path, p.pid!);
        pod.containers.push({ id: `pod${i}-c${j}`, name: `c${j}`, cgroupPath: path, createdAtNs: String(i + 1), own: { cpuShares: 512, cpuQuota: 50_000, cpuPeriod: 100_000, memoryLimitBytes: 256 * 2 ** 20 } });
      }
      pods.push(pod);
    }
    const runtime: QosRuntime = { pods: () => pods, evict: async () => {} };
    const engine = new QosEngine({ cg, runtime, log: logger('bench'), loopIntervalMs: 60_000 });
    const cpu: number[] = [];
    const wall: number[] = [];
    for (let s = 0; s < WARMUP + STEPS; s++) {
      const c0 = cpuMark();
      const t0 = performance.now();
      await engine.step();
      if (s >= WARMUP) {
        cpu.push((cpuMark() - c0) / 1e6);
        wall.push(performance.now() - t0);
      }
      await sleep(1000);
    }
    const mean = cpu.reduce((a, b) => a + b, 0) / cpu.length;
    const st = engine.status() as { counters: { knobWrites: number; stepErrors: number } };
    console.log(`berth QoS loop: ${N} containers in ${pods.length} pods (half BE), cgroup ${cg.mode}, ${STEPS} steps measured after ${WARMUP}`);
    console.log(`  main-thread CPU per step: mean ${mean.toFixed(2)} ms  p50 ${pct(cpu, 50).toFixed(2)}  p95 ${pct(cpu, 95).toFixed(2)}  (${((mean / N) * 1000).toFixed(0)} µs per container)`);
    console.log(`  at one step a second:     ${(mean / 10).toFixed(2)} % of one core`);
    console.log(`  step wall time:           p50 ${pct(wall, 50).toFixed(1)} ms  p95 ${pct(wall, 95).toFixed(1)} ms (pauses for the event loop included)`);
    console.log(`  knob writes in all: ${st.counters.knobWrites}, step errors: ${st.counters.stepErrors}`);
    await engine.stop();
  } finally {
    await cleanup();
  }
}

await main();
