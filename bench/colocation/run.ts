/**
 * Co-location benchmark: does berth's QoS keep a latency-sensitive pod's tail latency while a
 * best-effort pod burns every core, and does BE still get the CPU LS leaves idle?
 *   node --import ./bench/ts-loader.mjs bench/colocation/run.ts [seconds-per-phase=10] [rate=100] [rounds=6] [phases]
 * (needs `npm run build` first: it starts the built berthd). One LS pod, measured from a client on
 * 127.0.0.1 through host ports at a fixed rate (open loop), in two windows per phase:
 *   http   busybox httpd serving a small CGI per request (fork, exec, a shell loop): LS busy
 *   wake   a wake-up probe: a process blocked in read() on a TCP connection echoes a byte back,
 *          at twice the rate for half the time (as many samples); the client runs in its own
 *          thread. LS otherwise idle: what BE adds to the time until LS runs. Measured first,
 *          then the HTTP window after a lead-in, so each sees the allowance its load settles at.
 * Phases, in one berthd, interleaved over several rounds (so background load drifting over
 * minutes hits every phase alike; samples are pooled):
 *   alone        LS only
 *   alone again  LS only, measured again in its turn among the others: the ratio's own noise
 *                (an A/A comparison; how far "p99/alone" moves when nothing changed)
 *   qos off      + a BE pod running two busy loops (cpu.shares 2, as the kubelet gives BestEffort), policy enabled: false
 *   qos on       the default policy (cpu.idle, cpuset suppression at 65 %: BE on the whole CPUs its
 *                allowance covers, PSI feedback); the BE pod sits under berth's top-level idle BE
 *                parent (qos.beCgroupParent)
 *   qos on, 70 %, qos on, 80 %   the default policy at a 70 % or 80 % suppression threshold: how
 *                much BE share a higher threshold buys, and what it costs LS
 *   qos on, BE under /berth   the same, but the BE pod was given cgroup_parent /berth, beside LS
 *                (what the top-level parent adds: cpu.idle only orders siblings)
 *   qos on, no psi   the default policy with psiFeedback.enabled: false (what PSI feedback adds)
 *   qos on, cfsQuota   cpuSuppressPolicy: cfsQuota (BE throttled by CFS quotas on every CPU)
 *   idle only    cpu.idle without suppression to speak of (cfsQuota at threshold 100 %, no PSI feedback)
 *   no cpu.idle  the default policy with be.cpuIdle: false (BE at cpu.shares 2, as on kernels
 *                without cpu.idle), with and without PSI feedback
 * `phases` is "default" (alone, alone again, qos off, qos on, qos on 80 %), "all", or names
 * separated by ";" ("alone" is always measured). A p99 rests on the slowest 1 % of the
 * samples, so the defaults pool 6 000 requests and 6 000 probes per phase (~12 min): with 1 600,
 * two phases with the same settings differed by up to 1.3× in one run, and single 1 000-request
 * rounds of one run ranged 0.84–1.93× alone. berth's allowance and PSI factor are read right after each
 * window, never during it (the client's own work would show in the latencies it times).
 * Two BE pods (top-level and under /berth) are made once per round; the one a phase does not use
 * is frozen. Prints, per workload, p50/p95/p99/p99.9 per phase, p99 as a ratio to "alone", and the
 * CPU the BE pod got (cores, and as a share of the CPU the node left idle while LS ran alone).
 * Also berthd's own CPU, its last QoS step's duration, and LS's CPU stall (PSI "some" of its worst
 * container: what berth's PSI feedback steers by) per phase.
 * Environment: BENCH_CLIENT_NICE (default -15) sets the clients' threads' nice value;
 * BENCH_TRACE=1 also traces the scheduler over each probe window and prints, per phase, the
 * wake-up and preemption delays of the LS echo processes and of the probe's client thread (by
 * CPU and by what ran there), whom the slow ones waited behind, and how long berthd held a CPU.
 * Targets: p99(qos on) ≤ 1.2 × alone, BE ≥ 50 % of the idle CPU. Each target ratio comes with a
 * 90 % interval from a paired bootstrap over rounds (stats.ts), and the BE share with the most
 * the threshold leaves BE when LS uses what it did alone. Other work on the machine shows
 * up in every phase: run it quiet.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, setPriority } from 'node:os';
import { Protocol } from '../../src/gen/runtime/v1/api.js';
import { AdminClient } from '../../src/admin/client.js';
import { CgroupManager } from '../../src/cgroups/index.js';
import { freePort } from '../../test/fixtures/registry.js';
import { startPodEnv, eventually, type PodEnv } from '../../test/helpers/pod-env.js';
import { processCpuNs } from '../../test/helpers/proc.js';
import { pct, roundBootstrap, beShareCeiling } from './stats.js';
import { SchedTrace, bursts, parseTrace, summarize, wakeups, type Wake } from './trace.js';
import { BUSY, PROBE_CONNS, type Probe, echo, load, readyClients, serve } from './clients.js';
import { DEFAULT_POLICY } from '../../src/qos/policy/schema.js';

const SECONDS = Number(process.argv[2] ?? 10);
const RATE = Number(process.argv[3] ?? 100);
const ROUNDS = Number(process.argv[4] ?? 6);
const CORES = cpus().length;
/**
 * The clients' threads (the main thread's HTTP load, the probe's thread) run at this nice value
 * (BENCH_CLIENT_NICE, default -15; 0 for none). They stand in for callers on other machines, so
 * their own wake-ups should not wait behind the bench's other threads, berthd or kernel threads on
 * the node: traced at nice 0, the probe's client waited behind berthd for 36–39 ms per 30 s of
 * probing alone and 80 ms with BE holding one CPU (trace.ts), which the probe then counted as LS's.
 */
