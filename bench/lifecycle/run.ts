/**
 * Pod start latency on berth vs `runc run` of the same busybox bundle, in the same run.
 *   node --import ./bench/ts-loader.mjs bench/lifecycle/run.ts [pods=30]
 * (needs `npm run build` first: it starts the built berthd). Prints, per mode:
 *   - pod start = RunPodSandbox + CreateContainer + StartContainer, image present;
 *     with CNI networking (bridge + portmap + loopback) and with hostNetwork;
 *   - `runc run -d` of a busybox bundle (the floor any runtime pays);
 *   - ListContainerStats latency with `pods` pods running (run with 50 for the issue target).
 * p50 / p95 in ms and ratios against runc. Targets on a 2-core machine: pod start p50 ≤ 200 ms,
 * ListContainerStats p50 ≤ 10 ms.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPodEnv, type PodEnv } from '../../test/helpers/pod-env.js';
import { createBundle } from '../../test/helpers/bundle.js';

const N = Number(process.argv[2] ?? 30);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1)} ms  p95 ${pct(xs, 95).toFixed(1)} ms`;

async function podStarts(env: PodEnv, n: number, hostNetwork: boolean): Promise<{ times: number[]; pods: string[] }> {
  const times: number[] = [];
  const pods: string[] = [];
  const ns = hostNetwork ? { linux: { securityContext: { namespaceOptions: { network: 2, pid: 0, ipc: 0, targetId: '' } } } as never } : {};
  for (let i = 0; i < n; i++) {
    const cfg = env.podConfig(`bench-${hostNetwork ? 'h' : 'c'}-${i}`, ns);
    const t0 = performance.now();
    const { podSandboxId } = await env.cri.runtime.runPodSandbox({ config: cfg, runtimeHandler: '' });
    const { containerId } = await env.cri.runtime.createContainer({
      podSandboxId,
      config: env.containerConfig('c', ['sleep', '3600']),
      sandboxConfig: cfg,
    });
    await env.cri.runtime.startContainer({ containerId });
    times.push(performance.now() - t0);
    pods.push(podSandboxId);
  }
  return { times, pods };
}

async function removeAll(env: PodEnv, pods: string[]): Promise<void> {
  for (const p of pods) {
    await env.cri.runtime.stopPodSandbox({ podSandboxId: p });
    await env.cri.runtime.removePodSandbox({ podSandboxId: p });
  }
}

async function runcRuns(n: number): Promise<number[]> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-bench-runc-'));
  const root = join(dir, 'state');
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const id = `bench-runc-${i}`;
      const b = await createBundle(dir, id, { args: ['sleep', '3600'] });
      const t0 = performance.now();
      execFileSync('runc', ['--root', root, 'run', '-d', '--bundle', b.dir, id], { stdio: 'ignore' });
      times.push(performance.now() - t0);
    }
  } finally {
    for (let i = 0; i < n; i++) spawnSync('runc', ['--root', root, 'delete', '-f', `bench-runc-${i}`]);
    await rm(dir, { recursive: true, force: true });
  }
  return times;
}

async function main(): Promise<void> {
  const env = await startPodEnv({ config: { logLevel: 'warn' } });
  try {
    await removeAll(env, (await podStarts(env, 3, false)).pods); // warm up
    const runc = await runcRuns(N);
    const cni = await podStarts(env, N, false);
    const statsTimes: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await env.cri.runtime.listContainerStats({ filter: undefined });
      statsTimes.push(performance.now() - t0);
    }
    await removeAll(env, cni.pods);
    const host = await podStarts(env, N, true);
    await removeAll(env, host.pods);
    const r50 = pct(runc, 50);
    console.log(`berth bench/lifecycle: ${N} pods, busybox, image present`);
    console.log(`  runc run -d (reference)     ${fmt(runc)}`);
    console.log(`  pod start, CNI network      ${fmt(cni.times)}  ratio p50 vs runc ${(pct(cni.times, 50) / r50).toFixed(2)}x  target p50 <= 200 ms: ${pct(cni.times, 50) <= 200 ? 'met' : 'MISSED'}`);
    console.log(`  pod start, hostNetwork      ${fmt(host.times)}  ratio p50 vs runc ${(pct(host.times, 50) / r50).toFixed(2)}x`);
    console.log(`  ListContainerStats, ${N} running  ${fmt(statsTimes)}  target p50 <= 10 ms: ${pct(statsTimes, 50) <= 10 ? 'met' : 'MISSED'}`);
  } finally {
    await env.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
