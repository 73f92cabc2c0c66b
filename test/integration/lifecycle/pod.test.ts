/**
 * Pods and containers on the real containerd-shim-runc-v2 + runc, driven over berthd's
 * CRI socket: namespaces, users, capabilities, seccomp, exit codes, OOM, logs, exec.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rename } from 'node:fs/promises';
import { ContainerState, PodSandboxConfig, PodSandboxState } from '../../../src/gen/runtime/v1/api.js';
import { eventually, startPodEnv, type PodEnv } from '../../helpers/pod-env.js';
import { grpc, grpcError } from '../../helpers/cri-client.js';

let env: PodEnv;
beforeAll(async () => {
  env = await startPodEnv();
});
afterAll(async () => {
  await env?.cleanup();
});

const status = async (id: string) => (await env.cri.runtime.containerStatus({ containerId: id, verbose: false })).status!;
const waitExited = (id: string) => eventually(async () => ((await status(id)).state === ContainerState.CONTAINER_EXITED ? status(id) : undefined));

describe('a three-container pod', () => {
  let podId: string;
  const ids: string[] = [];
  beforeAll(async () => {
    podId = await env.runPod('trio');
    for (const n of ['a', 'b', 'c']) ids.push(await env.runContainer(podId, n, ['sh', '-c', 'sleep 1000']));
  });

  it('is ready and lists its containers running', async () => {
    const st = await env.cri.runtime.podSandboxStatus({ podSandboxId: podId, verbose: false });
    expect(st.status!.state).toBe(PodSandboxState.SANDBOX_READY);
    expect(st.containersStatuses.map((c) => c.state)).toEqual([1, 1, 1].map(() => ContainerState.CONTAINER_RUNNING));
    const list = await env.cri.runtime.listContainers({ filter: { id: '', podSandboxId: podId, labelSelector: {}, state: undefined } });
    expect(list.containers).toHaveLength(3);
  });

  it('shares hostname, network and IPC namespaces but not the mount namespace', async () => {
    const ns = async (id: string) => (await env.exec(id, ['sh', '-c', 'hostname; for n in net ipc uts mnt; do readlink /proc/self/ns/$n; done'])).stdout.trim().split('\n');
    const [a, b] = [await ns(ids[0]!), await ns(ids[1]!)];
    expect(a[0]).toBe('trio');
    expect(b[0]).toBe('trio');
    expect(a.slice(1, 4)).toEqual(b.slice(1, 4)); // net, ipc, uts
    expect(a[4]).toMatch(/^mnt:/);
    expect(a[4]).not.toBe(b[4]); // mnt
  });

  it('sees the pod-owned /etc/hostname, /etc/hosts, /etc/resolv.conf and a per-pod /dev/shm', async () => {
    const r = await env.exec(ids[0]!, ['sh', '-c', 'cat /etc/hostname; grep -c localhost /etc/hosts; echo x > /dev/shm/f']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('trio');
    expect((await env.exec(ids[1]!, ['cat', '/dev/shm/f'])).stdout).toBe('x\n');
  });

  it('filters lists by id prefix, state and labels', async () => {
    const byPrefix = await env.cri.runtime.listContainers({ filter: { id: ids[0]!.slice(0, 12), podSandboxId: '', labelSelector: {}, state: undefined } });
    expect(byPrefix.containers.map((c) => c.id)).toEqual([ids[0]]);
    const exited = await env.cri.runtime.listContainers({ filter: { id: '', podSandboxId: podId, labelSelector: {}, state: { state: ContainerState.CONTAINER_EXITED } } });
    expect(exited.containers).toHaveLength(0);
    const pods = await env.cri.runtime.listPodSandbox({ filter: { id: '', labelSelector: { nope: 'x' }, state: undefined } });
    expect(pods.items).toHaveLength(0);
  });

  it('stops and removes cleanly; stop and remove are idempotent', async () => {
    await env.cri.runtime.stopPodSandbox({ podSandboxId: podId });
    await env.cri.runtime.stopPodSandbox({ podSandboxId: podId });
    const st = await env.cri.runtime.podSandboxStatus({ podSandboxId: podId, verbose: false });
    expect(st.status!.state).toBe(PodSandboxState.SANDBOX_NOTREADY);
    for (const c of st.containersStatuses) expect(c.state).toBe(ContainerState.CONTAINER_EXITED);
    await env.cri.runtime.removePodSandbox({ podSandboxId: podId });
    await env.cri.runtime.removePodSandbox({ podSandboxId: podId });
    const err = await grpcError(env.cri.runtime.podSandboxStatus({ podSandboxId: podId, verbose: false }));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect((await env.cri.runtime.listContainers({ filter: undefined })).containers.filter((c) => c.podSandboxId === podId)).toHaveLength(0);
  });
});

describe('process settings', () => {
  let podId: string;
  beforeAll(async () => {
    podId = await env.runPod('proc');
  });

  it('runs as run_as_user with the image groups and supplemental groups', async () => {
    const id = await env.runContainer(podId, 'user', ['sleep', '1000'], {
      linux: { securityContext: { runAsUser: { value: 1000n }, supplementalGroups: [4242n] } } as never,
    });
    expect((await env.exec(id, ['id'])).stdout.trim()).toBe('uid=1000(app) gid=1000(app) groups=1000(app),4242');
  });

  it('applies capability drops and the default seccomp profile', async () => {
    const id = await env.runContainer(podId, 'caps', ['sleep', '1000'], {
      linux: { securityContext: { capabilities: { dropCapabilities: ['CHOWN'], addCapabilities: [], addAmbientCapabilities: [] }, seccomp: { profileType: 0, localhostRef: '' } } } as never,
    });
    const capEff = (await env.exec(id, ['grep', 'CapEff', '/proc/self/status'])).stdout.trim().split(/\s+/)[1]!;
    expect(BigInt(`0x${capEff}`) & 1n).toBe(0n); // CAP_CHOWN is bit 0
    expect(BigInt(`0x${capEff}`) & (1n << 5n)).toBe(1n << 5n); // CAP_KILL kept
    const seccomp = await env.exec(id, ['grep', 'Seccomp:', '/proc/self/status']);
    expect(seccomp.stdout).toMatch(/Seccomp:\s+2/);
    const blocked = await env.exec(id, ['/bin/busybox', 'unshare', '-U', 'true']);
    expect(blocked.exitCode).not.toBe(0);
    expect(blocked.stderr).toMatch(/Operation not permitted/);
  });

  it('reports exit codes with Completed / Error reasons', async () => {
    const ok = await env.runContainer(podId, 'ok', ['true']);
    const bad = await env.runContainer(podId, 'bad', ['sh', '-c', 'exit 3']);
    expect((await waitExited(ok)).reason).toBe('Completed');
    const b = await waitExited(bad);
    expect(b.exitCode).toBe(3);
    expect(b.reason).toBe('Error');
    expect(b.finishedAt).toBeGreaterThanOrEqual(b.startedAt);
    expect(b.startedAt).toBeGreaterThan(0n);
  });

  it('reports an OOM kill as OOMKilled', async () => {
    const id = await env.runContainer(podId, 'oom', ['sh', '-c', 'x=a; while true; do x=$x$x; done'], {
      linux: { resources: { memoryLimitInBytes: 16n * 1024n * 1024n } } as never,
    });
    const st = await eventually(async () => {
      const s = await status(id);
      return s.state === ContainerState.CONTAINER_EXITED ? s : undefined;
    }, 30_000);
    expect(st.reason).toBe('OOMKilled');
    expect(st.exitCode).toBe(137);
  });

  it('ExecSync returns output and exit code, and honours the timeout', async () => {
    const id = await env.runContainer(podId, 'exec', ['sleep', '1000']);
    const r = await env.exec(id, ['sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r).toEqual({ stdout: 'out\n', stderr: 'err\n', exitCode: 7 });
    const t0 = Date.now();
    const err = await grpcError(env.cri.runtime.execSync({ containerId: id, cmd: ['sleep', '30'], timeout: 1n }));
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect((await status(id)).state).toBe(ContainerState.CONTAINER_RUNNING); // the container survives
  });

  it('StopContainer sends the stop signal and falls back to SIGKILL after the timeout', async () => {
    const graceful = await env.runContainer(podId, 'graceful', ['sh', '-c', "trap 'exit 0' TERM; while :; do sleep 1; done"]);
    await env.cri.runtime.stopContainer({ containerId: graceful, timeout: 10n });
    expect((await status(graceful)).exitCode).toBe(0);
    const stubborn = await env.runContainer(podId, 'stubborn', ['sh', '-c', "trap '' TERM; while :; do sleep 1; done"]);
    await env.cri.runtime.stopContainer({ containerId: stubborn, timeout: 1n });
    expect((await status(stubborn)).exitCode).toBe(137);
  });
});

describe('logs', () => {
  it('writes CRI-format lines, splits long lines, and follows a rotation on ReopenContainerLog', async () => {
    const podId = await env.runPod('logs');
    const id = await env.runContainer(podId, 'logger', [
      'sh',
      '-c',
      'echo one; echo two >&2; head -c 20000 /dev/zero | tr "\\0" x; echo; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo three',
    ]);
    const path = (await status(id)).logPath;
    const lines = await eventually(async () => {
      const l = (await readFile(path, 'utf8')).split('\n').filter(Boolean);
      return l.length >= 4 ? l : undefined;
    });
    const body = lines.map((l) => l.replace(/^\S+ /, ''));
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) [PF] /);
    expect(body).toContain('stdout F one');
    expect(body).toContain('stderr F two');
    expect(body.find((l) => l.startsWith('stdout P '))!.length).toBe('stdout P '.length + 16384);
    await rename(path, `${path}.1`);
    await env.cri.runtime.reopenContainerLog({ containerId: id });
    await env.exec(id, ['touch', '/tmp/go']);
    await waitExited(id);
    expect((await readFile(path, 'utf8')).trim()).toMatch(/stdout F three$/);
  });
});

describe('bad input', () => {
  it('answers unknown ids with NOT_FOUND and missing ids with INVALID_ARGUMENT', async () => {
    expect((await grpcError(env.cri.runtime.containerStatus({ containerId: 'f'.repeat(64), verbose: false }))).code).toBe(grpc.status.NOT_FOUND);
    expect((await grpcError(env.cri.runtime.startContainer({ containerId: 'nope' }))).code).toBe(grpc.status.NOT_FOUND);
    expect((await grpcError(env.cri.runtime.podSandboxStatus({ podSandboxId: '', verbose: false }))).code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('refuses an unknown runtime handler, listing the configured ones', async () => {
    const err = await grpcError(env.runPod('h', {}, 'nosuch'));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/unknown runtime handler "nosuch".*runc, crun/);
  });

  it('refuses the same pod metadata twice, naming the holder', async () => {
    const cfg = env.podConfig('twice');
    const first = await env.cri.runtime.runPodSandbox({ config: cfg, runtimeHandler: '' });
    const err = await grpcError(env.cri.runtime.runPodSandbox({ config: cfg, runtimeHandler: '' }));
    expect(err.code).toBe(grpc.status.ALREADY_EXISTS);
    expect(err.details).toContain(first.podSandboxId);
  });

  it('refuses containers in a pod that is not ready, escaping log paths and unknown images', async () => {
    const podId = await env.runPod('bad');
    const pod = await env.cri.runtime.podSandboxStatus({ podSandboxId: podId, verbose: true });
    const sandboxConfig = PodSandboxConfig.fromJSON(JSON.parse(pod.info.info!).config);
    const escape = await grpcError(env.cri.runtime.createContainer({ podSandboxId: podId, config: env.containerConfig('esc', ['true'], { logPath: '../../etc/x' }), sandboxConfig }));
    expect(escape.code).toBe(grpc.status.INVALID_ARGUMENT);
    const noImage = await grpcError(
      env.cri.runtime.createContainer({ podSandboxId: podId, config: env.containerConfig('img', ['true'], { image: { image: 'nope/nothing:1' } as never }), sandboxConfig }),
    );
    expect(noImage.code).toBe(grpc.status.NOT_FOUND);
    await env.cri.runtime.stopPodSandbox({ podSandboxId: podId });
    const notReady = await grpcError(env.cri.runtime.createContainer({ podSandboxId: podId, config: env.containerConfig('late', ['true']), sandboxConfig }));
    expect(notReady.code).toBe(grpc.status.FAILED_PRECONDITION);
  });

  it('is safe under concurrent stop and remove of the same pod', async () => {
    const podId = await env.runPod('race');
    await env.runContainer(podId, 'r', ['sleep', '1000']);
    await Promise.all([
      env.cri.runtime.stopPodSandbox({ podSandboxId: podId }),
      env.cri.runtime.removePodSandbox({ podSandboxId: podId }),
      env.cri.runtime.stopPodSandbox({ podSandboxId: podId }),
      env.cri.runtime.removePodSandbox({ podSandboxId: podId }),
    ]);
    expect((await env.cri.runtime.listPodSandbox({ filter: undefined })).items.find((p) => p.id === podId)).toBeUndefined();
  });
});