const CLIENT_NICE = Number(process.env.BENCH_CLIENT_NICE ?? -15);
/** The default policy's suppression threshold (what 'qos on' runs with). */
const THRESHOLD = DEFAULT_POLICY.cpuSuppressThresholdPercent;

function nodeBusy(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
  return { busy, total: busy + f[3]! + f[4]! };
}

/** One measured window: LS latencies, the CPU BE got and what the node left idle. */
interface Window {
  lat: number[];
  beNs: number;
  secs: number;
  idleCores: number;
  /** The BE allowance and PSI factor berth reported right after the window. */
  allowance: number[];
  factor: number[];
  /** The LS containers' CPU stall over the window (PSI "some", % of the time; the worst container). */
  lsStallPct: number;
  /** berthd's own CPU over the window (ns), and its last QoS step's duration (ms). */
  berthdNs: number;
  stepMs: number[];
}
/** A phase's two windows in one round: the HTTP load, then the wake-up probe with LS otherwise idle. */
interface Sample {
  http: Window;
  wake: Window;
}
const WORKLOADS = ['http', 'wake'] as const;
type Workload = (typeof WORKLOADS)[number];

/** Berth's BE allowance and PSI factor now. Read right after a window (berth's last step saw its
 * load), never during it: a status request would add the client's own work to the latencies it times. */
async function qosNow(admin: AdminClient): Promise<{ allowance?: number; factor?: number; stepMs?: number }> {
  const st = await admin.get<{ be?: { allowanceCores: number; psi: { factor: number } }; lastStep?: { durationMs: number } }>('/v1/qos/status').catch(() => undefined);
  return { ...(st?.be ? { allowance: st.be.allowanceCores, factor: st.be.psi.factor } : {}), stepMs: st?.lastStep?.durationMs };
}


/** The LS pod's containers' cgroup paths (set once they run). */
const lsPaths: string[] = [];
/** Each LS container's cumulative CPU stall (PSI "some" total, µs; 0 without cgroup PSI). */
const lsStallUs = (cg: CgroupManager) => lsPaths.map((p) => cg.readStats(p, { cpu: false, memory: false, pids: false, io: false, psi: true })?.psi?.cpu?.some.totalUs ?? 0);

async function window(cg: CgroupManager, admin: AdminClient, berthd: number, bePath: string | undefined, run: () => Promise<number[]>): Promise<Window> {
  const cpu = () => (bePath ? (cg.readStats(bePath, { cpu: true, memory: false, pids: false, io: false, psi: false })?.cpu?.usageNs ?? 0) : 0);
  const s0 = lsStallUs(cg);
  const n0 = nodeBusy();
  const b0 = cpu();
  const d0 = processCpuNs(berthd);
  const t0 = performance.now();
  const lat = await run();
  const secs = (performance.now() - t0) / 1000;
  const n1 = nodeBusy();
  const beNs = cpu() - b0;
  const berthdNs = processCpuNs(berthd) - d0;
  const lsStallPct = Math.max(0, ...lsStallUs(cg).map((us, k) => ((us - s0[k]!) / (secs * 1e6)) * 100));
  const after = await qosNow(admin);
  const idleCores = (1 - (n1.busy - n0.busy) / (n1.total - n0.total)) * CORES;
  const one = (v: number | undefined) => (v === undefined ? [] : [v]);
  return { lat, beNs, secs, idleCores, allowance: one(after.allowance), factor: one(after.factor), lsStallPct, berthdNs, stepMs: one(after.stepMs) };
}

