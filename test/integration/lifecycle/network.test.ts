/**
 * Pod networking through berthd with Debian's real CNI plugins (bridge, host-local, portmap,
 * loopback) on a bridge and subnet of the test's own: pod IPs, pod-to-pod traffic, a host
 * port reached over 127.0.0.1, and nothing left behind after removal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { get } from 'node:http';
import { readdir } from 'node:fs/promises';
import { Protocol } from '../../../src/gen/runtime/v1/api.js';
import { freePort } from '../../fixtures/registry.js';
import { eventually, startPodEnv, type PodEnv } from '../../helpers/pod-env.js';

let env: PodEnv;
beforeAll(async () => {
  env = await startPodEnv();
});
afterAll(async () => {
  await env?.cleanup();
});

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });
/**
 * iptables rules that belong to this test's network (its name, subnet or host port), without
 * counters. Other test files may change other rules at the same time.
 */
const rules = (hostPort: number) =>
  ['nat', 'filter']
    .flatMap((t) => sh('iptables-save', ['-t', t]).split('\n'))
    .filter((l) => l.includes(env.net.name) || l.includes(env.net.subnet.split('/')[0]!.replace(/\.0$/, '.')) || l.includes(`--dport ${hostPort} `))
    .map((l) => l.replace(/\[\d+:\d+\]/g, ''))
    .sort();
/** veth interfaces attached to this test's bridge. */
const links = () => sh('ip', ['-o', 'link', 'show', 'master', env.net.bridge]).split('\n').filter(Boolean).length;

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (b) => (body += b));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

describe('pod networking', () => {
  it('gives pods IPs, lets them reach each other, maps a host port, and leaks nothing', async () => {
    const hostPort = await freePort();
    const rulesBefore = rules(hostPort);
    const server = await env.runPod('server', {
      portMappings: [{ protocol: Protocol.TCP, containerPort: 80, hostPort, hostIp: '' }],
    });
    const client = await env.runPod('client');
    const serverIp = (await env.cri.runtime.podSandboxStatus({ podSandboxId: server, verbose: false })).status!.network!.ip;
    const clientIp = (await env.cri.runtime.podSandboxStatus({ podSandboxId: client, verbose: false })).status!.network!.ip;
    expect(serverIp).toMatch(/^10\.251\.\d+\.\d+$/);
    expect(clientIp).toMatch(/^10\.251\.\d+\.\d+$/);
    expect(serverIp).not.toBe(clientIp);

    const httpd = await env.runContainer(server, 'httpd', ['sh', '-c', 'mkdir -p /www && echo hello-from-pod > /www/index.html && httpd -f -p 80 -h /www']);
    const probe = await env.runContainer(client, 'probe', ['sleep', '1000']);
    const viaPodIp = await eventually(async () => {
      const r = await env.exec(probe, ['wget', '-qO-', `http://${serverIp}/index.html`]);
      return r.exitCode === 0 ? r.stdout : undefined;
    });
    expect(viaPodIp).toBe('hello-from-pod\n');
    const lo = await env.exec(probe, ['sh', '-c', 'ip -o addr show lo']);
    expect(lo.stdout).toContain('127.0.0.1');

    expect(links()).toBe(2);
    expect(rules(hostPort).length).toBeGreaterThan(rulesBefore.length);
    const viaHostPort = await eventually(() => httpGet(`http://127.0.0.1:${hostPort}/index.html`).catch(() => undefined));
    expect(viaHostPort).toBe('hello-from-pod\n');
    void httpd;

    for (const id of [server, client]) {
      await env.cri.runtime.stopPodSandbox({ podSandboxId: id });
      await env.cri.runtime.removePodSandbox({ podSandboxId: id });
    }
    expect(links()).toBe(0);
    expect(rules(hostPort)).toEqual(rulesBefore);
    expect(await readdir(`${env.d.state}/netns`)).toEqual([]);
  });

  it('runs hostNetwork pods in the host namespace without CNI', async () => {
    const pod = await env.runPod('hostnet', { linux: { securityContext: { namespaceOptions: { network: 2, pid: 0, ipc: 0, targetId: '' } } } as never });
    const st = await env.cri.runtime.podSandboxStatus({ podSandboxId: pod, verbose: false });
    expect(st.status!.network!.ip).toBe('');
    const c = await env.runContainer(pod, 'c', ['sleep', '1000']);
    const hostNs = sh('readlink', ['/proc/self/ns/net']).trim();
    expect((await env.exec(c, ['sh', '-c', 'readlink /proc/self/ns/net'])).stdout.trim()).toBe(hostNs);
  });
});
