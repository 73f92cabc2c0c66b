/**
 * A whole pod lifecycle over berthd's real socket, once as a kubelet 1.20-1.25 drives it
 * (runtime.v1alpha2) and once as a current kubelet does (runtime.v1), both sending the socket
 * path as `:authority` like old clients: image pull, pod, container, exec-sync, log file,
 * stats, stop, remove, plus Version / Status / ImageFsInfo in the shape each package has.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v1 from '../../../src/gen/runtime/v1/api.js';
import { ContainerState, PodSandboxState } from '../../../src/gen/runtime/v1alpha2/api.js';
import { eventually, startPodEnv, type PodEnv } from '../../helpers/pod-env.js';
import { grpc, grpcError } from '../../helpers/cri-client.js';
import { apiClients, type Api, type ApiClients } from './api-clients.js';

/** Memory limit and CFS quota as the container sees them, on cgroup v1 or v2. */
const LIMITS = [
  'if [ -f /sys/fs/cgroup/memory.max ]; then cat /sys/fs/cgroup/memory.max; read q p < /sys/fs/cgroup/cpu.max; echo $q;',
  'else cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us; fi',
].join(' ');

let env: PodEnv;
beforeAll(async () => {
  env = await startPodEnv();
});
afterAll(async () => {
  await env?.cleanup();
});

