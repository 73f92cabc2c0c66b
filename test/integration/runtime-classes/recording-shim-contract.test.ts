/**
 * CONTRACT TESTS with a MOCK shim. Kata cannot run on this host, so a recording shim (a
 * small ttrpc server of ours launched exactly like a real shim binary: `start` prints an
 * address and leaves a server running; see test/helpers/recording-shim.ts) stands in for
 * containerd-shim-kata-v2 behind a real berthd, and these tests check what berthd sends a
 * Kata or CoCo shim: start flags and options (runtimeoptions ConfigPath), the sandbox and
 * container annotations Kata reads (sizing with overhead, identity, image name, allowlisted
 * io.katacontainers.*), rootfs mounts (shared into the guest) or none (guest pull), the
 * image reference the guest pulls, initdata and the agent policy. What the shim does with
 * them is Kata's contract, not tested here.
 *
 * Guest pull, image side ("no double pull"): PullImage for the CoCo handler stores only the
 * image's manifest and config on the host (checked on berthd's store directories), a CoCo pod
 * runs from that alone, and a runc pod (real runc) given such an image completes its layers.
 *
 * The handlers' Kata config fixture uses the "remote" hypervisor (peer pods), so berthd's
 * host checks pass without /dev/kvm; the CoCo handler declares tee "none".
 */
import { randomBytes } from 'node:crypto';
import { readFile, readdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskClient } from '../../../src/runtimes/shim/task-client.js';
import { TtrpcClient } from '../../../src/runtimes/shim/ttrpc/client.js';
import { statsFromShim } from '../../../src/runtimes/kata/stats.js';
import {
  AGENT_POLICY_ANNOTATION,
  INITDATA_ANNOTATION,
  buildInitdata,
  decodeInitdata,
  encodeInitdata,
  initdataToml,
  parseInitdata,
} from '../../../src/runtimes/coco/initdata.js';
import { FORCE_GUEST_PULL } from '../../../src/runtimes/kata/guest-pull.js';
import { ContainerConfig, ImageSpec } from '../../../src/gen/runtime/v1/api.js';
import { busybox, file, publish } from '../../fixtures/image-builder.js';
import { grpc, grpcError } from '../../helpers/cri-client.js';
import { eventually, startPodEnv, type PodEnv } from '../../helpers/pod-env.js';
import { createsOf, installRecordingShim, type RecordingShim, type ShimRecord } from '../../helpers/recording-shim-harness.js';

const POLICY = 'package agent_policy\n\ndefault CreateContainerRequest := true\ndefault ExecProcessRequest := false\n';
const MiB = 1024n * 1024n;

let shim: RecordingShim;
let fixtures: string;
let env: PodEnv;
let configPath: string;

beforeAll(async () => {
  shim = await installRecordingShim();
  fixtures = await mkdtemp(join(tmpdir(), 'berth-kata-fixture-'));
  configPath = join(fixtures, 'configuration-remote.toml');
  await writeFile(
    configPath,
    '[hypervisor.remote]\nremote_hypervisor_socket = "/run/peerpod/hypervisor.sock"\nenable_annotations = ["default_vcpus", "default_memory", "cc_init_data"]\n[runtime]\nexperimental_force_guest_pull = false\n',
  );
  await writeFile(join(fixtures, 'policy.rego'), POLICY);
  const vm = {
    shim: shim.binary,
    configPath,
    podAnnotations: ['io.katacontainers.*'],
    containerAnnotations: ['io.kubernetes.container.terminationMessage*'],
    privilegedWithoutHostDevices: true,
  };
  env = await startPodEnv({
    config: {
      runtimes: {
        handlers: {
          'kata-recorded': { type: 'kata', ...vm },
          'coco-recorded': { type: 'coco', tee: 'none', ...vm, coco: { kbsUrl: 'http://kbs.test:8080', policyPath: join(fixtures, 'policy.rego'), initdataAlgorithm: 'sha384' } },
        },
      },
    },
  });
});

afterAll(async () => {
  try {
    await env?.cleanup();
  } finally {
    await shim?.cleanup();
    if (fixtures) await rm(fixtures, { recursive: true, force: true });
  }
});

