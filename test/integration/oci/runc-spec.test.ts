/**
 * Real runc, real kernel: the specs berth generates run under runc and do what they say.
 * A sandbox (busybox sleep as the pause process, in its own netns) and containers that
 * join it; each container prints what the kernel reports about itself.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, chmod, copyFile, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerConfig, PodSandboxConfig, SecurityProfile_ProfileType as T } from '../../../src/gen/runtime/v1/api.js';
import {
  buildContainerSpec,
  buildSandboxSpec,
  detectHostFacts,
  type ContainerSpecInput,
  type HostFacts,
  type Spec,
} from '../../../src/runtimes/oci/index.js';
import { KNOWN_CAPABILITIES } from '../../../src/runtimes/oci/defaults.js';

const run = promisify(execFile);
const log = pino({ level: 'silent' });
const tag = randomBytes(4).toString('hex');
const SANDBOX_ID = `berth-oci-it-${tag}-sb`;
const NETNS = `berth-oci-it-${tag}`;

let work: string;
let rootfs: string;
let runcRoot: string;
let host: HostFacts;
let sandboxPid: number;
const started: string[] = [];
const cgroupPaths: string[] = [];

/**
 * Run runc; its stdout/stderr are captured. A detached container would inherit (and hold
 * open) those pipes, so `run -d` gets no pipes and leaves its errors in a --log file.
 */
