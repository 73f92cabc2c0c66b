/**
 * SLI collector overhead and /metrics scrape latency at N containers (default 100), every
 * collector on a 1 s interval:
 *   node --import ./bench/ts-loader.mjs bench/sli/run.ts [containers=100] [seconds=20] [active=containers]
 * Needs root. It makes N real container cgroups (two per pod cgroup), each with a process:
 * `active` of them wake up every 0.5 s (their CPU usage moves every pass, so the sampler reads
 * them in full: the worst case), the others sleep (idle cgroups cost one CPU read a pass). It
 * runs the real stats sampler, node and schedstat collectors and the Prometheus
 * endpoint over them (a fake inventory labels them), then prints:
 *   - CPU the whole process and its main thread used while collecting (no scrapes), as % of
 *     one core, and the collectors' own CPU time (main-thread CPU inside their passes: what
 *     berth_sli_collector_cpu_seconds_total counts) — budget ≤ 1 % of one core;
 *   - /metrics latency over HTTP as curl sees it (p50 / p95 / max), the render CPU per scrape,
 *     size and series — budget ≤ 50 ms.
 * Everything it creates (processes, cgroups) is removed, also on failure or Ctrl-C.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { CgroupManager } from '../../src/cgroups/index.js';
import { DEFAULT_SLI_OPTIONS, SliService } from '../../src/sli/index.js';
import { cpuMark } from '../../src/sli/kernel-files.js';
import { StatsSampler, type Target } from '../../src/sli/sampler.js';
import type { ContainerMeta, PodMeta } from '../../src/sli/inventory.js';
import { logger, setLogLevel } from '../../src/util/log.js';

const N = Number(process.argv[2] ?? 100);
const SECONDS = Number(process.argv[3] ?? 20);
const ROOT = `/berth-bench-sli-${process.pid}`;
const ACTIVE = Number(process.argv[4] ?? N);
const PER_POD = 2;
const WARMUP_MS = 10_000;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const run = promisify(execFile);

interface Fixture {
  pods: { meta: PodMeta; target: Target }[];
  containers: { meta: ContainerMeta; target: Target }[];
  procs: ChildProcess[];
}

async function setup(cg: CgroupManager, f: Fixture): Promise<void> {
  await cg.create(ROOT);
  for (let i = 0; i < N; i++) {
    const podIdx = Math.floor(i / PER_POD);
    const podPath = `${ROOT}/pod${podIdx}`;
    if (i % PER_POD === 0) {
      await cg.create(podPath);
      const meta: PodMeta = { id: `pod${podIdx}`, namespace: 'bench', name: `pod-${podIdx}`, uid: `uid-${podIdx}`, handler: 'runc', labels: {}, annotations: {}, ownCgroup: true, hostNetwork: false };
      // The "pause" process: its own network namespace, like a pod's.
      const pause = spawn('unshare', ['--net', 'sleep', '3600'], { stdio: 'ignore' });
      f.procs.push(pause);
      await cg.attach(podPath, pause.pid!);
      f.pods.push({ meta, target: { id: meta.id, pid: pause.pid!, cgroupPath: podPath } });
    }
    const path = `${podPath}/c${i}`;
    await cg.create(path);
    const p = i < ACTIVE ? spawn('sh', ['-c', 'while :; do sleep 0.5; done'], { stdio: 'ignore' }) : spawn('sleep', ['3600'], { stdio: 'ignore' });
    f.procs.push(p);
    await cg.attach(path, p.pid!);
    f.containers.push({ meta: { id: `c${i}`, podId: `pod${podIdx}`, name: `c${i}`, image: 'bench/busybox:1' }, target: { id: `c${i}`, pid: p.pid!, cgroupPath: path } });
  }
}

async function teardown(cg: CgroupManager, f: Fixture): Promise<void> {
  for (const p of f.procs) p.kill('SIGKILL');
  await sleep(200);
  for (const c of f.containers) await cg.destroy(c.target.cgroupPath!).catch(() => {});
  for (const p of f.pods) await cg.destroy(p.target.cgroupPath!).catch(() => {});
  await cg.destroy(ROOT).catch((err: unknown) => console.error(`could not remove ${ROOT}:`, err));
}

async function main(): Promise<void> {
  setLogLevel('warn');
  const cg = CgroupManager.detect();
  const f: Fixture = { pods: [], containers: [], procs: [] };
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await teardown(cg, f);
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    await setup(cg, f);
    const sampler = new StatsSampler(cg, { containers: () => f.containers.map((c) => c.target), pods: () => f.pods.map((p) => p.target) }, logger('bench'), { intervalMs: 1000, diskIntervalMs: 3_600_000 });
    const options = {
      metrics: { ...DEFAULT_SLI_OPTIONS.metrics, address: '127.0.0.1:0' },
      sli: { ...DEFAULT_SLI_OPTIONS.sli, nodeIntervalSeconds: 1, schedstatIntervalSeconds: 1 },
    };
    const sli = new SliService({ cg, sampler, inventory: { pods: () => f.pods.map((p) => p.meta), containers: () => f.containers.map((c) => c.meta) }, options, log: logger('bench'), nodeInfo: false });
    sampler.start();
    await sli.start();
    // Warm up: descriptor caches, first rates, and V8's optimizing compiler, which works on the
    // collectors' functions (on its own threads) for the first ~10 passes at one pass a second.
    await sleep(WARMUP_MS);

    const busy0 = { s: sampler.busyNs, n: sli.node.busyNs, d: sli.sched.busyNs };
    const cpu0 = process.cpuUsage();
    const main0 = cpuMark();
    const t0 = process.hrtime.bigint();
    await sleep(SECONDS * 1000);
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const mainPct = ((cpuMark() - main0) / 1e9 / wallS) * 100;
    const procPct = ((cpu.user + cpu.system) / 1e6 / wallS) * 100;
    const ms = (ns: bigint) => Number(ns) / 1e6;
    const own = { sampler: ms(sampler.busyNs - busy0.s), node: ms(sli.node.busyNs - busy0.n), schedstat: ms(sli.sched.busyNs - busy0.d) };
    const ownPct = ((own.sampler + own.node + own.schedstat) / 1000 / wallS) * 100;

    const url = `http://${sli.exporterState().address}/metrics`;
    let render0 = sli.scrapeBusyNs;
    // Scraped by curl, a separate process like Prometheus: time_total is connect to last byte.
    const lat: number[] = [];
    for (let i = 0; i < 30; i++) {
      const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{time_total}', url]);
      if (i >= 5) lat.push(Number(stdout) * 1000); // the first few warm up the formatter
      if (i === 4) render0 = sli.scrapeBusyNs;
      await sleep(200);
    }
    const body = await (await fetch(url)).text();
    const series = body.split('\n').filter((l) => l && !l.startsWith('#')).length;

    console.log(`berth SLI collectors: ${N} containers (${ACTIVE} active) in ${f.pods.length} pod cgroups (cgroup ${cg.mode}), every collector at 1 s, ${wallS.toFixed(1)} s measured`);
    console.log(`  process CPU while collecting: ${procPct.toFixed(2)} % of one core (all threads: also V8's compiler and GC threads)`);
    console.log(`  main thread CPU:              ${mainPct.toFixed(2)} % of one core (also the SLI window, timers, GC pauses)`);
    console.log(`  collectors' own CPU:          ${ownPct.toFixed(2)} % of one core  [cgroups ${(own.sampler / wallS).toFixed(2)} ms/s, node ${(own.node / wallS).toFixed(2)} ms/s, schedstat ${(own.schedstat / wallS).toFixed(2)} ms/s]`);
    console.log(`  budget ≤ 1 % of one core: ${ownPct <= 1 ? 'MET' : 'NOT MET'} (collectors' CPU; the process total above also has GC, timers and the SLI window)`);
    console.log(`  /metrics scrape: p50 ${pct(lat, 50).toFixed(1)} ms  p95 ${pct(lat, 95).toFixed(1)} ms  max ${Math.max(...lat).toFixed(1)} ms  (${series} series, ${(body.length / 1024).toFixed(0)} KiB)`);
    console.log(`  /metrics render CPU: ${(Number(sli.scrapeBusyNs - render0) / 1e6 / lat.length).toFixed(1)} ms per scrape (main thread)`);
    console.log(`  budget ≤ 50 ms: ${pct(lat, 50) <= 50 ? 'MET' : 'NOT MET'} (p50)${pct(lat, 95) <= 50 ? ', also at p95' : ', NOT at p95'}`);
    await sli.stop();
    sampler.stop();
  } finally {
    await cleanup();
  }
}

await main();
