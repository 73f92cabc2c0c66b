/**
 * A pod environment for the cgroup v2 VM: the same parts as test/helpers/pod-env.ts (a real
 * docker-registry serving the test pause and busybox images, a real berthd from dist/, CRI
 * clients, the image pulled), with waits sized for software emulation, where berthd needs
 * 15-30 s from exec to a listening socket (node loads every module ~20x slower) and
 * test/helpers/berthd.ts gives it 20 s. Pods use the host network, so no CNI plugin runs.
 *
 *   const env = await startVmPodEnv();
 *   const podId = await env.runPod('p', { linux: { cgroupParent: '/x' } });
 *   await env.cleanup();   // pods, berthd (and its mounts), registry, temp dirs
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ContainerConfig, PodSandboxConfig } from '../../src/gen/runtime/v1/api.js';
import { startRegistry, type Registry } from '../fixtures/registry.js';
import { busybox, pause, publish } from '../fixtures/image-builder.js';
import { BERTHD } from '../helpers/berthd.js';
import { criClients, type CriClients } from '../helpers/cri-client.js';

/** How long berthd may take to listen, and the registry to answer, under emulation. */
const START_TIMEOUT_MS = Number(process.env.BERTH_V2_START_TIMEOUT_MS ?? 180_000);

export interface VmPodEnv {
  cri: CriClients;
  image: string;
  /** berthd's temp dir (root, state, sockets, logs). */
  dir: string;
  /** berthd's output so far. */
  logs: string[];
  runPod(name: string, extra?: Partial<PodSandboxConfig>): Promise<string>;
  runContainer(podId: string, name: string, command: string[], extra?: Partial<ContainerConfig>): Promise<string>;
  exec(id: string, cmd: string[], timeoutS?: number): Promise<{ stdout: string; stderr: string; exitCode: number }>;
  cleanup(): Promise<void>;
}

async function listening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(path);
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

async function waitForSocket(path: string, proc: ChildProcess, logs: string[]): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`berthd exited (${proc.exitCode ?? proc.signalCode}):\n${logs.join('')}`);
    if (await listening(path)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`berthd did not listen on ${path} within ${START_TIMEOUT_MS} ms:\n${logs.join('')}`);
}

export async function startVmPodEnv(): Promise<VmPodEnv> {
  let reg: Registry | undefined;
  let proc: ChildProcess | undefined;
  let cri: CriClients | undefined;
  const dir = await mkdtemp(join(tmpdir(), 'berth-v2-pod-'));
  const logs: string[] = [];

  const cleanup = async (): Promise<void> => {
    try {
      if (cri && proc && proc.exitCode === null && proc.signalCode === null) {
        const pods = await cri.runtime.listPodSandbox({ filter: undefined }).catch(() => ({ items: [] }));
        for (const p of pods.items) {
          await cri.runtime.stopPodSandbox({ podSandboxId: p.id }).catch(() => {});
          await cri.runtime.removePodSandbox({ podSandboxId: p.id }).catch(() => {});
        }
      }
    } finally {
      cri?.close();
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc!.once('exit', r));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc?.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(t);
      }
      // A failed test may leave pod mounts behind: unmount them before removing the dir.
      const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
        .split('\n')
        .map((l) => l.split(' ')[4] ?? '')
        .filter((m) => m.startsWith(dir + '/'))
        .sort((a, b) => b.length - a.length);
      for (const m of mounts) spawnSync('umount', ['-l', m]);
      await rm(dir, { recursive: true, force: true });
      await reg?.stop();
    }
  };

  try {
    reg = await startRegistry({ readyTimeoutMs: START_TIMEOUT_MS });
    await publish({ url: reg.url }, 'test/pause:1', pause());
    await publish({ url: reg.url }, 'test/busybox:1', busybox());
    const image = `${reg.host}/test/busybox:1`;
    const socket = join(dir, 'berth.sock');
    const configPath = join(dir, 'config.yaml');
    await writeFile(
      configPath,
      stringify({ listen: `unix://${socket}`, root: join(dir, 'root'), state: join(dir, 'state'), logLevel: 'info', sandboxImage: `${reg.host}/test/pause:1`, registry: { insecure: [reg.host] } }),
    );
    proc = spawn(process.execPath, [BERTHD, '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => logs.push(d.toString()));
    proc.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
    await waitForSocket(socket, proc, logs);
    const c = criClients(socket);
    cri = c;
    await c.image.pullImage({ image: { image, annotations: {}, userSpecifiedImage: '', runtimeHandler: '', imageRef: '' }, auth: undefined, sandboxConfig: undefined });
    const podConfig = (name: string, extra: Partial<PodSandboxConfig> = {}) =>
      PodSandboxConfig.fromPartial({
        metadata: { name, namespace: 'test-v2', uid: randomBytes(6).toString('hex'), attempt: 0 },
        hostname: name,
        logDirectory: join(dir, 'logs', name),
        ...extra,
      });
    return {
      cri: c,
      image,
      dir,
      logs,
      async runPod(name, extra = {}) {
        return (await c.runtime.runPodSandbox({ config: podConfig(name, extra), runtimeHandler: '' })).podSandboxId;
      },
      async runContainer(podId, name, command, extra = {}) {
        const pod = await c.runtime.podSandboxStatus({ podSandboxId: podId, verbose: true });
        const sandboxConfig = PodSandboxConfig.fromJSON(JSON.parse(pod.info.info!).config);
        const config = ContainerConfig.fromPartial({ metadata: { name, attempt: 0 }, image: { image }, command, logPath: `${name}.log`, ...extra });
        const { containerId } = await c.runtime.createContainer({ podSandboxId: podId, config, sandboxConfig });
        await c.runtime.startContainer({ containerId });
        return containerId;
      },
      async exec(id, cmd, timeoutS = 60) {
        const r = await c.runtime.execSync({ containerId: id, cmd, timeout: BigInt(timeoutS) });
        return { stdout: Buffer.from(r.stdout).toString(), stderr: Buffer.from(r.stderr).toString(), exitCode: r.exitCode };
      },
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