const records = () => shim.records();
const onlyCreate = async (id: string): Promise<ShimRecord> => {
  const c = createsOf(await records(), id);
  expect(c).toHaveLength(1);
  return c[0]!;
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// First in the file: the sandbox image is not on the host yet (the Kata pods below pull it).
describe('Guest pull, image side (recording shim for CoCo, real runc for host pods)', () => {
  type Published = Awaited<ReturnType<typeof publish>>;
  let guest: Published;
  let shared: Published;
  const guestRef = () => `${env.reg.host}/test/guest:1`;
  const sharedRef = () => `${env.reg.host}/test/shared:1`;
  const spec = (image: string, runtimeHandler = '') => ImageSpec.fromPartial({ image, runtimeHandler });
  const store = (...p: string[]) => join(env.d.root, 'images', ...p);
  const names = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).sort();
  const hex = (d: string) => d.slice(7);
  const status = async (image: string, runtimeHandler = '') => env.cri.image.imageStatus({ image: spec(image, runtimeHandler), verbose: true });
  const hostLayersOf = async (image: string) => (JSON.parse((await status(image)).info.info!) as { hostLayers: boolean }).hostLayers;

  beforeAll(async () => {
    // An image no host-pull pod ever uses: its one layer exists only in the registry.
    guest = await publish(env.reg, 'test/guest:1', { layers: [{ entries: [file('/hello', randomBytes(20_000))] }], config: { User: '1000', Env: ['GUEST=1'], Entrypoint: ['/hello'] } });
    shared = await publish(env.reg, 'test/shared:1', busybox({ layers: [{ entries: [file('/marker', 'completed on demand\n')] }] }));
  });

  it('PullImage with image.runtime_handler = the CoCo handler stores the manifest and config only', async () => {
    const { imageRef } = await env.cri.image.pullImage({ image: spec(guestRef(), 'coco-recorded'), auth: undefined, sandboxConfig: undefined });
    expect(imageRef).toBe(guest.imageId);
    const blobs = await names(store('content/blobs/sha256'));
    expect(blobs).toEqual(expect.arrayContaining([hex(guest.digest), hex(guest.imageId)]));
    expect(blobs).not.toContain(hex(guest.image.layers[0]!.digest));
    expect(await names(store('snapshots'))).not.toContain(hex(guest.image.layers[0]!.diffId)); // chain id of a bottom layer
    // Present, with the size the registry serves, for the guest handler and for a host one.
    const size = BigInt(guest.image.manifest.size + guest.image.config.size + guest.image.layers[0]!.size);
    for (const handler of ['coco-recorded', 'runc']) {
      const st = await status(guestRef(), handler);
      expect(st.image).toMatchObject({ id: guest.imageId, size, repoTags: [guestRef()], uid: { value: 1000n }, spec: { image: guest.imageId, runtimeHandler: handler } });
    }
    expect(await hostLayersOf(guestRef())).toBe(false);
    const listed = await env.cri.image.listImages({ filter: undefined });
    expect(listed.images.find((i) => i.id === guest.imageId)?.size).toBe(size);
  });

  it('a CoCo pod runs it from the metadata alone: the guest gets the digest reference, the host no layer (no double pull)', async () => {
    expect((await status(env.pauseImage)).image, 'the sandbox image must not be present before this test').toBeUndefined();
    const podId = await env.runPod('gp-coco', {}, 'coco-recorded');
    const ctrId = await env.runContainer(podId, 'hello', [], { image: { image: guestRef() } } as Partial<ContainerConfig>);
    const ctr = await onlyCreate(ctrId);
    expect(ctr.request!.rootfs).toEqual([]);
    expect(ctr.spec!.annotations!['io.kubernetes.cri.image-name']).toBe(`${env.reg.host}/test/guest@${guest.digest}`);
    // The process comes from the config resolved on the host.
    expect(ctr.spec!.process!.args).toEqual(['/hello']);
    expect(ctr.spec!.process!.user).toMatchObject({ uid: 1000 });
    expect(ctr.spec!.process!.env).toContain('GUEST=1');
    expect(await names(store('content/blobs/sha256'))).not.toContain(hex(guest.image.layers[0]!.digest));
    expect(await names(store('snapshots'))).not.toContain(hex(guest.image.layers[0]!.diffId));
    expect(await hostLayersOf(guestRef())).toBe(false);
    // The sandbox image was needed for its config only: pulled metadata-only, pinned.
    expect((await status(env.pauseImage)).image?.pinned).toBe(true);
    expect(await hostLayersOf(env.pauseImage)).toBe(false);
  });

  it('a runc pod given a metadata-only image completes its layers (and the sandbox image\'s) and runs it', async () => {
    await env.cri.image.pullImage({ image: spec(sharedRef(), 'coco-recorded'), auth: undefined, sandboxConfig: undefined });
    const top = hex(shared.image.layers[1]!.digest);
    expect(await names(store('content/blobs/sha256'))).not.toContain(top);
    expect(await hostLayersOf(sharedRef())).toBe(false);
    const podId = await env.runPod('gp-runc');
    try {
      expect(await hostLayersOf(env.pauseImage)).toBe(true);
      const ctrId = await env.runContainer(podId, 'app', ['sleep', '1000'], { image: { image: sharedRef() } } as Partial<ContainerConfig>);
      const out = await env.exec(ctrId, ['cat', '/marker']);
      expect(out).toMatchObject({ stdout: 'completed on demand\n', exitCode: 0 });
      expect(await hostLayersOf(sharedRef())).toBe(true);
      expect(await names(store('content/blobs/sha256'))).toContain(top);
    } finally {
      // The tests below look only at pods of the recording shim.
      await env.cri.runtime.stopPodSandbox({ podSandboxId: podId });
      await env.cri.runtime.removePodSandbox({ podSandboxId: podId });
    }
  });

  it('refuses an unknown image.runtime_handler with INVALID_ARGUMENT listing the configured handlers', async () => {
    const err = await grpcError(env.cri.image.pullImage({ image: spec(guestRef(), 'nope'), auth: undefined, sandboxConfig: undefined }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/^PullImage: unknown runtime handler "nope" in image\.runtime_handler; configured handlers: .*\bruntimes\.handlers\b/);
    for (const h of ['runc', 'kata-recorded', 'coco-recorded']) expect(err.details).toContain(h);
    expect((await grpcError(status(guestRef(), 'nope'))).code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});

describe('Kata handler (recording shim, mock)', () => {
  let podId: string;
  let ctrId: string;
  beforeAll(async () => {
    const config = env.podConfig('vm-pod', {
      annotations: { 'io.katacontainers.config.hypervisor.default_vcpus': '2', 'example.com/not-allowlisted': 'x' },
      linux: {
        resources: { cpuPeriod: 100_000n, cpuQuota: 150_000n, cpuShares: 1536n, memoryLimitInBytes: 512n * MiB },
        overhead: { cpuPeriod: 100_000n, cpuQuota: 25_000n, memoryLimitInBytes: 160n * MiB },
      },
    } as unknown as Parameters<PodEnv['podConfig']>[1]);
    podId = (await env.cri.runtime.runPodSandbox({ config, runtimeHandler: 'kata-recorded' })).podSandboxId;
    // Created directly (env.runContainer reads the pod config back from the verbose status).
    const { containerId } = await env.cri.runtime.createContainer({
      podSandboxId: podId,
      config: env.containerConfig('app', ['sleep', '1000'], {
        annotations: { 'io.kubernetes.container.terminationMessagePath': '/dev/termination-log', 'example.com/other': 'y' },
      }),
      sandboxConfig: config,
    });
    await env.cri.runtime.startContainer({ containerId });
    ctrId = containerId;
  });

  it('starts the shim like containerd: namespace, address, events socket, runtimeoptions with the config path', async () => {
    const starts = (await records()).filter((r) => r.kind === 'start');
    const sandboxStart = starts.find((s) => s.flags?.id === podId)!;
    expect(sandboxStart.flags).toMatchObject({ namespace: 'k8s.io', address: env.d.socket, id: podId });
    expect(sandboxStart.cwd).toBe(join(env.d.state, 'bundles', podId));
    expect((sandboxStart as ShimRecord & { ttrpcAddress: string }).ttrpcAddress).toBe(join(env.d.state, 'events.sock'));
    expect(sandboxStart.options).toEqual({ typeUrl: 'runtimeoptions.v1.Options', configPath, typeUrlField: '' });
    expect(sandboxStart).toMatchObject({ group: podId, reused: false });
    // One shim per pod: the container's task is created in the pod's shim (berthd does not run
    // `start` again for it; a real Kata shim would answer such a start with the same socket).
    expect((await onlyCreate(ctrId)).group).toBe(podId);
    expect(starts.filter((s) => s.flags?.id === ctrId && !s.reused)).toEqual([]);
  });

  it('sends the sandbox its size (resources + overhead), identity and allowlisted annotations only', async () => {
    const c = await onlyCreate(podId);
    expect(c.request!.options).toEqual({ typeUrl: 'runtimeoptions.v1.Options', configPath, typeUrlField: '' });
    const a = c.spec!.annotations!;
    expect(a).toMatchObject({
      'io.kubernetes.cri.container-type': 'sandbox',
      'io.kubernetes.cri.sandbox-id': podId,
      'io.kubernetes.cri.sandbox-name': 'vm-pod',
      'io.kubernetes.cri.sandbox-namespace': 'test',
      'io.kubernetes.cri.sandbox-cpu-period': '100000',
      'io.kubernetes.cri.sandbox-cpu-quota': '175000',
      'io.kubernetes.cri.sandbox-cpu-shares': '1536',
      'io.kubernetes.cri.sandbox-memory': String(672n * MiB),
      'io.katacontainers.config.hypervisor.default_vcpus': '2',
    });
    expect(a['io.kubernetes.cri.sandbox-uid']).toMatch(/^[0-9a-f]{12}$/);
    expect(a).not.toHaveProperty('example.com/not-allowlisted');
    expect(a).not.toHaveProperty(FORCE_GUEST_PULL);
    expect(a).not.toHaveProperty(INITDATA_ANNOTATION);
  });

  it('passes rootfs mounts for the shim to share into the guest (host-unpacked layers + writable upper)', async () => {
    const sandboxMounts = (await onlyCreate(podId)).request!.rootfs as { type: string; options: string[] }[];
    expect(sandboxMounts).toHaveLength(1);
    expect(sandboxMounts[0]!.type).toBe('overlay');
    const c = await onlyCreate(ctrId);
    const mounts = c.request!.rootfs as { type: string; source: string; options: string[] }[];
    expect(mounts).toHaveLength(1);
    expect(mounts[0]).toMatchObject({ type: 'overlay', source: 'overlay' });
    const opt = (k: string) => mounts[0]!.options.find((o) => o.startsWith(`${k}=`))!.slice(k.length + 1);
    expect(opt('lowerdir').split(':').length).toBeGreaterThan(0);
    expect(opt('upperdir')).toBe(join(env.d.root, 'containers', ctrId, 'rw', 'upper'));
  });

  it('sends the container its type, pod, image name and allowlisted container annotations', async () => {
    const a = (await onlyCreate(ctrId)).spec!.annotations!;
    expect(a).toMatchObject({
      'io.kubernetes.cri.container-type': 'container',
      'io.kubernetes.cri.sandbox-id': podId,
      'io.kubernetes.cri.container-name': 'app',
      'io.kubernetes.cri.image-name': env.image,
      'io.kubernetes.container.terminationMessagePath': '/dev/termination-log',
    });
    expect(a).not.toHaveProperty('example.com/other');
  });

  it('reports the pod on its handler; stats from the shim decode into cgroup stats', async () => {
    const st = await env.cri.runtime.podSandboxStatus({ podSandboxId: podId, verbose: false });
    expect(st.status!.runtimeHandler).toBe('kata-recorded');
    const server = (await records()).find((r) => r.kind === 'serve' && r.group === podId)!;
    const ttrpc = await TtrpcClient.connect(`unix://${server.socket}`, { metadata: { 'containerd-namespace-ttrpc': 'k8s.io' } });
    try {
      const s = await statsFromShim(new TaskClient(ttrpc), ctrId);
      expect(s.path).toBe(`shim:${ctrId}`);
      expect(s.cpu?.usageNs).toBe(1.5e9);
      expect(s.memory).toMatchObject({ usageBytes: 64 * 2 ** 20, workingSetBytes: 60 * 2 ** 20, limitBytes: 256 * 2 ** 20 });
    } finally {
      ttrpc.close();
    }
  });

  it('stops and removes the pod through the shim: Kill, Delete, Shutdown, and the shim exits', async () => {
    const server = (await records()).find((r) => r.kind === 'serve' && r.group === podId)!;
    expect(alive(server.pid)).toBe(true);
    await env.cri.runtime.stopPodSandbox({ podSandboxId: podId });
    await env.cri.runtime.removePodSandbox({ podSandboxId: podId });
    const methods = (await records()).filter((r) => r.kind === 'rpc' && r.group === podId).map((r) => `${r.method}:${String(r.request?.id ?? '')}`);
    expect(methods).toEqual(expect.arrayContaining([`Kill:${ctrId}`, `Delete:${ctrId}`, `Kill:${podId}`, `Delete:${podId}`, `Shutdown:${podId}`]));
    await eventually(async () => !alive(server.pid));
  });
});

describe('CoCo handler (recording shim, mock)', () => {
  it('pulls in the guest: no rootfs mounts, force_guest_pull on the sandbox, the resolved digest as image name', async () => {
    const podId = await env.runPod('cc-pod', {}, 'coco-recorded');
    const ctrId = await env.runContainer(podId, 'app', ['sleep', '1000']);
    const sandbox = await onlyCreate(podId);
    expect(sandbox.request!.rootfs).toEqual([]);
    expect(sandbox.spec!.annotations![FORCE_GUEST_PULL]).toBe('true');
    const ctr = await onlyCreate(ctrId);
    expect(ctr.request!.rootfs).toEqual([]);
    const img = await env.cri.image.imageStatus({ image: { image: env.image, annotations: {}, userSpecifiedImage: '', runtimeHandler: '', imageRef: '' }, verbose: false });
    const digestRef = img.image!.repoDigests[0]!;
    expect(digestRef).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(ctr.spec!.annotations!['io.kubernetes.cri.image-name']).toBe(digestRef);
    // The process still comes from the image config the host resolved (busybox's PATH, root).
    expect(ctr.spec!.process!.args).toEqual(['sleep', '1000']);
    expect(ctr.spec!.process!.user).toMatchObject({ uid: 0, gid: 0 });
    expect(ctr.spec!.process!.env!.some((e) => e.startsWith('PATH='))).toBe(true);
  });

  it('builds initdata from the handler settings; it round-trips (decode → the same TOML)', async () => {
    const podId = await env.runPod('cc-initdata', {}, 'coco-recorded');
    const value = (await onlyCreate(podId)).spec!.annotations![INITDATA_ANNOTATION]!;
    const toml = decodeInitdata(value);
    const d = parseInitdata(toml);
    expect(d).toEqual(buildInitdata({ kbsUrl: 'http://kbs.test:8080', policy: POLICY, algorithm: 'sha384' }));
    expect(initdataToml(d)).toBe(toml);
    expect(d.data['aa.toml']).toBe('[token_configs]\n[token_configs.kbs]\nurl = "http://kbs.test:8080"\n');
    expect(d.data['cdh.toml']).toBe('[kbc]\nname = "cc_kbc"\nurl = "http://kbs.test:8080"\n');
    expect(d.data['policy.rego']).toBe(await readFile(join(fixtures, 'policy.rego'), 'utf8'));
  });

  it("passes a pod's own initdata and agent policy through unchanged", async () => {
    const own = encodeInitdata(initdataToml(buildInitdata({ kbsUrl: 'https://kbs.tenant.example', algorithm: 'sha256' })));
    const policy = Buffer.from(POLICY).toString('base64');
    const podId = await env.runPod('cc-own', { annotations: { [INITDATA_ANNOTATION]: own, [AGENT_POLICY_ANNOTATION]: policy } }, 'coco-recorded');
    const a = (await onlyCreate(podId)).spec!.annotations!;
    expect(a[INITDATA_ANNOTATION]).toBe(own);
    expect(a[AGENT_POLICY_ANNOTATION]).toBe(policy);
  });

  it('refuses invalid initdata with INVALID_ARGUMENT before the shim is started, leaving nothing behind', async () => {
    const bad = Buffer.from('version = "0.1.0"').toString('base64');
    const err = await grpcError(env.cri.runtime.runPodSandbox({ config: env.podConfig('cc-bad', { annotations: { [INITDATA_ANNOTATION]: bad } }), runtimeHandler: 'coco-recorded' }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/^pod annotation io\.katacontainers\.config\.hypervisor\.cc_init_data is not valid initdata: is not gzip data/);
    const pods = await env.cri.runtime.listPodSandbox({ filter: undefined });
    expect(pods.items.some((p) => p.metadata!.name === 'cc-bad')).toBe(false);
    const started = (await records()).filter((r) => r.kind === 'start').map((r) => r.flags?.id);
    expect(pods.items.every((p) => p.metadata!.name === 'cc-bad' || started.includes(p.id))).toBe(true);
  });
});
