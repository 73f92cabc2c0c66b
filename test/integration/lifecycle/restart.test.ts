/**
 * Crash safety: kill -9 of berthd while containers run, restart over the same state; the
 * containers are still running and listed (shims kept them alive), exec and logs work, and
 * stopping and removing afterwards leaves nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile, rmdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { ContainerState, PodSandboxState } from '../../../src/gen/runtime/v1/api.js';
import { eventually, startPodEnv, type PodEnv } from '../../helpers/pod-env.js';

let env: PodEnv;
const parent = `/berth-test-${randomBytes(4).toString('hex')}`;
beforeAll(async () => {
  env = await startPodEnv();
});
afterAll(async () => {
  await env?.cleanup();
  // Every hierarchy the host mounts (hugetlb, net_cls, … included), not a fixed list.
  for (const ctrl of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    await rmdir(`/sys/fs/cgroup/${ctrl}${parent}`).catch(() => {});
  }
});

/** Processes whose command line mentions `needle`. */
async function processesWith(needle: string): Promise<string[]> {
  const out: string[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(needle)) out.push(`${pid}: ${cmd.replace(/\0/g, ' ')}`);
  }
  return out;
}

async function mountsUnder(dir: string): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(dir));
}

describe('kill -9 of berthd', () => {
  it('keeps containers running through a restart, then cleans up without leaks', async () => {
    const podId = await env.runPod('survivor', { linux: { cgroupParent: parent } as never });
    const ids = [
      await env.runContainer(podId, 'ticker', ['sh', '-c', 'i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.2; done']),
      await env.runContainer(podId, 'sleeper', ['sleep', '1000']),
    ];
    const logPath = (await env.cri.runtime.containerStatus({ containerId: ids[0]!, verbose: false })).status!.logPath;
    const pidsBefore = await Promise.all(ids.map(async (id) => (await env.exec(id, ['sh', '-c', 'echo $PPID'])).exitCode));
    expect(pidsBefore).toEqual([0, 0]);
    const shimsBefore = await processesWith(env.d.socket);
    expect(shimsBefore.length).toBe(1); // one shim for the whole pod

    await env.d.kill9();
    const linesAtCrash = (await readFile(logPath, 'utf8')).split('\n').length;
    await new Promise((r) => setTimeout(r, 500));
    await env.d.restart();
    const cri = env.d.clients();

    const pods = await cri.runtime.listPodSandbox({ filter: undefined });
    expect(pods.items.map((p) => [p.id, p.state])).toEqual([[podId, PodSandboxState.SANDBOX_READY]]);
    const list = await cri.runtime.listContainers({ filter: undefined });
    expect(list.containers.map((c) => c.state).sort()).toEqual([ContainerState.CONTAINER_RUNNING, ContainerState.CONTAINER_RUNNING]);
    expect(await processesWith(env.d.socket)).toEqual(shimsBefore); // the same shim, still alive
    const r = await cri.runtime.execSync({ containerId: ids[1]!, cmd: ['echo', 'alive'], timeout: 10n });
    expect(Buffer.from(r.stdout).toString()).toBe('alive\n');
    // Logging resumes: new lines appear after the restart.
    await eventually(async () => (await readFile(logPath, 'utf8')).split('\n').length > linesAtCrash + 3);

    await cri.runtime.stopPodSandbox({ podSandboxId: podId });
    await cri.runtime.removePodSandbox({ podSandboxId: podId });
    expect(await mountsUnder(env.d.state)).toEqual([]);
    expect(await mountsUnder(env.d.root)).toEqual([]);
    expect(await readdir(`${env.d.state}/netns`)).toEqual([]);
    expect(await readdir(`${env.d.state}/bundles`)).toEqual([]);
    await eventually(async () => (await processesWith(env.d.socket)).length === 0);
    const leftCgroups = (await readdir(`/sys/fs/cgroup/memory${parent}`).catch(() => [] as string[])).filter((n) => /^[a-f0-9]{64}$/.test(n));
    expect(leftCgroups).toEqual([]);
  });

  it('marks containers whose shim died while berthd was down as exited, with a reason', async () => {
    const podId = await env.runPod('orphan');
    const id = await env.runContainer(podId, 'c', ['sleep', '1000']);
    await env.d.kill9();
    for (const p of await processesWith(env.d.socket)) process.kill(Number(p.split(':')[0]), 'SIGKILL');
    await env.d.restart();
    const cri = env.d.clients();
    const st = (await cri.runtime.containerStatus({ containerId: id, verbose: false })).status!;
    expect(st.state).toBe(ContainerState.CONTAINER_EXITED);
    expect(st.message).toMatch(/shim was gone/);
    const pod = await cri.runtime.podSandboxStatus({ podSandboxId: podId, verbose: false });
    expect(pod.status!.state).toBe(PodSandboxState.SANDBOX_NOTREADY);
    await cri.runtime.removePodSandbox({ podSandboxId: podId });
    expect(await mountsUnder(env.d.state)).toEqual([]);
  });
});
