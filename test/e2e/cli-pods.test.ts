/**
 * The `berth` CLI end to end against a real berthd (real registry, runc, CNI): `run` of a
 * pod with an init container, two containers, an emptyDir and a hostPort; `ps`; `logs -f`
 * following new lines; `exec` propagating exit codes and stdin; `rm`; manifest errors with
 * their YAML paths; a failing init container.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import { freePort } from '../fixtures/registry.js';
import { eventually, startPodEnv, type PodEnv } from '../helpers/pod-env.js';
import { berth, spawnBerth, stdoutUntil } from './cli-helpers.js';

let env: PodEnv;
const ns = `e2e-${randomBytes(3).toString('hex')}`;
let hostPort: number;
let manifest: string;

const run = (args: string[], input?: string) => berth(env.d.socket, args, { input });

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

const podYaml = (image: string, port: number) => `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: ${ns}
  labels: { app: web }
spec:
  terminationGracePeriodSeconds: 2
  initContainers:
  - name: setup
    image: ${image}
    command: [sh, -c, 'echo prepared-by-init > /work/index.html; echo init says hi']
    volumeMounts: [{ name: work, mountPath: /work }]
  containers:
  - name: server
    image: ${image}
    command: [sh, -c, 'httpd -f -p 8080 -h /work']
    ports: [{ containerPort: 8080, hostPort: ${port} }]
    volumeMounts: [{ name: work, mountPath: /work, readOnly: true }]
    resources:
      requests: { cpu: 100m, memory: 32Mi }
      limits: { cpu: 500m, memory: 64Mi }
  - name: ticker
    image: ${image}
    env: [{ name: GREETING, value: tick }]
    command: [sh, -c, 'i=0; while true; do echo "$(GREETING) $i"; i=$((i+1)); sleep 0.2; done']
  volumes:
  - name: work
    emptyDir: {}
`;

beforeAll(async () => {
  env = await startPodEnv();
  hostPort = await freePort();
  manifest = join(env.d.dir, 'pod.yaml');
  await writeFile(manifest, podYaml(env.image, hostPort));
});

afterAll(async () => {
  await env?.cleanup();
  for (const d of await readdir('/var/log/pods').catch(() => [] as string[])) {
    if (d.startsWith(`${ns}_`)) await rm(join('/var/log/pods', d), { recursive: true, force: true });
  }
});

describe('berth CLI against berthd', () => {
  let podId: string;

  it('run: pulls, runs the init container to completion, starts both containers, maps the host port', async () => {
    const r = await run(['run', '-f', manifest]);
    expect(r.stderr).toContain(`pod ${ns}/web is running (Burstable`);
    expect(r.code).toBe(0);
    podId = r.stdout.trim();
    expect(podId).toMatch(/^[0-9a-f]{64}$/);
    // The init container wrote the page before the server started; the host port reaches it.
    const page = await eventually(() => httpGet(`http://127.0.0.1:${hostPort}/index.html`).catch(() => undefined));
    expect(page).toBe('prepared-by-init\n');
    // kubelet-style labels, so crictl shows names.
    const pods = await env.cri.runtime.listPodSandbox({ filter: undefined });
    const pod = pods.items.find((p) => p.id === podId)!;
    expect(pod.labels).toMatchObject({ app: 'web', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': ns });
    // Resources mapped as the kubelet does: shares from the request, quota from the limit.
    const cs = await env.cri.runtime.listContainers({ filter: { id: '', state: undefined, podSandboxId: podId, labelSelector: { 'io.kubernetes.container.name': 'server' } } });
    const st = await env.cri.runtime.containerStatus({ containerId: cs.containers[0]!.id, verbose: false });
    expect(st.status!.resources!.linux).toMatchObject({ cpuShares: 102n, cpuQuota: 50000n, cpuPeriod: 100000n, memoryLimitInBytes: 64n * 1024n * 1024n });
    expect(st.status!.logPath).toMatch(new RegExp(`^/var/log/pods/${ns}_web_[0-9a-f-]+/server/0\\.log$`));
  });

  it('run refuses a second pod with the same name', async () => {
    const r = await run(['run', '-f', manifest]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`pod ${ns}/web already exists`);
  });

  it('ps lists the pod with its handler, QoS tier, IP and containers', async () => {
    const table = await run(['ps']);
    expect(table.code).toBe(0);
    const line = table.stdout.split('\n').find((l) => l.startsWith(`${ns}/web`))!;
    expect(line).toMatch(/Ready\s+runc\s+(LS\/)?Burstable\s+10\.251\.\d+\.\d+/);
    expect(table.stdout).toMatch(/setup \(init\)\s+[0-9a-f]{12}\s+Exited\(0\)/);
    expect(table.stdout).toMatch(/server\s+[0-9a-f]{12}\s+Running/);
    const json = JSON.parse((await run(['ps', '-o', 'json', '-n', ns])).stdout);
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({ id: podId, name: 'web', namespace: ns, state: 'Ready', runtimeHandler: 'runc', qosTier: 'Burstable' });
    expect(json[0].containers.map((c: { name: string }) => c.name).sort()).toEqual(['server', 'setup', 'ticker']);
  });

  it('logs prints an init container\'s output; logs -f follows new lines until interrupted', async () => {
    const init = await run(['logs', `${ns}/web`, 'setup']);
    expect(init).toMatchObject({ code: 0, stdout: 'init says hi\n' });
    const noName = await run(['logs', 'web']);
    expect(noName.code).toBe(1);
    expect(noName.stderr).toContain('has 2 containers (server, ticker); name one');

    const p = spawnBerth(env.d.socket, ['logs', '-f', '--tail', '1', 'web', 'ticker']);
    try {
      const first = await stdoutUntil(p, (s) => /tick \d+\n/.test(s));
      const n = Number(/tick (\d+)/.exec(first)![1]);
      // Lines written after the command started arrive too.
      const later = await stdoutUntil(p, (s) => s.includes(`tick ${n + 3}\n`));
      expect(later).toContain(`tick ${n + 3}\n`);
    } finally {
      const exited = new Promise<number | null>((r) => p.once('close', r));
      p.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  });

  it('exec runs commands, passes stdin, and exits with the command\'s status', async () => {
    const fail = await run(['exec', 'web', '-c', 'ticker', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(fail).toMatchObject({ code: 7, stdout: 'out\n', stderr: 'err\n' });
    const ok = await run(['exec', '-i', `${ns}/web`, '-c', 'server', '--', 'cat'], 'from stdin\n');
    expect(ok).toMatchObject({ code: 0, stdout: 'from stdin\n' });
    const env1 = await run(['exec', podId.slice(0, 10), '-c', 'ticker', '--', 'sh', '-c', 'echo $GREETING']);
    expect(env1).toMatchObject({ code: 0, stdout: 'tick\n' });
    const missing = await run(['exec', 'web', '-c', 'nope', '--', 'true']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('has no container "nope"');
    const usage = await run(['exec', 'web', '-c', 'ticker']);
    expect(usage.code).toBe(2);
  });

  it('rm stops and removes the pod with its volumes and logs', async () => {
    const logDir = (await readdir('/var/log/pods')).find((d) => d.startsWith(`${ns}_web_`))!;
    const uid = logDir.split('_')[2]!;
    expect(existsSync(join(env.d.root, 'volumes', uid, 'work'))).toBe(true);
    const r = await run(['rm', `${ns}/web`]);
    expect(r).toMatchObject({ code: 0, stdout: `${podId}\n` });
    expect((await env.cri.runtime.listPodSandbox({ filter: undefined })).items.find((p) => p.id === podId)).toBeUndefined();
    expect(existsSync(join(env.d.root, 'volumes', uid))).toBe(false);
    expect(existsSync(join('/var/log/pods', logDir))).toBe(false);
    expect((await run(['rm', `${ns}/web`])).code).toBe(1);
  });
});

describe('berth run errors', () => {
  it('reports manifest errors by YAML path and line, and exits 2', async () => {
    const bad = join(env.d.dir, 'bad.yaml');
    await writeFile(
      bad,
      `apiVersion: v1
kind: Pod
metadata: { name: bad, namespace: ${ns} }
spec:
  containers:
  - name: a
    image: ${env.image}
    foo: 1
  - name: b
    image: ${env.image}
    resources:
      limits:
        cpu: 2x
`,
    );
    const r = await run(['run', '-f', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`bad.yaml:8: spec.containers[0].foo: unknown field "foo"`);
    expect(r.stderr).toContain(`bad.yaml:13: spec.containers[1].resources.limits.cpu: invalid quantity "2x"`);
    expect((await env.cri.runtime.listPodSandbox({ filter: undefined })).items.filter((p) => p.metadata?.name === 'bad')).toHaveLength(0);
  });

  it('a failing init container fails the run with its exit code and keeps the pod for its logs', async () => {
    const file = join(env.d.dir, 'initfail.yaml');
    await writeFile(
      file,
      `apiVersion: v1
kind: Pod
metadata: { name: initfail, namespace: ${ns} }
spec:
  initContainers:
  - { name: check, image: ${env.image}, command: [sh, -c, 'echo not ready; exit 3'] }
  containers:
  - { name: app, image: ${env.image}, command: [sleep, '1000'] }
`,
    );
    const r = await run(['run', '-f', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('init container check');
    expect(r.stderr).toContain('exited with code 3');
    expect(r.stderr).toContain('  not ready');
    const ps = JSON.parse((await run(['ps', '-o', 'json', '-n', ns])).stdout) as { name: string; containers: { name: string }[] }[];
    expect(ps.find((p) => p.name === 'initfail')!.containers.map((c) => c.name)).toEqual(['check']);
    expect((await run(['rm', `${ns}/initfail`])).code).toBe(0);
  });

  it('--runtime-class picks the handler: one this host cannot run is refused with the reason, and nothing is left', async () => {
    const file = join(env.d.dir, 'kata.yaml');
    await writeFile(file, `apiVersion: v1\nkind: Pod\nmetadata: { name: vm, namespace: ${ns} }\nspec:\n  containers: [{ name: a, image: ${env.image}, command: ['true'] }]\n`);
    const r = await run(['run', '-f', file, '--runtime-class', 'kata']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/kata.*(FAILED_PRECONDITION|INVALID_ARGUMENT)/s);
    expect((await env.cri.runtime.listPodSandbox({ filter: undefined })).items.filter((p) => p.metadata?.name === 'vm')).toHaveLength(0);
    const usage = await run(['run', '-f', file, '--qos-class', 'GOLD']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--qos-class must be one of SYSTEM, LSE, LSR, LS, BE');
  });

  it('says how to reach berthd when the socket is wrong', async () => {
    const r = await berth(join(env.d.dir, 'nope.sock'), ['ps']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach berthd');
  });
});
