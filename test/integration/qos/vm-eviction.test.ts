/**
 * Eviction of a BE VM pod, with a MOCK shim: Kata cannot run here, so the recording shim
 * (test/helpers/recording-shim.ts) stands in for containerd-shim-kata-v2 behind a real berthd.
 * A VM pod's memory is the VM's, in its sandbox cgroup: killing a container inside the guest
 * would give the host nothing back. Under node memory pressure the whole pod is stopped — the
 * shim is told to kill and delete the container and the sandbox and to shut down — and its
 * container's status says BerthEvicted and why. A runc BE container beside it is evicted as a
 * container, as before.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerState, PodSandboxState } from '../../../src/gen/runtime/v1/api.js';
import { eventually } from '../../helpers/pod-env.js';
import { installRecordingShim, type RecordingShim } from '../../helpers/recording-shim-harness.js';
import { evictEveryBe, startQosEnv, type QosEnv } from './support.js';

let shim: RecordingShim;
let fixtures: string;
let q: QosEnv;
beforeAll(async () => {
  shim = await installRecordingShim();
  fixtures = await mkdtemp(join(tmpdir(), 'berth-kata-fixture-'));
  // The "remote" hypervisor (peer pods) passes berthd's host checks without /dev/kvm.
  const configPath = join(fixtures, 'configuration-remote.toml');
  await writeFile(configPath, '[hypervisor.remote]\nremote_hypervisor_socket = "/run/peerpod/hypervisor.sock"\n');
  q = await startQosEnv({ memoryEvictThresholdPercent: 100 }, 1000, { runtimes: { handlers: { 'kata-recorded': { type: 'kata', shim: shim.binary, configPath } } } });
});
afterAll(async () => {
  try {
    await q?.cleanup();
  } finally {
    await shim?.cleanup();
    if (fixtures) await rm(fixtures, { recursive: true, force: true });
  }
});

describe('BE VM pod eviction (recording shim, mock)', () => {
  it('stops the whole VM pod through its shim, and its container says BerthEvicted', async () => {
    const { env } = q;
    const be = { annotations: { 'berth.dev/qos-class': 'BE', 'berth.dev/priority': '1' } };
    const config = env.podConfig('vm-be', be);
    const vmPod = (await env.cri.runtime.runPodSandbox({ config, runtimeHandler: 'kata-recorded' })).podSandboxId;
    const { containerId: vmCtr } = await env.cri.runtime.createContainer({ podSandboxId: vmPod, config: env.containerConfig('app', ['sleep', '1000']), sandboxConfig: config });
    await env.cri.runtime.startContainer({ containerId: vmCtr });
    const runcPod = await env.runPod('runc-be', { annotations: { 'berth.dev/qos-class': 'BE', 'berth.dev/priority': '5' } });
    const runcCtr = await env.runContainer(runcPod, 'hold', ['sleep', '1000']);
    await eventually(async () => (await q.status()).pods.filter((p) => p.cls === 'BE').length === 2);

    const s = await evictEveryBe(q, 2);
    expect(s.evictions.map((e) => [e.containerId, e.name])).toEqual([
      [vmPod, 'vm-be (VM sandbox)'],
      [runcCtr, 'hold'],
    ]);
    expect(s.evictions[0]!.message).toMatch(/evicted as a BE VM pod/);

    const methods = (await shim.records()).filter((r) => r.kind === 'rpc' && r.group === vmPod).map((r) => `${r.method}:${String(r.request?.id ?? '')}`);
    expect(methods).toEqual(expect.arrayContaining([`Kill:${vmCtr}`, `Kill:${vmPod}`, `Shutdown:${vmPod}`]));
    const pod = (await env.cri.runtime.podSandboxStatus({ podSandboxId: vmPod, verbose: false })).status!;
    expect(pod.state).toBe(PodSandboxState.SANDBOX_NOTREADY);
    for (const id of [vmCtr, runcCtr]) {
      const st = (await env.cri.runtime.containerStatus({ containerId: id, verbose: false })).status!;
      expect(st.state).toBe(ContainerState.CONTAINER_EXITED);
      expect(st.reason).toBe('BerthEvicted');
      expect(st.message).toMatch(/memoryEvictThresholdPercent 1%/);
    }
    expect(env.d.logs.join('')).toMatch(/evicting BE VM pod/);
  });
});
