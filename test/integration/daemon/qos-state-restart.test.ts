/**
 * The QoS loop's state outlives berthd: it is saved to <state>/qos-state.json as the loop runs,
 * and after kill -9 the restarted berthd's first step carries on from it (BE allowance, PSI
 * factor) instead of dropping BE to the floor. The loop runs once a minute here so the first
 * step after the restart is the one observed; the saved numbers are set by hand before the
 * restart so they differ from anything a fresh start would pick.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../../src/admin/client.js';
import { startPodEnv, type PodEnv } from '../../helpers/pod-env.js';

interface Status {
  counters: { steps: number };
  restoredState?: { file: string; savedAt: string };
  be: { allowanceCores: number; limitedBy: string; psi: { factor: number } };
}

let env: PodEnv;
beforeAll(async () => {
  env = await startPodEnv({ config: { qos: { loopIntervalMs: 60_000 } } });
});
afterAll(async () => {
  await env?.cleanup();
});

const status = () => new AdminClient(env.d.adminSocket).get<Status>('/v1/qos/status');
const quotaOf = (path: string) => readFile(`/sys/fs/cgroup/cpu${path}/cpu.cfs_quota_us`, 'utf8').then((s) => Number(s.trim()));

describe('QoS loop state across a berthd crash', () => {
  it('restarts from the saved BE allowance and PSI factor, on the kernel too', async () => {
    const file = join(env.d.state, 'qos-state.json');
    const podId = await env.runPod('be', { labels: { 'berth.dev/qos-class': 'BE' } });
    const id = await env.runContainer(podId, 'idle', ['sleep', '1000']);
    const info = (await env.cri.runtime.containerStatus({ containerId: id, verbose: true })).info.info!;
    const path = (JSON.parse(info) as { cgroupsPath: string }).cgroupsPath;
    const before = await status();
    expect(before.restoredState).toBeUndefined();
    // The first step started from the floor; the file says what the loop has in force.
    expect(before.be).toMatchObject({ allowanceCores: 0.5, limitedBy: 'floor' });
    const saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({ allowanceCores: 0.5, psiFactor: 1 });
    expect(await quotaOf(path)).toBe(50_000); // 0.5 cores on one CPU (cpuset policy below one CPU)

    await env.d.kill9();
    await writeFile(file, JSON.stringify({ ...saved, allowanceCores: 0.77, psiFactor: 0.5 }));
    await env.d.restart();

    const after = await status();
    expect(after.restoredState).toMatchObject({ file, savedAt: saved.savedAt });
    expect(after.counters.steps).toBe(1);
    expect(after.be).toMatchObject({ allowanceCores: 0.77, psi: { factor: 0.5 } });
    expect(await quotaOf(path)).toBe(77_000);
  });
});
