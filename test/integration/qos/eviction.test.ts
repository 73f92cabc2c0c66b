/**
 * Memory eviction on the real kernel: with the node memory threshold set below what the node
 * uses, BE containers are squeezed (their limit lowered to the working set), then killed in
 * order of priority; their CRI status shows BerthEvicted and why; LS pods are untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerState } from '../../../src/gen/runtime/v1/api.js';
import { eventually } from '../../helpers/pod-env.js';
import { evictEveryBe, startQosEnv, type QosEnv } from './support.js';

let q: QosEnv;
beforeAll(async () => {
  q = await startQosEnv({ memoryEvictThresholdPercent: 100 });
});
afterAll(async () => {
  await q?.cleanup();
});

const fill = (mib: number) => ['sh', '-c', `dd if=/dev/zero of=/dev/shm/fill bs=1M count=${mib} 2>/dev/null; sleep 1000`];

describe('BE eviction under node memory pressure (cgroup v1)', () => {
  it('squeezes, then kills BE containers lowest priority first, and says why', async () => {
    const { env } = q;
    const ls = await env.runPod('ls', { annotations: { 'berth.dev/qos-class': 'LS' } });
    const lsCtr = await env.runContainer(ls, 'keep', ['sleep', '1000']);
    const hi = await env.runPod('be-hi', { annotations: { 'berth.dev/qos-class': 'BE', 'berth.dev/priority': '10' } });
    const hiCtr = await env.runContainer(hi, 'hold', fill(40));
    const lo = await env.runPod('be-lo', { annotations: { 'berth.dev/qos-class': 'BE', 'berth.dev/priority': '1' } });
    const loCtr = await env.runContainer(lo, 'hold', fill(20));
    await eventually(async () => (await q.status()).pods.filter((p) => p.cls === 'BE').length === 2);

    const s = await evictEveryBe(q, 2);
    expect(s.evictions.map((e) => e.containerId)).toEqual([loCtr, hiCtr]);
    expect(s.evictions[0]!.priority).toBe(1);
    expect(s.counters.evictions).toBe(2);
    // Reclaim came first: the BE limits were lowered before anything was killed.
    const firstEviction = s.lastActions.findIndex((a) => typeof a.what === 'string' && (a.what as string).startsWith('evicted'));
    const squeezes = s.lastActions.filter((a, i) => a.knob === 'memoryMax' && (a.path as string).endsWith(hiCtr) && (firstEviction < 0 || i < firstEviction));
    expect(squeezes.length).toBeGreaterThan(0);

    for (const id of [loCtr, hiCtr]) {
      const st = (await env.cri.runtime.containerStatus({ containerId: id, verbose: false })).status!;
      expect(st.state).toBe(ContainerState.CONTAINER_EXITED);
      expect(st.reason).toBe('BerthEvicted');
      expect(st.message).toMatch(/memoryEvictThresholdPercent 1%/);
    }
    const lsStatus = (await env.cri.runtime.containerStatus({ containerId: lsCtr, verbose: false })).status!;
    expect(lsStatus.state).toBe(ContainerState.CONTAINER_RUNNING);
    expect(env.d.logs.join('')).toMatch(/evicting BE container/);
  });
});
