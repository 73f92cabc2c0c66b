/**
 * The README's quick start, end to end against a real berthd: `berth run` two pods (one
 * latency-sensitive, one best-effort), `berth ps`, `berth top` in a real terminal (tmux),
 * `berth qos simulate` then `apply`; and the node-level commands: `info`, `pull` with
 * per-layer progress of a fresh image, `images`, `rmi`, `sli`, `completion`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { busybox, file, publish } from '../fixtures/image-builder.js';
import { eventually, startPodEnv, type PodEnv } from '../helpers/pod-env.js';
import { berth, CLI } from './cli-helpers.js';

let env: PodEnv;
const ns = `qs-${randomBytes(3).toString('hex')}`;
const tmuxSocket = `berth-e2e-${randomBytes(3).toString('hex')}`;
const tmux = (...args: string[]) => spawnSync('tmux', ['-L', tmuxSocket, ...args], { encoding: 'utf8' });
const run = (args: string[], input?: string) => berth(env.d.socket, args, { input });

beforeAll(async () => {
  env = await startPodEnv();
});

afterAll(async () => {
  tmux('kill-server');
  await env?.cleanup();
  for (const d of await readdir('/var/log/pods').catch(() => [] as string[])) {
    if (d.startsWith(`${ns}_`)) await rm(join('/var/log/pods', d), { recursive: true, force: true });
  }
});

const pods = (image: string) => `apiVersion: v1
kind: Pod
metadata: { name: web, namespace: ${ns} }
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: ${image}
    command: [sh, -c, 'mkdir -p /www && echo hello > /www/index.html && httpd -f -p 8080 -h /www']
    resources: { requests: { cpu: 250m, memory: 32Mi }, limits: { cpu: '1', memory: 64Mi } }
`;

const batch = (image: string) => `apiVersion: v1
kind: Pod
metadata:
  name: batch
  namespace: ${ns}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: crunch
    image: ${image}
    command: [sleep, '100000']
`;

describe('quick start', () => {
  it('runs pods from YAML, shows them with ps and top, and tunes QoS with simulate then apply', async () => {
    const web = join(env.d.dir, 'web.yaml');
    const be = join(env.d.dir, 'batch.yaml');
    await writeFile(web, pods(env.image));
    await writeFile(be, batch(env.image));
    expect((await run(['run', '-f', web])).code).toBe(0);
    const b = await run(['run', '-f', be, '--qos-class', 'BE']);
    expect(b.code).toBe(0);
    expect(b.stderr).toContain('(BestEffort, QoS class BE');

    const ps = await run(['ps', '-n', ns]);
    expect(ps.stdout).toMatch(new RegExp(`${ns}/batch\\s+[0-9a-f]{12}\\s+Ready\\s+runc\\s+BE/BestEffort`));
    expect(ps.stdout).toMatch(new RegExp(`${ns}/web\\s+[0-9a-f]{12}\\s+Ready\\s+runc\\s+LS/Burstable`));

    // top in a real terminal: both pods on screen, with their classes; q quits.
    expect(spawnSync('tmux', ['-V']).status, 'tmux is needed for this test (apt-get install -y tmux)').toBe(0);
    tmux('new-session', '-d', '-s', 'top', '-x', '160', '-y', '30', `${process.execPath} ${CLI} --socket ${env.d.socket} top`);
    const screen = await eventually(async () => {
      const s = tmux('capture-pane', '-p', '-t', 'top').stdout;
      return s.includes(`${ns}/web`) && s.includes(`${ns}/batch`) && /node CPU \d/.test(s) ? s : undefined;
    }, 20_000);
    expect(screen).toMatch(new RegExp(`${ns}/batch\\s+BE\\s+runc\\s+Ready`));
    expect(screen).toMatch(new RegExp(`${ns}/web\\s+LS\\s+runc\\s+Ready`));
    expect(screen).toMatch(/PSI some avg10: cpu [\d.]+%/);
    expect(screen).toContain('q quit');
    tmux('send-keys', '-t', 'top', 'n');
    await eventually(async () => tmux('capture-pane', '-p', '-t', 'top').stdout.includes('POD▼'));
    tmux('send-keys', '-t', 'top', 'q');
    await eventually(async () => tmux('has-session', '-t', 'top').status !== 0);

    // A policy that makes every unlabelled pod BE: simulate shows web would change, and why.
    const policy = join(env.d.dir, 'policy.yaml');
    await writeFile(policy, 'defaultClass: { other: BE }\ncpuSuppressThresholdPercent: 50\n');
    const sim = await run(['qos', 'simulate', '-f', policy]);
    expect(sim.code).toBe(0);
    expect(sim.stdout).toMatch(new RegExp(`${ns}/web\\s+\\(pod\\)\\s+class\\s+LS\\s+BE\\s+class from default`));
    expect(sim.stdout).toMatch(new RegExp(`${ns}/web\\s+web\\s+cpuIdle\\s+false\\s+true\\s+BE class settings`));
    expect(sim.stdout).not.toMatch(new RegExp(`${ns}/batch\\s+\\(pod\\)`));
    expect((await run(['qos', 'get'])).stdout).toContain('other: LS');

    const applied = await run(['qos', 'apply', '-f', policy]);
    expect(applied).toMatchObject({ code: 0, stdout: `policy applied (source: ${join(env.d.root, 'qos-policy.yaml')})\n` });
    const got = await run(['qos', 'get', '-o', 'json']);
    expect(JSON.parse(got.stdout).policy).toMatchObject({ defaultClass: { other: 'BE' }, cpuSuppressThresholdPercent: 50 });
    await eventually(async () => (await run(['ps', '-n', ns])).stdout.match(new RegExp(`${ns}/web\\s+[0-9a-f]{12}\\s+Ready\\s+runc\\s+BE/`)));

    const bad = join(env.d.dir, 'bad-policy.yaml');
    await writeFile(bad, 'cpuSuppressThresholdPercent: 500\n');
    const refused = await run(['qos', 'apply', '-f', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('cpuSuppressThresholdPercent');

    expect((await run(['rm', `${ns}/web`, `${ns}/batch`])).code).toBe(0);
  });
});

describe('node commands', () => {
  it('info shows handlers with host support, cgroups and features, CNI and config', async () => {
    const r = await run(['info']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/runc\s+runc\s+yes/);
    expect(r.stdout).toMatch(/kata\s+kata\s+no\n\s+- shim binary/);
    expect(r.stdout).toMatch(/Cgroups: (v1|v2|hybrid)/);
    expect(r.stdout).toMatch(/cpu\.shares\s+(yes|no)/);
    expect(r.stdout).toContain('CNI: ready');
    expect(r.stdout).toContain(`listen: unix://${env.d.socket}`);
    const json = JSON.parse((await run(['info', '-o', 'json'])).stdout);
    expect(json.runtimeHandlers.runc.supported).toBe(true);
    expect(json.features['cpu.shares']).toBeDefined();
  });

  it('pull shows each layer of a fresh image, images lists it, rmi removes it', async () => {
    const ref = `${env.reg.host}/test/fresh:${randomBytes(3).toString('hex')}`;
    await publish({ url: env.reg.url }, ref.slice(env.reg.host.length + 1), busybox({ layers: [{ entries: [file('/blob', randomBytes(3 << 20))] }] }));
    const r = await run(['pull', ref]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(r.stderr).toContain(`${ref}: 2 layers`);
    expect(r.stderr).toMatch(/ {2}[0-9a-f]{12} {2}3MiB {2}downloaded/);
    expect(r.stderr).toMatch(/ {2}[0-9a-f]{12} {2}3MiB {2}extracted/);
    expect(r.stderr).toMatch(/already present|downloaded/);
    expect(r.stderr).toContain(`${ref}: done`);
    const images = await run(['images']);
    expect(images.stdout).toContain(ref);
    expect((await run(['rmi', ref])).code).toBe(0);
    expect((await run(['images'])).stdout).not.toContain(ref);
    const missing = await run(['rmi', ref]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`no such image: ${ref}`);
  });

  it('sli prints the report as a table and as JSON', async () => {
    const r = await run(['sli']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^SLI report /);
    expect(r.stdout).toMatch(/node: CPU/);
    expect(JSON.parse((await run(['sli', '-o', 'json'])).stdout)).toHaveProperty('pods');
  });

  it('completion bash is a script bash accepts', async () => {
    const r = await run(['completion', 'bash']);
    expect(r.code).toBe(0);
    execFileSync('bash', ['-n', '-c', r.stdout]);
    expect(r.stdout).toContain('complete -F _berth berth');
    expect((await run(['completion', 'fish'])).code).toBe(2);
  });
});