describe.each<Api>(['v1alpha2', 'v1'])('CRI %s', (api) => {
  let c: ApiClients;
  let podId = '';
  let ctrId = '';
  const name = `life-${api}`;
  beforeAll(() => {
    c = apiClients(api, env.d.socket);
  });
  afterAll(() => c?.close());

  it(`answers Version with runtime_api_version ${api}`, async () => {
    const v = await c.runtime.version({ version: '0.1.0' });
    expect(v).toMatchObject({ version: '0.1.0', runtimeName: 'berth', runtimeApiVersion: api });
    expect(v.runtimeVersion).not.toBe('');
  });

  it('answers Status ready; v1-only fields are not on the v1alpha2 wire', async () => {
    const st = await c.runtime.status({ verbose: true });
    const cond = Object.fromEntries(st.status!.conditions.map((x) => [x.type, x.status]));
    expect(cond).toEqual({ RuntimeReady: true, NetworkReady: true });
    expect(JSON.parse(st.info.config!)).toHaveProperty('listen');
    // Read the raw answer as v1: runtime_handlers is there on v1 only.
    const raw = v1.StatusResponse.decode(await c.raw('RuntimeService', 'Status'));
    expect(raw.runtimeHandlers.map((h) => h.name).includes('runc')).toBe(api === 'v1');
  });

  it('serves only its own package: v1-only RPCs are unimplemented on v1alpha2', async () => {
    const p = c.raw('RuntimeService', 'RuntimeConfig');
    if (api === 'v1') expect(v1.RuntimeConfigResponse.decode(await p).linux?.cgroupDriver).toBeDefined();
    else expect((await grpcError(p)).code).toBe(grpc.status.UNIMPLEMENTED);
  });

  it('removes, pulls and finds the image', async () => {
    await c.image.removeImage({ image: { image: env.image } });
    expect((await c.image.imageStatus({ image: { image: env.image } })).image).toBeUndefined();
    const { imageRef } = await c.image.pullImage({ image: { image: env.image } });
    expect(imageRef).toMatch(/^sha256:[0-9a-f]{64}$/);
    const st = await c.image.imageStatus({ image: { image: env.image }, verbose: true });
    expect(st.image).toMatchObject({ id: imageRef, repoTags: [env.image] });
    expect(JSON.parse(st.info.info!).id).toBe(imageRef);
    const list = await c.image.listImages({});
    expect(list.images.map((i) => i.id)).toContain(imageRef);
  });

  it('answers ImageFsInfo with the image filesystem usage (container filesystems on v1 only)', async () => {
    const fs = await c.image.imageFsInfo({});
    expect(fs.imageFilesystems).toHaveLength(1);
    expect(fs.imageFilesystems[0]!.fsId!.mountpoint).toMatch(/^\//);
    expect(fs.imageFilesystems[0]!.usedBytes!.value).toBeGreaterThan(0n);
    expect(fs.imageFilesystems[0]!.timestamp).toBeGreaterThan(0n);
    const raw = v1.ImageFsInfoResponse.decode(await c.raw('ImageService', 'ImageFsInfo'));
    expect(raw.imageFilesystems).toHaveLength(1);
    if (api === 'v1alpha2') expect(raw.containerFilesystems).toEqual([]);
  });

  it('runs a pod and a container in it', async () => {
    const config = env.podConfig(name);
    podId = (await c.runtime.runPodSandbox({ config })).podSandboxId;
    const pod = await c.runtime.podSandboxStatus({ podSandboxId: podId });
    expect(pod.status).toMatchObject({ id: podId, state: PodSandboxState.SANDBOX_READY, metadata: { name } });
    expect(pod.status!.network!.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const { containerId } = await c.runtime.createContainer({
      podSandboxId: podId,
      config: {
        ...env.containerConfig('main', ['sh', '-c', `echo hello-from-${api}; exec sleep 1000`]),
        // KeyValue.value is a string in v1alpha2, bytes in v1.
        envs: [{ key: 'GREETING', value: (api === 'v1' ? Buffer.from('grüß dich') : 'grüß dich') as string }],
        // What a kubelet sends for a container with limits.
        linux: { resources: { cpuPeriod: 100_000n, cpuQuota: 50_000n, cpuShares: 512n, memoryLimitInBytes: 64n << 20n } },
      },
      sandboxConfig: config,
    });
    ctrId = containerId;
    expect((await c.runtime.containerStatus({ containerId })).status!.state).toBe(ContainerState.CONTAINER_CREATED);
    await c.runtime.startContainer({ containerId });
    const st = (await c.runtime.containerStatus({ containerId })).status!;
    expect(st).toMatchObject({ id: ctrId, state: ContainerState.CONTAINER_RUNNING, image: { image: env.image }, logPath: join(config.logDirectory, 'main.log') });
    expect(st.resources?.linux).toMatchObject({ cpuQuota: 50_000n, memoryLimitInBytes: 64n << 20n });
    const listed = await c.runtime.listContainers({ filter: { podSandboxId: podId } });
    expect(listed.containers.map((x) => [x.id, x.state])).toEqual([[ctrId, ContainerState.CONTAINER_RUNNING]]);
    expect((await c.runtime.listPodSandbox({ filter: { id: podId } })).items.map((p) => p.id)).toEqual([podId]);
  });

  it('runs ExecSync in the container (env and limits from the request, exit codes)', async () => {
    const ok = await c.runtime.execSync({ containerId: ctrId, cmd: ['sh', '-c', 'echo "$GREETING"; hostname; echo err >&2'], timeout: 10n });
    expect(Buffer.from(ok.stdout).toString()).toBe(`grüß dich\n${name}\n`);
    expect(Buffer.from(ok.stderr).toString()).toBe('err\n');
    expect(ok.exitCode).toBe(0);
    const bad = await c.runtime.execSync({ containerId: ctrId, cmd: ['sh', '-c', 'exit 3'], timeout: 10n });
    expect(bad.exitCode).toBe(3);
    const limits = await c.runtime.execSync({ containerId: ctrId, cmd: ['sh', '-c', LIMITS], timeout: 10n });
    expect(Buffer.from(limits.stdout).toString()).toBe(`${64 << 20}\n50000\n`);
    const url = await c.runtime.exec({ containerId: ctrId, cmd: ['true'], stdout: true });
    expect(url.url).toMatch(/^https?:\/\//);
  });

  it('writes the container log file in the CRI format', async () => {
    const path = (await c.runtime.containerStatus({ containerId: ctrId })).status!.logPath;
    const log = await eventually(async () => {
      const text = await readFile(path, 'utf8').catch(() => '');
      return text.includes(`hello-from-${api}`) ? text : undefined;
    });
    expect(log).toMatch(new RegExp(`^\\S+ stdout F hello-from-${api}$`, 'm'));
  });

  it('reports container and pod stats: memory, writable layer, pod and list variants', async () => {
    const s = await eventually(async () => {
      const r = (await c.runtime.containerStats({ containerId: ctrId })).stats!;
      return (r.memory?.workingSetBytes?.value ?? 0n) > 0n ? r : undefined;
    });
    expect(s.attributes).toMatchObject({ id: ctrId, metadata: { name: 'main' } });
    expect(s.memory!.timestamp).toBeGreaterThan(0n);
    expect(s.writableLayer!.fsId!.mountpoint).toMatch(/^\//);
    expect(s.writableLayer!.usedBytes!.value).toBeGreaterThan(0n);
    const list = await c.runtime.listContainerStats({ filter: { podSandboxId: podId } });
    expect(list.stats.map((x) => x.attributes!.id)).toEqual([ctrId]);
    const pod = (await c.runtime.podSandboxStats({ podSandboxId: podId })).stats!;
    expect(pod.attributes!.id).toBe(podId);
    expect(pod.linux!.containers.map((x) => x.attributes!.id)).toEqual([ctrId]);
    expect((await c.runtime.listPodSandboxStats({ filter: { id: podId } })).stats.map((x) => x.attributes!.id)).toEqual([podId]);
  });

  it('reports container CPU usage', async () => {
    await c.runtime.execSync({ containerId: ctrId, cmd: ['sh', '-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'], timeout: 30n });
    const cpu = await eventually(async () => {
      const r = (await c.runtime.containerStats({ containerId: ctrId })).stats!.cpu;
      return r?.usageCoreNanoSeconds ? r : undefined;
    });
    expect(cpu.usageCoreNanoSeconds!.value).toBeGreaterThan(0n);
    expect(cpu.timestamp).toBeGreaterThan(0n);
  });

  it('stops and removes the container and the pod', async () => {
    await c.runtime.stopContainer({ containerId: ctrId, timeout: 1n });
    const st = (await c.runtime.containerStatus({ containerId: ctrId })).status!;
    expect(st.state).toBe(ContainerState.CONTAINER_EXITED);
    expect(st.finishedAt).toBeGreaterThanOrEqual(st.startedAt);
    await c.runtime.removeContainer({ containerId: ctrId });
    expect((await grpcError(c.runtime.containerStatus({ containerId: ctrId }))).code).toBe(grpc.status.NOT_FOUND);
    await c.runtime.stopPodSandbox({ podSandboxId: podId });
    expect((await c.runtime.podSandboxStatus({ podSandboxId: podId })).status!.state).toBe(PodSandboxState.SANDBOX_NOTREADY);
    await c.runtime.removePodSandbox({ podSandboxId: podId });
    expect((await grpcError(c.runtime.podSandboxStatus({ podSandboxId: podId }))).code).toBe(grpc.status.NOT_FOUND);
    expect((await c.runtime.listPodSandbox({})).items.map((p) => p.id)).not.toContain(podId);
  });
});