async function runc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (args.includes('-d')) {
    const logFile = join(work, `runc-${Date.now()}.log`);
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn('runc', ['--root', runcRoot, '--log', logFile, ...args], { stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', (c) => resolve(c ?? -1));
    });
    return { code, stdout: '', stderr: await readFile(logFile, 'utf8').catch(() => '') };
  }
  return new Promise((resolve, reject) => {
    const child = spawn('runc', ['--root', runcRoot, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function writeBundle(name: string, spec: Spec): Promise<string> {
  const dir = join(work, 'bundles', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
  return dir;
}

/** Run a container in the foreground; its stdout is runc's. */
async function runContainer(id: string, spec: Spec): Promise<{ code: number; stdout: string; stderr: string }> {
  const bundle = await writeBundle(id, spec);
  started.push(id);
  const r = await runc('run', '--bundle', bundle, id);
  await runc('delete', '-f', id);
  return r;
}

function podConfig(): PodSandboxConfig {
  return PodSandboxConfig.fromPartial({
    metadata: { name: 'it', namespace: 'default', uid: `uid-${tag}`, attempt: 0 },
    hostname: 'berth-pod',
    logDirectory: join(tmpdir(), 'unused-logs'),
    linux: { cgroupParent: '', sysctls: { 'net.ipv4.ip_unprivileged_port_start': '80' }, securityContext: {} },
  });
}

function podFiles() {
  return {
    hosts: join(work, 'pod', 'hosts'),
    resolvConf: join(work, 'pod', 'resolv.conf'),
    hostname: join(work, 'pod', 'hostname'),
    shm: join(work, 'pod', 'shm'),
  };
}

function containerInput(name: string, config: Record<string, unknown>, sandboxConfig = podConfig()): ContainerSpecInput {
  const id = `berth-oci-it-${tag}-${name}`;
  const cgroupsPath = `/${id}`;
  cgroupPaths.push(cgroupsPath);
  return {
    id,
    sandboxId: SANDBOX_ID,
    config: ContainerConfig.fromPartial({ metadata: { name, attempt: 0 }, command: ['/bin/sh', '-c'], ...config }),
    sandboxConfig,
    image: { env: ['PATH=/bin'], user: '' },
    imageName: 'busybox:it',
    rootfs,
    sandboxPid,
    podFiles: podFiles(),
    cgroupDriver: 'cgroupfs',
    cgroupsPath,
    host,
  };
}

/** key=value lines of a container's output. */
function kv(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

/** The /proc/<pid>/status hex mask of a capability list. */
function capMask(caps: readonly string[]): string {
  let m = 0n;
  for (const c of caps) m |= 1n << BigInt(KNOWN_CAPABILITIES.indexOf(c));
  return m.toString(16).padStart(16, '0');
}

const PROBE = [
  'echo "id=$(id)"',
  "echo \"capeff=$(grep '^CapEff:' /proc/self/status | cut -f2)\"",
  "echo \"capbnd=$(grep '^CapBnd:' /proc/self/status | cut -f2)\"",
  "echo \"nnp=$(grep '^NoNewPrivs:' /proc/self/status | cut -f2)\"",
  "echo \"seccomp=$(grep '^Seccomp:' /proc/self/status | cut -f2)\"",
  'unshare -U true 2>/dev/shm/unshare.err; echo "unshare=$? $(cat /dev/shm/unshare.err)"',
  'echo "timer_list=$(cat /proc/timer_list 2>/dev/null | wc -c)"',
  'touch /probe 2>/dev/shm/touch.err; echo "touch=$? $(cat /dev/shm/touch.err)"',
  'echo "oom=$(cat /proc/self/oom_score_adj)"',
  'echo "hostname=$(hostname)"',
  'echo "etc_hostname=$(cat /etc/hostname)"',
  'echo "env_hostname=$HOSTNAME"',
  'echo "net=$(readlink /proc/self/ns/net)"',
  'echo "uts=$(readlink /proc/self/ns/uts)"',
  'echo "ipc=$(readlink /proc/self/ns/ipc)"',
  'echo "pid=$(readlink /proc/self/ns/pid)"',
  "echo \"proc_sys=$(grep ' /proc/sys ' /proc/self/mountinfo | cut -d' ' -f6)\"",
  'echo "memlimit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null)"',
].join('\n');

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-oci-it-'));
  rootfs = join(work, 'rootfs');
  runcRoot = join(work, 'runc-root');
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp']) await mkdir(join(rootfs, d), { recursive: true });
  await copyFile('/bin/busybox', join(rootfs, 'bin/busybox'));
  for (const tool of ['sh', 'id', 'cat', 'grep', 'cut', 'wc', 'touch', 'unshare', 'sleep', 'hostname', 'readlink', 'echo', 'test']) {
    await symlink('busybox', join(rootfs, 'bin', tool));
  }
  await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/:/bin/sh\n');
  await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\napp:x:1000:\nwheel:x:10:app\naudio:x:29:app\n');
  await mkdir(join(work, 'pod', 'shm'), { recursive: true });
  await chmod(join(work, 'pod', 'shm'), 0o1777); // like the real per-pod tmpfs
  await writeFile(join(work, 'pod', 'hosts'), '127.0.0.1 localhost\n');
  await writeFile(join(work, 'pod', 'resolv.conf'), 'nameserver 127.0.0.1\n');
  await writeFile(join(work, 'pod', 'hostname'), 'berth-pod\n');
  await run('ip', ['netns', 'add', NETNS]);

  host = await detectHostFacts({ cgroupV2: false, swapAccounting: true, hugetlb: false });
  const sandboxSpec = await buildSandboxSpec(
    {
      id: SANDBOX_ID,
      config: podConfig(),
      image: { entrypoint: ['/bin/sleep'], cmd: ['3600'] },
      imageName: 'busybox:it',
      rootfs,
      netnsPath: `/run/netns/${NETNS}`,
      podFiles: podFiles(),
      cgroupDriver: 'cgroupfs',
      runtimeHandler: 'runc',
      host,
    },
    { log },
  );
  const bundle = await writeBundle('sandbox', sandboxSpec);
  started.push(SANDBOX_ID);
  const r = await runc('run', '-d', '--bundle', bundle, SANDBOX_ID);
  expect(r.code, `sandbox failed to start: ${r.stderr}`).toBe(0);
  const state = JSON.parse((await runc('state', SANDBOX_ID)).stdout) as { pid: number; status: string };
  expect(state.status).toBe('running');
  sandboxPid = state.pid;
});

afterAll(async () => {
  for (const id of started.reverse()) await runc('delete', '-f', id).catch(() => {});
  await run('ip', ['netns', 'delete', NETNS]).catch(() => {});
  if (work) await rm(work, { recursive: true, force: true });
});

describe('generated specs under runc', () => {
  it('the sandbox runs in the pod netns with the pod hostname, sysctls and a clamped oom_score_adj', async () => {
    const netns = await readlink(`/proc/${sandboxPid}/ns/net`);
    const { stdout } = await run('ip', ['netns', 'exec', NETNS, 'readlink', '/proc/self/ns/net']);
    expect(netns).toBe(stdout.trim());
    expect(netns).not.toBe(await readlink('/proc/self/ns/net'));
    expect(await readFile(`/proc/${sandboxPid}/oom_score_adj`, 'utf8')).toBe(`${Math.max(-998, host.oomScoreAdj)}\n`);
    const port = await run('nsenter', ['-t', String(sandboxPid), '-n', 'cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start']);
    expect(port.stdout.trim()).toBe('80');
    const uts = await run('nsenter', ['-t', String(sandboxPid), '-u', 'hostname']);
    expect(uts.stdout.trim()).toBe('berth-pod');
  });

  it('non-root container: user and groups, no_new_privs, seccomp blocks unshare, pod namespaces joined', async () => {
    const input = containerInput('user', {
      args: [PROBE],
      linux: {
        resources: { oomScoreAdj: -998n },
        securityContext: {
          runAsUser: { value: 1000n },
          supplementalGroups: [5n],
          noNewPrivs: true,
          seccomp: { profileType: T.RuntimeDefault },
        },
      },
    });
    const r = await runContainer(input.id, await buildContainerSpec(input, { log }));
    expect(r.code, r.stderr).toBe(0);
    const out = kv(r.stdout);
    expect(out.id).toBe('uid=1000(app) gid=1000(app) groups=5,10(wheel),29(audio),1000(app)');
    expect(out.capeff).toBe('0000000000000000');
    expect(out.nnp).toBe('1');
    expect(out.seccomp).toBe('2');
    expect(out.unshare).toMatch(/^1 .*Operation not permitted/);
    expect(out.oom).toBe(String(Math.max(-998, host.oomScoreAdj)));
    expect(out.hostname).toBe('berth-pod');
    expect(out.etc_hostname).toBe('berth-pod');
    expect(out.env_hostname).toBe('berth-pod');
    for (const ns of ['net', 'uts', 'ipc', 'pid'] as const) {
      expect(out[ns], ns).toBe(await readlink(`/proc/${sandboxPid}/ns/${ns}`));
    }
  });

  it('root container: exact capability sets, masked paths, read-only rootfs and /proc/sys, memory limit', async () => {
    const input = containerInput('root', {
      args: [PROBE],
      linux: {
        resources: { memoryLimitInBytes: 64n << 20n },
        securityContext: {
          readonlyRootfs: true,
          seccomp: { profileType: T.RuntimeDefault },
          capabilities: { dropCapabilities: ['CHOWN'], addCapabilities: ['CAP_NET_ADMIN'] },
        },
      },
    });
    const spec = await buildContainerSpec(input, { log });
    const r = await runContainer(input.id, spec);
    expect(r.code, r.stderr).toBe(0);
    const out = kv(r.stdout);
    const want = spec.process!.capabilities!.bounding!;
    expect(want).toContain('CAP_NET_ADMIN');
    expect(want).not.toContain('CAP_CHOWN');
    expect(out.capeff).toBe(capMask(want));
    expect(out.capbnd).toBe(capMask(want));
    expect(out.nnp).toBe('0');
    expect(out.seccomp).toBe('2');
    expect(out.unshare).toMatch(/^1 .*Operation not permitted/);
    expect(out.timer_list).toBe('0');
    expect(out.touch).toMatch(/^1 .*Read-only file system/);
    expect(out.proc_sys).toMatch(/(^|,)ro(,|$)/);
    expect(out.memlimit).toBe(String(64 << 20));
  });

  it('the same root container unconfined: unshare works, masks overridden, rootfs writable', async () => {
    const input = containerInput('unconfined', {
      args: [PROBE],
      linux: {
        securityContext: {
          seccomp: { profileType: T.Unconfined },
          maskedPaths: ['/proc/kcore'],
          capabilities: { dropCapabilities: ['CHOWN'], addCapabilities: ['CAP_NET_ADMIN'] },
        },
      },
    });
    const r = await runContainer(input.id, await buildContainerSpec(input, { log }));
    expect(r.code, r.stderr).toBe(0);
    const out = kv(r.stdout);
    expect(out.seccomp).toBe('0');
    expect(out.unshare).toMatch(/^0/);
    expect(Number(out.timer_list)).toBeGreaterThan(0);
    expect(out.touch).toMatch(/^0/);
  });

  it('privileged container: berthd’s capabilities, host devices, writable sysfs, nothing masked, no seccomp', async () => {
    const privilegedPod = podConfig();
    privilegedPod.linux!.securityContext!.privileged = true;
    const script = [
      PROBE,
      "echo \"sys=$(grep ' /sys ' /proc/self/mountinfo | cut -d' ' -f6)\"",
      'test -c /dev/kmsg && echo kmsg=char || echo kmsg=missing',
    ].join('\n');
    const input = containerInput(
      'privileged',
      { args: [script], linux: { securityContext: { privileged: true, seccomp: { profileType: T.RuntimeDefault } } } },
      privilegedPod,
    );
    const r = await runContainer(input.id, await buildContainerSpec(input, { log }));
    expect(r.code, r.stderr).toBe(0);
    const out = kv(r.stdout);
    expect(out.capeff).toBe(capMask(host.capabilities));
    expect(out.seccomp).toBe('0');
    expect(Number(out.timer_list)).toBeGreaterThan(0);
    expect(out.sys).toMatch(/^rw(,|$)/);
    expect(out.proc_sys).toBe(''); // no read-only /proc/sys bind at all
    expect(out.kmsg).toBe('char');
  });

  it('oom_score_adj below berthd’s own fails in runc without the clamp, and runs with it', async () => {
    const lacksSysResource = !host.capabilities.includes('CAP_SYS_RESOURCE');
    const input = containerInput('oom', {
      args: ['cat /proc/self/oom_score_adj'],
      linux: { resources: { oomScoreAdj: -999n } },
    });
    const spec = await buildContainerSpec(input, { log });
    expect(spec.process!.oomScoreAdj).toBe(Math.max(-999, host.oomScoreAdj));
    const ok = await runContainer(input.id, spec);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe(String(Math.max(-999, host.oomScoreAdj)));
    if (lacksSysResource && host.oomScoreAdj > -999) {
      const unclamped: Spec = { ...spec, process: { ...spec.process!, oomScoreAdj: -999 } };
      const bad = await runContainer(`${input.id}-raw`, unclamped);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/oom_score_adj/);
    }
  });

  it('runc removed the containers’ cgroups', async () => {
    for (const p of cgroupPaths) {
      await expect(access(join('/sys/fs/cgroup/memory', p))).rejects.toThrow();
    }
  });
});
