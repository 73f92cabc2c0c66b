/**
 * Exec / attach / port-forward through berthd's streaming server into real containers, with
 * both SPDY/3.1 and WebSocket clients; and CRI stats from the sampler on real cgroups.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerStats } from '../../../src/gen/runtime/v1/api.js';
import { eventually, startPodEnv, type PodEnv } from '../../helpers/pod-env.js';
import { grpc, grpcError } from '../../helpers/cri-client.js';
import { readAll, spdyPortForwardPair, spdyRemoteCommand, spdyUpgrade, wsConnect } from '../../helpers/stream-clients.js';

let env: PodEnv;
let podId: string;
let shell: string;
beforeAll(async () => {
  env = await startPodEnv();
  podId = await env.runPod('stream');
  shell = await env.runContainer(podId, 'shell', ['sh', '-c', 'mkdir -p /www && echo served > /www/i && httpd -p 8080 -h /www && sleep 100000']);
});
afterAll(async () => {
  await env?.cleanup();
});

describe('streaming', () => {
  it('exec over SPDY: stdin, stdout, stderr and a non-zero exit code in the status', async () => {
    const { url } = await env.cri.runtime.exec({ containerId: shell, cmd: ['sh', '-c', 'cat; echo oops >&2; exit 3'], tty: false, stdin: true, stdout: true, stderr: true });
    const up = await spdyUpgrade(url, ['v4.channel.k8s.io']);
    if (!up.ok) throw new Error(`upgrade failed: ${up.status} ${up.body}`);
    const r = await spdyRemoteCommand(up.conn, { stdin: 'hello\n' });
    expect(r.stdout).toBe('hello\n');
    expect(r.stderr).toBe('oops\n');
    const status = JSON.parse(r.error);
    expect(status.status).toBe('Failure');
    expect(status.reason).toBe('NonZeroExitCode');
    expect(status.details.causes[0]).toEqual({ reason: 'ExitCode', message: '3' });
    // The token was one-time.
    const again = await spdyUpgrade(url, ['v4.channel.k8s.io']);
    expect(again.status).toBe(404);
  });

  it('exec over WebSocket v5 with a tty', async () => {
    const { url } = await env.cri.runtime.exec({ containerId: shell, cmd: ['sh', '-c', 'tty >/dev/null && echo has-tty'], tty: true, stdin: false, stdout: true, stderr: false });
    const a = await wsConnect(url, ['v5.channel.k8s.io']);
    expect(a.ok).toBe(true);
    const c = a.client!;
    await c.closed;
    expect(c.text(1)).toContain('has-tty');
    expect(JSON.parse(c.text(3)).status).toBe('Success');
  });

  it('exec into a stopped container is refused with FAILED_PRECONDITION', async () => {
    const done = await env.runContainer(podId, 'done', ['true']);
    await eventually(async () => (await env.cri.runtime.containerStatus({ containerId: done, verbose: false })).status!.state === 2);
    const err = await grpcError(env.cri.runtime.exec({ containerId: done, cmd: ['true'], tty: false, stdin: false, stdout: true, stderr: true }));
    expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
  });

  it('attach to a container created with stdin (stdin_once ends it)', async () => {
    const cat = await env.runContainer(podId, 'cat', ['sh'], { stdin: true, stdinOnce: true });
    const { url } = await env.cri.runtime.attach({ containerId: cat, tty: false, stdin: true, stdout: true, stderr: true });
    const up = await spdyUpgrade(url, ['v4.channel.k8s.io']);
    if (!up.ok) throw new Error(`upgrade failed: ${up.status}`);
    const r = await spdyRemoteCommand(up.conn, { stdin: 'echo attached\n' });
    expect(r.stdout).toBe('attached\n');
    expect(JSON.parse(r.error).status).toBe('Success');
  });

  it('port-forwards to a port inside the pod netns, twice at once, and reports a closed port', async () => {
    const { url } = await env.cri.runtime.portForward({ podSandboxId: podId, port: [] });
    const up = await spdyUpgrade(url, ['portforward.k8s.io']);
    if (!up.ok) throw new Error(`upgrade failed: ${up.status}`);
    const get = async (id: string) => {
      const p = await spdyPortForwardPair(up.conn, 8080, id);
      p.data.end('GET /i HTTP/1.0\r\n\r\n');
      return (await readAll(p.data)).toString();
    };
    const [a, b] = await Promise.all([get('1'), get('2')]);
    for (const body of [a, b]) expect(body).toMatch(/served/);
    const closed = await spdyPortForwardPair(up.conn, 9, '3');
    closed.data.end();
    expect(await closed.error).toMatch(/9/);
    expect(await get('4')).toMatch(/served/); // the connection keeps serving
  });
});

describe('stats', () => {
  it('reports about one core for a busy loop and the working set of a memory filler', async () => {
    const burner = await env.runContainer(podId, 'burn', ['sh', '-c', 'while :; do :; done']);
    const filler = await env.runContainer(podId, 'fill', ['sh', '-c', 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=48 2>/dev/null; sleep 100000']);
    const stats = async (id: string): Promise<ContainerStats> => (await env.cri.runtime.containerStats({ containerId: id })).stats!;
    const cores = await eventually(
      async () => {
        const n = Number((await stats(burner)).cpu?.usageNanoCores?.value ?? 0n) / 1e9;
        return n > 0.5 ? n : undefined;
      },
      15_000,
      500,
    );
    expect(cores).toBeLessThan(1.2);
    const ws = await eventually(async () => {
      const w = Number((await stats(filler)).memory?.workingSetBytes?.value ?? 0n);
      return w >= 48 * 1024 * 1024 ? w : undefined;
    });
    expect(ws).toBeLessThan(96 * 1024 * 1024);
    const list = await env.cri.runtime.listContainerStats({ filter: { id: '', podSandboxId: podId, labelSelector: {} } });
    expect(list.stats.map((s) => s.attributes!.id)).toEqual(expect.arrayContaining([burner, filler, shell]));
    const s = await stats(burner);
    expect(s.writableLayer?.fsId?.mountpoint).toMatch(/^\//);
    const pod = (await env.cri.runtime.podSandboxStats({ podSandboxId: podId })).stats!;
    expect(Number(pod.linux!.cpu!.usageNanoCores!.value) / 1e9).toBeGreaterThan(0.5);
    expect(pod.linux!.network!.defaultInterface!.name).toBe('eth0');
    expect(pod.linux!.process!.processCount!.value).toBeGreaterThan(2n);
    await env.cri.runtime.stopContainer({ containerId: burner, timeout: 0n });
  });
});