/** With BENCH_TRACE=1: the scheduler's events over each probe window (trace.ts). */
const tracing = process.env.BENCH_TRACE === '1' ? { trace: SchedTrace.open(), lsPath: '', berthd: 0 } : undefined;
/** A phase's traced wake-ups and preemptions: of the LS echo processes, and of the probe's client thread. */
interface Wakes {
  ls: Wake[];
  client: Wake[];
  /** berthd's stretches on a CPU (µs). */
  berthd: number[];
}

const tids = (pid: number | 'self') => new Set(readdirSync(`/proc/${pid}/task`).map(Number));

async function traceProbe(probe: Probe, cg: CgroupManager, bePath: string | undefined, into: Wakes): Promise<number[]> {
  const { trace, lsPath, berthd } = tracing!;
  trace.start();
  const lat = await probe.run(SECONDS / 2);
  const events = parseTrace(trace.stop());
  const be = new Set(bePath ? cg.pids(bePath) : []);
  const bench = tids('self');
  const daemon = tids(berthd);
  const label = (pid: number) => (pid === probe.tid ? 'client' : pid === process.pid ? 'bench main' : daemon.has(pid) ? 'berthd' : bench.has(pid) ? 'bench' : undefined);
  into.ls.push(...wakeups(events, new Set(cg.pids(lsPath)), be, label));
  into.client.push(...wakeups(events, new Set([probe.tid]), be, label));
  into.berthd.push(...bursts(events, daemon));
  return lat;
}

/** Unmeasured HTTP load before the HTTP window, so berth's allowance has followed LS's usage up. */
const LEAD_IN_SECONDS = 3;

/**
 * The probe window (half as long as SECONDS at twice the rate: as many samples), then the HTTP
 * window (SECONDS at RATE) after a lead-in. Both measure a steady state: the probe follows the
 * settling time with LS idle, and the lead-in lets the allowance drop to what LS's load leaves
 * (it falls at once but regrows at most 10 % of the node per step, which is why the probe comes first).
 */
async function measure(port: number, probe: Probe, cg: CgroupManager, admin: AdminClient, berthd: number, bePath: string | undefined, traced: Wakes): Promise<Sample> {
  const wake = await window(cg, admin, berthd, bePath, () => (tracing ? traceProbe(probe, cg, bePath, traced) : probe.run(SECONDS / 2)));
  await load(port, LEAD_IN_SECONDS, RATE);
  const http = await window(cg, admin, berthd, bePath, () => load(port, SECONDS, RATE));
  return { http, wake };
}

