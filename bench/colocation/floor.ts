/**
 * The hardware floor under the co-location targets: what BE's CPU time costs LS when the two
 * never share a CPU. LS (the same busybox httpd CGI and wake-up probe as run.ts, and this
 * process, the client) is confined to CPU 0; BE (a busy loop) to CPU 1 under a CFS quota of
 * Q % of that CPU. No scheduler decision is left to make, so whatever LS loses with BE on is
 * what the machine's CPUs share below the OS: an SMT sibling's core, caches, memory bandwidth,
 * a hypervisor placing both vCPUs on one core. A guest sees none of that in its topology.
 *   node --import ./bench/ts-loader.mjs bench/colocation/floor.ts [seconds=10] [rate=100] [rounds=6] [quotas=25,50,75,100]
 * Needs root, busybox, and a machine with at least two CPUs; nothing of berth's runs. Phases
 * ("BE none" and one per quota) are interleaved over rounds, their order rotated per round.
 * Prints per workload p50/p99 per phase, p99 ÷ "BE none" with a 90 % interval from a paired
 * bootstrap over rounds, and the cores BE got. Read beside run.ts: at the BE cores berth's "qos
 * on" gave, this is the least LS could lose on this machine under any policy that lets BE run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { CgroupManager } from '../../src/cgroups/index.js';
import { BUSY, type Probe, echo, load, readyClients, serve } from './clients.js';
import { freePort } from '../../test/fixtures/registry.js';
import { pct, roundBootstrap } from './stats.js';

const SECONDS = Number(process.argv[2] ?? 10);
const RATE = Number(process.argv[3] ?? 100);
const ROUNDS = Number(process.argv[4] ?? 6);
const QUOTAS = (process.argv[5] ?? '25,50,75,100').split(',').map(Number);
const ROOT = '/berth-bench-floor';
const LS = `${ROOT}/ls`;
const BE = `${ROOT}/be`;
const PERIOD_US = 100_000;

type Workload = 'http' | 'wake';
interface Window {
  lat: number[];
  beNs: number;
  secs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function start(cmd: string): ChildProcess {
  const child = spawn('sh', ['-c', cmd], { stdio: 'ignore' });
  child.on('error', () => {});
  return child;
}

async function main(): Promise<void> {
  if (cpus().length < 2) throw new Error('floor: needs two CPUs (LS on CPU 0, BE on CPU 1)');
  const cg = CgroupManager.detect();
  const www = mkdtempSync(join(tmpdir(), 'berth-floor-'));
  const kids: ChildProcess[] = [];
  let probe: Probe | undefined;
  await cg.create(LS);
  await cg.create(BE);
  try {
    await cg.write(LS, 'cpusetCpus', '0');
    await cg.write(BE, 'cpusetCpus', '1');
    // The client (this process, every thread) runs with LS: it shares LS's CPU, never BE's.
    await cg.attach(LS, process.pid);
    const httpPort = await freePort();
    const probePort = await freePort();
    for (const cmd of [serve(www, `127.0.0.1:${httpPort}`, 'busybox httpd'), echo(probePort, 'busybox nc')]) {
      const child = start(cmd);
      kids.push(child);
      await cg.attach(LS, child.pid!);
    }
    probe = await readyClients(httpPort, probePort, RATE, 10_000);
    // busybox nc on the host reset a probe connection twice in runs of 8-10 rounds (never in
    // run.ts, where it runs in a container): the window is measured again on a fresh pool,
    // and the count printed.
    let resets = 0;
    const probeWindow = async (): Promise<number[]> => {
      for (;;) {
        try {
          return await probe!.run(SECONDS / 2);
        } catch (err) {
          if (++resets > 3) throw err;
          console.error(`probe failed (${String(err)}); measuring the window again on new connections`);
          await probe!.close();
          probe = await readyClients(httpPort, probePort, RATE, 10_000);
        }
      }
    };

    const beNs = () => cg.readStats(BE, { cpu: true, memory: false, pids: false, io: false, psi: false })?.cpu?.usageNs ?? 0;
    const window = async (run: () => Promise<number[]>): Promise<Window> => {
      const b0 = beNs();
      const t0 = performance.now();
      const lat = await run();
      return { lat, beNs: beNs() - b0, secs: (performance.now() - t0) / 1000 };
    };
    const phases = [0, ...QUOTAS];
    const out = new Map<number, Record<Workload, Window>[]>(phases.map((q) => [q, []]));
    for (let i = 0; i < ROUNDS; i++) {
      for (const q of phases.map((_, k) => phases[(k + i) % phases.length]!)) {
        let burner: ChildProcess | undefined;
        if (q > 0) {
          await cg.write(BE, 'cpuMax', { quota: q >= 100 ? 'max' : (q / 100) * PERIOD_US, period: PERIOD_US });
          burner = start(BUSY);
          await cg.attach(BE, burner.pid!);
        }
        try {
          await sleep(1000);
          const wake = await window(probeWindow);
          const http = await window(() => load(httpPort, SECONDS, RATE));
          out.get(q)!.push({ http, wake });
        } finally {
          if (burner) await cg.kill(BE);
        }
      }
      console.error(`round ${i + 1}/${ROUNDS} done`);
    }

    if (resets) console.log(`probe connections reset and the window measured again: ${resets} time(s)`);
    console.log(`hardware floor: LS (httpd CGI, wake-up probe, the client) on CPU 0 only, BE (a busy loop) on CPU 1 only under a CFS quota; ${ROUNDS} rounds, interleaved`);
    for (const w of ['wake', 'http'] as const) {
      const lats = (q: number) => out.get(q)!.map((x) => x[w].lat);
      const none = lats(0).flat();
      console.log(`${w}: BE none  n=${none.length}  p50 ${pct(none, 50).toFixed(3)}  p99 ${pct(none, 99).toFixed(3)} ms`);
      for (const q of QUOTAS) {
        const xs = out.get(q)!.map((x) => x[w]);
        const all = xs.flatMap((x) => x.lat);
        const cores = xs.reduce((a, x) => a + x.beNs, 0) / (xs.reduce((a, x) => a + x.secs, 0) * 1e9);
        const { lo, hi } = roundBootstrap(lats(q), lats(0));
        console.log(
          `  BE quota ${String(q).padStart(3)} % (got ${cores.toFixed(2)} cores)  p50 ${pct(all, 50).toFixed(3)}  p99 ${pct(all, 99).toFixed(3)} ms  ÷ none: p50 ${(pct(all, 50) / pct(none, 50)).toFixed(2)}, p99 ${(pct(all, 99) / pct(none, 99)).toFixed(2)} (90 % interval over rounds ${lo.toFixed(2)}–${hi.toFixed(2)})`,
        );
      }
    }
  } finally {
    await probe?.close();
    for (const k of kids) k.kill('SIGKILL');
    await cg.attach('/', process.pid).catch(() => {});
    await cg.destroy(ROOT).catch((err: unknown) => console.error(`floor: could not remove ${ROOT}:`, err));
    rmSync(www, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
