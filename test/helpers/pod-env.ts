/**
 * A ready-to-use environment for lifecycle tests: a real registry with a pause image and a
 * busybox image, and a real berthd configured to use them. Also small CRI config builders.
 *
 *   const env = await startPodEnv();
 *   const podId = await env.runPod('p1');
 *   const id = await env.runContainer(podId, 'c1', ['sh', '-c', 'echo hi; sleep 100']);
 *   await env.cleanup();   // removes every pod it can see, stops berthd and the registry
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConflist } from '../../src/network/cni/index.js';
import { ContainerConfig, PodSandboxConfig } from '../../src/gen/runtime/v1/api.js';
import { startRegistry, type Registry } from '../fixtures/registry.js';
import { busybox, pause, publish } from '../fixtures/image-builder.js';
import { startBerthd, type Berthd } from './berthd.js';
import type { CriClients } from './cri-client.js';

export interface PodEnv {
  /** The test's own CNI network: bridge, network name, subnet. */
  net: { bridge: string; name: string; subnet: string };
  reg: Registry;
  d: Berthd;
  cri: CriClients;
  image: string;
  pauseImage: string;
  podConfig(name: string, extra?: Partial<PodSandboxConfig>): PodSandboxConfig;
  containerConfig(name: string, command: string[], extra?: Partial<ContainerConfig>): ContainerConfig;
  runPod(name: string, extra?: Partial<PodSandboxConfig>, handler?: string): Promise<string>;
  runContainer(podId: string, name: string, command: string[], extra?: Partial<ContainerConfig>): Promise<string>;
  exec(id: string, cmd: string[], timeout?: number): Promise<{ stdout: string; stderr: string; exitCode: number }>;
  cleanup(): Promise<void>;
}

/** A CNI config dir with a bridge conflist on a bridge and subnet of its own. */
export async function testNetwork(): Promise<{ confDir: string; bridge: string; name: string; subnet: string; cleanup(): Promise<void> }> {
  const tag = randomBytes(3).toString('hex');
  const bridge = `bb${tag}`;
  const name = `berth-pods-${tag}`;
  const subnet = `10.251.${1 + Math.floor(Math.random() * 250)}.0/24`;
  const confDir = await mkdtemp(join(tmpdir(), 'berth-cni-'));
  await writeFile(join(confDir, '10-test.conflist'), JSON.stringify(defaultConflist({ name, bridge, subnet })));
  return {
    confDir,
    bridge,
    name,
    subnet,
    async cleanup() {
      spawnSync('ip', ['link', 'del', bridge]);
      await rm(`/var/lib/cni/networks/${name}`, { recursive: true, force: true });
      await rm(confDir, { recursive: true, force: true });
    },
  };
}

export async function startPodEnv(opts: { config?: Record<string, unknown> } = {}): Promise<PodEnv> {
  const net = await testNetwork();
  const reg = await startRegistry();
  const target = { url: reg.url };
  await publish(target, 'test/pause:1', pause());
  await publish(target, 'test/busybox:1', busybox());
  const image = `${reg.host}/test/busybox:1`;
  const pauseImage = `${reg.host}/test/pause:1`;
  const d = await startBerthd({ sandboxImage: pauseImage, registry: { insecure: [reg.host] }, cni: { confDir: net.confDir }, ...opts.config });
  const cri = d.clients();
  await cri.image.pullImage({ image: { image, annotations: {}, userSpecifiedImage: '', runtimeHandler: '', imageRef: '' }, auth: undefined, sandboxConfig: undefined });
  const logDir = `${d.dir}/logs`;
  const podConfig = (name: string, extra: Partial<PodSandboxConfig> = {}) =>
    PodSandboxConfig.fromPartial({
      metadata: { name, namespace: 'test', uid: randomBytes(6).toString('hex'), attempt: 0 },
      hostname: name,
      logDirectory: `${logDir}/${name}`,
      ...extra,
    });
  const containerConfig = (name: string, command: string[], extra: Partial<ContainerConfig> = {}) =>
    ContainerConfig.fromPartial({ metadata: { name, attempt: 0 }, image: { image }, command, logPath: `${name}.log`, ...extra });
  const env: PodEnv = {
    net: { bridge: net.bridge, name: net.name, subnet: net.subnet },
    reg,
    d,
    cri,
    image,
    pauseImage,
    podConfig,
    containerConfig,
    async runPod(name, extra = {}, handler = '') {
      const r = await cri.runtime.runPodSandbox({ config: podConfig(name, extra), runtimeHandler: handler });
      return r.podSandboxId;
    },
    async runContainer(podId, name, command, extra = {}) {
      const pod = await cri.runtime.podSandboxStatus({ podSandboxId: podId, verbose: true });
      const sandboxConfig = JSON.parse(pod.info.info!).config;
      const { containerId } = await cri.runtime.createContainer({
        podSandboxId: podId,
        config: containerConfig(name, command, extra),
        sandboxConfig: PodSandboxConfig.fromJSON(sandboxConfig),
      });
      await cri.runtime.startContainer({ containerId });
      return containerId;
    },
    async exec(id, cmd, timeout = 10) {
      const r = await cri.runtime.execSync({ containerId: id, cmd, timeout: BigInt(timeout) });
      return { stdout: Buffer.from(r.stdout).toString(), stderr: Buffer.from(r.stderr).toString(), exitCode: r.exitCode };
    },
    async cleanup() {
      try {
        if (d.proc.exitCode === null && d.proc.signalCode === null) {
          const pods = await cri.runtime.listPodSandbox({ filter: undefined });
          for (const p of pods.items) {
            await cri.runtime.stopPodSandbox({ podSandboxId: p.id }).catch(() => {});
            await cri.runtime.removePodSandbox({ podSandboxId: p.id }).catch(() => {});
          }
        }
      } finally {
        await d.cleanup();
        await reg.stop();
        await net.cleanup();
      }
    },
  };
  return env;
}

/** Poll `fn` until it returns a truthy value or `ms` pass. */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, ms = 10_000, step = 100): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, step));
  }
}