const PHASES = ['alone', 'alone again', 'qos off', 'qos on', 'qos on, 70 %', 'qos on, 80 %', 'qos on, BE under /berth', 'qos on, no psi', 'qos on, cfsQuota', 'idle only', 'no cpu.idle', 'no cpu.idle, no psi'] as const;
type PhaseName = (typeof PHASES)[number];
/** Phases held to the targets, with the suppression threshold each runs at. */
const TARGET_PHASES: readonly [PhaseName, number][] = [
  ['qos on', THRESHOLD],
  ['qos on, 70 %', 70],
  ['qos on, 80 %', 80],
];
/** The A/A phase shows the run's own noise; 80 % shows what a higher threshold buys BE (README, RESULTS.md). */
const DEFAULT_PHASES: readonly PhaseName[] = ['alone', 'alone again', 'qos off', 'qos on', 'qos on, 80 %'];
function selectPhases(arg: string | undefined): Set<PhaseName> {
  if (!arg || arg === 'default') return new Set(DEFAULT_PHASES);
  if (arg === 'all') return new Set(PHASES);
  const names = arg.split(';').map((x) => x.trim());
  const unknown = names.filter((n) => !(PHASES as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`unknown phase(s) ${unknown.join(', ')}; phases are: ${PHASES.join('; ')}`);
  return new Set<PhaseName>(['alone', ...(names as PhaseName[])]);
}
const SELECTED = selectPhases(process.argv[5]);
const POLICY: Record<Exclude<PhaseName, 'alone'>, Record<string, unknown>> = {
  'alone again': { enabled: false },
  'qos off': { enabled: false },
  'qos on': {},
  'qos on, 70 %': { cpuSuppressThresholdPercent: 70 },
  'qos on, 80 %': { cpuSuppressThresholdPercent: 80 },
  'qos on, BE under /berth': {},
  'qos on, no psi': { psiFeedback: { enabled: false } },
  'qos on, cfsQuota': { cpuSuppressPolicy: 'cfsQuota' },
  'idle only': { cpuSuppressPolicy: 'cfsQuota', cpuSuppressThresholdPercent: 100, psiFeedback: { enabled: false } },
  'no cpu.idle': { be: { cpuIdle: false } },
  'no cpu.idle, no psi': { be: { cpuIdle: false }, psiFeedback: { enabled: false } },
};
/** Each phase's traced wake-ups (BENCH_TRACE=1). */
const WAKES = new Map<PhaseName, Wakes>(PHASES.map((p) => [p, { ls: [], client: [], berthd: [] }]));
/** Phases with every BE pod frozen: LS alone. */
const NO_BE = new Set<PhaseName>(['alone', 'alone again']);
/** Phases whose BE pod sits beside LS under /berth rather than under the top-level BE parent. */
const NESTED = new Set<PhaseName>(['qos off', 'qos on, BE under /berth']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A BE pod running two busy loops; `parent` '/berth' puts it beside LS. Its container's cgroup path. */
async function bePod(env: PodEnv, admin: AdminClient, name: string, parent?: string): Promise<{ pod: string; path: string }> {
  const pod = await env.runPod(name, { annotations: { 'berth.dev/qos-class': 'BE' }, ...(parent ? { linux: { cgroupParent: parent } as never } : {}) });
  const ctr = await env.runContainer(pod, 'burn', ['sh', '-c', `${BUSY} & ${BUSY}`], { linux: { resources: { cpuShares: 2n } } as never });
  return { pod, path: await targetPath(admin, pod, ctr) };
}

/** A container's cgroup path, as berth's QoS status names it. */
function targetPath(admin: AdminClient, pod: string, ctr: string): Promise<string> {
  return eventually(async () => {
    const s = await admin.get<{ pods: Array<{ podId: string; targets: Array<{ id: string; path: string }> }> }>('/v1/qos/status');
    return s.pods.find((p) => p.podId === pod)?.targets.find((t) => t.id === ctr)?.path;
  });
}

/** One round: LS alone, then the BE pods under each policy (order rotated); the BE pods are removed at the end. */
async function round(env: PodEnv, admin: AdminClient, cg: CgroupManager, port: number, probe: Probe, i: number, out: Map<PhaseName, Sample[]>): Promise<void> {
  const top = await bePod(env, admin, `be-top-${i}`);
  const nested = await bePod(env, admin, `be-nested-${i}`, '/berth');
  try {
    const run = async (path: string | undefined) => {
      for (const p of [top.path, nested.path]) await (p === path ? cg.thaw(p) : cg.freeze(p));
    };
    await run(undefined);
    await admin.post('/v1/qos/policy', POLICY['qos off']);
    await sleep(1500);
    out.get('alone')!.push(await measure(port, probe, cg, admin, env.d.proc.pid!, undefined, WAKES.get('alone')!));
    // Rotate the order per round so a drift in background load does not favour one phase.
    const order = PHASES.filter((p): p is Exclude<PhaseName, 'alone'> => p !== 'alone' && SELECTED.has(p)).map((_, k, all) => all[(k + i) % all.length]!);
    for (const name of order) {
      const path = NO_BE.has(name) ? undefined : NESTED.has(name) ? nested.path : top.path;
      await admin.post('/v1/qos/policy', POLICY[name]);
      await run(path);
      await sleep(name === 'qos off' || NO_BE.has(name) ? 2000 : 6000); // the allowance regrows ≤ 10 % of the node per step
      out.get(name)!.push(await measure(port, probe, cg, admin, env.d.proc.pid!, path, WAKES.get(name)!));
    }
  } finally {
    for (const p of [top, nested]) {
      await cg.thaw(p.path).catch(() => {});
      await env.cri.runtime.stopPodSandbox({ podSandboxId: p.pod });
      await env.cri.runtime.removePodSandbox({ podSandboxId: p.pod });
    }
  }
}

async function main(): Promise<void> {
  const env: PodEnv = await startPodEnv({ config: { logLevel: 'warn', qos: { loopIntervalMs: 1000 } } });
  const admin = new AdminClient(env.d.adminSocket);
  const cg = CgroupManager.detect();
  let probe: Probe | undefined;
  try {
    const hostPort = await freePort();
    const probePort = await freePort();
    const ls = await env.runPod('ls', {
      annotations: { 'berth.dev/qos-class': 'LS' },
      portMappings: [
        { protocol: Protocol.TCP, containerPort: 80, hostPort, hostIp: '' },
        { protocol: Protocol.TCP, containerPort: 81, hostPort: probePort, hostIp: '' },
      ],
    });
    const httpdCtr = await env.runContainer(ls, 'httpd', ['sh', '-c', serve('/www', '80')], { linux: { resources: { cpuShares: 1024n } } as never });
    const probeCtr = await env.runContainer(ls, 'probe', ['sh', '-c', echo(81)], { linux: { resources: { cpuShares: 1024n } } as never });
    const probePath = await targetPath(admin, ls, probeCtr);
    lsPaths.push(await targetPath(admin, ls, httpdCtr), probePath);
    if (tracing) Object.assign(tracing, { lsPath: probePath, berthd: env.d.proc.pid! });
    probe = await readyClients(hostPort, probePort, RATE, 20_000);
    if (CLIENT_NICE) for (const tid of [process.pid, probe.tid]) setPriority(tid, CLIENT_NICE);
    const pr = probe;
    const samples = new Map<PhaseName, Sample[]>(PHASES.map((p) => [p, []]));
    for (let i = 0; i < ROUNDS; i++) await round(env, admin, cg, hostPort, pr, i, samples);

    const pooled = (name: PhaseName, w: Workload) => {
      const xs = samples.get(name)!.map((x) => x[w]);
      const lat = xs.flatMap((x) => x.lat);
      const secs = xs.reduce((a, x) => a + x.secs, 0);
      const avg = (k: 'allowance' | 'factor' | 'stepMs') => {
        const v = xs.flatMap((x) => x[k]);
        return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
      };
      return {
        allowance: avg('allowance'),
        factor: avg('factor'),
        stepMs: avg('stepMs'),
        berthdPct: (xs.reduce((a, x) => a + x.berthdNs, 0) / (secs * 1e9)) * 100,
        lsStallPct: xs.reduce((a, x) => a + x.lsStallPct * x.secs, 0) / secs,
        p50: pct(lat, 50),
        p95: pct(lat, 95),
        p99: pct(lat, 99),
        p999: pct(lat, 99.9),
        n: lat.length,
        beCores: xs.reduce((a, x) => a + x.beNs, 0) / (secs * 1e9),
        idle: xs.reduce((a, x) => a + x.idleCores * x.secs, 0) / secs,
      };
    };
    // The spread: each round's own p99 ratio to "alone" (1/ROUNDS of the samples each, so noisier).
    const roundRatios = (name: PhaseName, w: Workload) => samples.get(name)!.map((x, j) => pct(x[w].lat, 99) / pct(samples.get('alone')![j]![w].lat, 99));
    const interval = (a: PhaseName, b: PhaseName, w: Workload) => {
      const lats = (name: PhaseName) => samples.get(name)!.map((x) => x[w].lat);
      const { lo, hi } = roundBootstrap(lats(a), lats(b));
      return `${lo.toFixed(2)}–${hi.toFixed(2)}`;
    };
    console.log(`co-location: one LS pod, ${ROUNDS} rounds per phase, interleaved; BE = 2 busy loops on ${CORES} cores; each phase measures two windows, from 127.0.0.1:`);
    console.log(`  the clients' threads at nice ${CLIENT_NICE}${tracing ? '; scheduler events traced in each probe window' : ''}`);
    console.log(`  http: busybox httpd CGI at ${RATE} req/s for ${SECONDS} s`);
    console.log(`  wake: a wake-up probe (one byte echoed, over a pool of ${PROBE_CONNS} TCP connections) at ${2 * RATE}/s for ${SECONDS / 2} s, with the LS pod otherwise idle`);
    for (const w of WORKLOADS) {
      const alone = pooled('alone', w);
      const digits = w === 'http' ? 2 : 3;
      console.log(`${w}: node idle while LS ran alone: ${alone.idle.toFixed(2)} cores (the CPU LS leaves idle)`);
      for (const name of PHASES) {
        if (!SELECTED.has(name)) continue;
        const r = pooled(name, w);
        const be = NO_BE.has(name) ? '' : `  BE ${r.beCores.toFixed(2)} cores = ${((r.beCores / alone.idle) * 100).toFixed(0)} % of idle${Number.isFinite(r.allowance) ? ` (allowance ${r.allowance.toFixed(2)}, psi factor ${r.factor.toFixed(2)})` : ' (no suppression)'}`;
        console.log(`  ${name.padEnd(24)} n=${r.n}  p50 ${r.p50.toFixed(digits)}  p95 ${r.p95.toFixed(digits)}  p99 ${r.p99.toFixed(digits)}  p99.9 ${r.p999.toFixed(digits)} ms  p99/alone ${(r.p99 / alone.p99).toFixed(2)}  LS stall ${r.lsStallPct.toFixed(1)} %${be}  berthd ${r.berthdPct.toFixed(1)} % of a core, QoS step ${r.stepMs.toFixed(1)} ms`);
      }
    }
    const ratio = (a: PhaseName, b: PhaseName, what: string) => {
      if (!SELECTED.has(a) || !SELECTED.has(b)) return;
      const part = (w: Workload) => {
        const x = pooled(a, w);
        const y = pooled(b, w);
        return `${w} p99 ${(x.p99 / y.p99).toFixed(2)}×, p99.9 ${(x.p999 / y.p999).toFixed(2)}×, BE CPU ${(x.beCores / y.beCores).toFixed(2)}×`;
      };
      console.log(`${what}: ${part('http')}; ${part('wake')}`);
    };
    console.log(`wake probes that found all ${PROBE_CONNS} connections busy: ${pr.queued}`);
    for (const [name, threshold] of TARGET_PHASES) {
      if (!SELECTED.has(name)) continue;
      for (const w of WORKLOADS) {
        const on = pooled(name, w);
        const alone = pooled('alone', w);
        const perRound = roundRatios(name, w);
        const ci = interval(name, 'alone', w);
        console.log(`targets, ${w}, ${name}: p99/alone ${(on.p99 / alone.p99).toFixed(2)} (≤ 1.20; 90 % interval over rounds ${ci}); BE share of idle ${((on.beCores / alone.idle) * 100).toFixed(0)} % (≥ 50 %; at most ${(beShareCeiling(CORES, alone.idle, threshold) * 100).toFixed(0)} % under a ${threshold} % threshold with LS and the host using what they did alone); per round ${perRound.map((v) => v.toFixed(2)).join(' ')}`);
      }
    }
    if (SELECTED.has('alone again')) {
      // The same state measured twice: how far one run's p99 ratio moves with nothing changed.
      for (const w of WORKLOADS) {
        const perRound = roundRatios('alone again', w);
        console.log(`noise, ${w}: p99(alone again)/alone ${(pooled('alone again', w).p99 / pooled('alone', w).p99).toFixed(2)} (1.00 with no noise; 90 % interval over rounds ${interval('alone again', 'alone', w)}); per round ${perRound.map((v) => v.toFixed(2)).join(' ')}`);
      }
    }
    if (tracing) {
      // Slow: over twice the median wake-up delay alone of the LS echo processes, at least 50 µs.
      const slowUs = Math.max(50, 2 * pct(WAKES.get('alone')!.ls.map((w) => w.us), 50));
      for (const name of PHASES) {
        if (!SELECTED.has(name)) continue;
        const w = WAKES.get(name)!;
        console.log(`wake-ups in the probe windows, ${name}:`);
        const long = w.berthd.filter((us) => us > 1000);
        console.log(`  berthd on a CPU at a stretch: n=${w.berthd.length} p50 ${pct(w.berthd, 50).toFixed(0)} µs p99 ${pct(w.berthd, 99).toFixed(0)} µs max ${Math.max(0, ...w.berthd).toFixed(0)} µs; ${long.length} over 1 ms (${(long.reduce((a, b) => a + b, 0) / 1000).toFixed(1)} ms)`);
        for (const [who, xs] of [['LS echo', w.ls], ['client thread', w.client]] as const) console.log(`  ${who}: ${summarize(xs, slowUs).join('\n    ')}`);
      }
    }
    ratio('qos on', 'qos off', 'qos on vs off');
    ratio('qos on', 'qos on, cfsQuota', 'cpuset (default) vs cfsQuota policy');
    ratio('qos on', 'qos on, BE under /berth', 'top-level BE parent vs BE under /berth');
    ratio('qos on', 'qos on, no psi', 'PSI feedback vs none');
    ratio('no cpu.idle', 'no cpu.idle, no psi', 'PSI feedback vs none, BE without cpu.idle');
  } finally {
    await probe?.close();
    tracing?.trace.close();
    await env.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
