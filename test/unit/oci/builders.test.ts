import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ContainerConfig,
  NamespaceMode as M,
  PodSandboxConfig,
  SecurityProfile_ProfileType as T,
} from '../../../src/gen/runtime/v1/api.js';
import { buildContainerSpec, buildSandboxSpec, type ContainerSpecInput, type SandboxSpecInput } from '../../../src/runtimes/oci/index.js';
import { DEFAULT_MASKED_PATHS } from '../../../src/runtimes/oci/defaults.js';
import { Code } from '../../../src/util/errors.js';
import { expectBerthError, fakeProbes, hostFacts, silentLog, tempRootfs } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ root, cleanup } = await tempRootfs({ 'etc/passwd': 'root:x:0:0::/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n', 'etc/group': 'root:x:0:\nwheel:x:10:app\n' }));
});
afterAll(() => cleanup());

const podFiles = { hosts: '/s/p1/hosts', resolvConf: '/s/p1/resolv.conf', hostname: '/s/p1/hostname', shm: '/s/p1/shm' };

function podConfig(over: Record<string, unknown> = {}): PodSandboxConfig {
  return PodSandboxConfig.fromPartial({
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1', attempt: 0 },
    hostname: 'web-0',
    logDirectory: '/var/log/pods/default_web_uid-1',
    annotations: { 'io.katacontainers.config.x': '1', other: 'y' },
    linux: { cgroupParent: '/kubepods/burstable/poduid-1', sysctls: { 'net.core.somaxconn': '1024' }, securityContext: {} },
    ...over,
  });
}

function sandboxInput(over: Partial<SandboxSpecInput> = {}): SandboxSpecInput {
  return {
    id: 'sb1',
    config: podConfig(),
    image: { entrypoint: ['/pause'], env: ['PATH=/bin'] },
    imageName: 'registry.k8s.io/pause:3.9',
    rootfs: root,
    netnsPath: '/run/berth/netns/sb1',
    podFiles,
    cgroupDriver: 'cgroupfs',
    runtimeHandler: 'runc',
    host: hostFacts({ oomScoreAdj: -500 }),
    runtime: { podAnnotations: ['io.katacontainers.*'], enableUnprivilegedPorts: true },
    ...over,
  };
}

function containerInput(config: Record<string, unknown>, over: Partial<ContainerSpecInput> = {}): ContainerSpecInput {
  return {
    id: 'c1',
    sandboxId: 'sb1',
    config: ContainerConfig.fromPartial({ metadata: { name: 'app', attempt: 0 }, ...config }),
    sandboxConfig: podConfig(),
    image: { entrypoint: ['/bin/app'], cmd: ['--serve'], env: ['PATH=/usr/bin', 'MODE=image'], workingDir: '/srv', user: 'app' },
    imageName: 'example.com/app:1',
    rootfs: root,
    sandboxPid: 4242,
    podFiles,
    cgroupDriver: 'cgroupfs',
    host: hostFacts(),
    ...over,
  };
}

const deps = () => ({ probes: fakeProbes(), log: silentLog });

describe('buildSandboxSpec', () => {
  it('pause process, namespaces, mounts, sysctls, cgroup, oom clamp and annotations', async () => {
    const s = await buildSandboxSpec(sandboxInput(), deps());
    expect(s.process!.args).toEqual(['/pause']);
    expect(s.process!.env).toEqual(['PATH=/bin']);
    expect(s.process!.noNewPrivileges).toBe(true);
    expect(s.process!.oomScoreAdj).toBe(-500); // asked -998, berthd is at -500
    expect(s.root).toEqual({ path: root, readonly: true });
    expect(s.hostname).toBe('web-0');
    expect(s.linux!.namespaces).toContainEqual({ type: 'network', path: '/run/berth/netns/sb1' });
    expect(s.linux!.sysctl).toEqual({ 'net.core.somaxconn': '1024', 'net.ipv4.ip_unprivileged_port_start': '0' });
    expect(s.linux!.cgroupsPath).toBe('/kubepods/burstable/poduid-1/sb1');
    expect(s.linux!.resources!.cpu).toEqual({ shares: 2 });
    expect(s.linux!.maskedPaths).toEqual(DEFAULT_MASKED_PATHS);
    expect(s.linux!.seccomp).toBeUndefined();
    expect(s.mounts!.find((m) => m.destination === '/dev/shm')!.source).toBe('/s/p1/shm');
    expect(s.mounts!.find((m) => m.destination === '/etc/resolv.conf')!.source).toBe('/s/p1/resolv.conf');
    expect(s.annotations).toEqual({
      'io.katacontainers.config.x': '1',
      'io.kubernetes.cri.sandbox-id': 'sb1',
      'io.kubernetes.cri.sandbox-namespace': 'default',
      'io.kubernetes.cri.sandbox-uid': 'uid-1',
      'io.kubernetes.cri.sandbox-name': 'web',
      'io.kubernetes.cri.sandbox-log-directory': '/var/log/pods/default_web_uid-1',
      'io.kubernetes.cri.podsandbox.image-name': 'registry.k8s.io/pause:3.9',
      'io.kubernetes.cri.container-type': 'sandbox',
    });
    expect(s.process!.user).toEqual({ uid: 0, gid: 0, additionalGids: [0] });
  });

  it('hostNetwork + hostIPC: no netns, no hostname, host /dev/shm, net sysctls refused', async () => {
    const hostNs = { namespaceOptions: { network: M.NODE, ipc: M.NODE, pid: M.NODE } };
    const cfg = podConfig({ linux: { cgroupParent: '', sysctls: {}, securityContext: hostNs } });
    const s = await buildSandboxSpec(sandboxInput({ config: cfg, netnsPath: undefined }), deps());
    expect(s.linux!.namespaces).toEqual([{ type: 'mount' }]);
    expect(s.hostname).toBeUndefined();
    expect(s.linux!.sysctl).toBeUndefined();
    expect(s.linux!.cgroupsPath).toBeUndefined();
    expect(s.mounts!.find((m) => m.destination === '/dev/shm')!.source).toBe('/dev/shm');
    const bad = podConfig({ linux: { sysctls: { 'net.ipv4.ip_forward': '1' }, securityContext: hostNs } });
    await expectBerthError(() => buildSandboxSpec(sandboxInput({ config: bad }), deps()), Code.INVALID_ARGUMENT, /host network/);
  });

  it('seccomp RuntimeDefault and systemd cgroups', async () => {
    const cfg = podConfig({
      linux: { cgroupParent: 'kubepods-burstable-poduid_1.slice', securityContext: { seccomp: { profileType: T.RuntimeDefault } } },
    });
    const s = await buildSandboxSpec(sandboxInput({ config: cfg, cgroupDriver: 'systemd' }), deps());
    expect(s.linux!.seccomp!.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(s.linux!.cgroupsPath).toBe('kubepods-burstable-poduid_1.slice:berth:sb1');
  });

  it('a pause image without entrypoint and cmd is refused', async () => {
    await expectBerthError(() => buildSandboxSpec(sandboxInput({ image: {} }), deps()), Code.INVALID_ARGUMENT, /pause:3\.9/);
  });
});

describe('buildContainerSpec', () => {
  it('process, env, user, namespaces, mounts, caps, annotations', async () => {
    const s = await buildContainerSpec(
      containerInput({
        args: ['--debug'],
        envs: [{ key: 'MODE', value: Buffer.from('cri') }],
        linux: { resources: { oomScoreAdj: -997n, memoryLimitInBytes: 1n << 28n }, securityContext: { namespaceOptions: { pid: M.CONTAINER } } },
      }),
      deps(),
    );
    expect(s.process!.args).toEqual(['/bin/app', '--debug']);
    expect(s.process!.env).toEqual(['PATH=/usr/bin', 'HOSTNAME=web-0', 'MODE=cri']);
    expect(s.process!.cwd).toBe('/srv');
    expect(s.process!.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [10, 1000] });
    expect(s.process!.noNewPrivileges).toBeUndefined();
    expect(s.process!.oomScoreAdj).toBe(0);
    expect(s.process!.capabilities!.bounding).toHaveLength(14);
    expect(s.linux!.namespaces).toEqual([
      { type: 'pid' },
      { type: 'ipc', path: '/proc/4242/ns/ipc' },
      { type: 'uts', path: '/proc/4242/ns/uts' },
      { type: 'mount' },
      { type: 'network', path: '/proc/4242/ns/net' },
    ]);
    expect(s.linux!.resources!.memory).toEqual({ limit: 2 ** 28, swap: 2 ** 28 });
    expect(s.linux!.cgroupsPath).toBe('/kubepods/burstable/poduid-1/c1');
    expect(s.mounts!.map((m) => m.destination)).toEqual([
      '/proc', '/dev', '/dev/pts', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/dev/shm',
    ]);
    expect(s.annotations).toEqual({
      'io.kubernetes.cri.sandbox-id': 'sb1',
      'io.kubernetes.cri.sandbox-namespace': 'default',
      'io.kubernetes.cri.sandbox-uid': 'uid-1',
      'io.kubernetes.cri.sandbox-name': 'web',
      'io.kubernetes.cri.container-name': 'app',
      'io.kubernetes.cri.image-name': 'example.com/app:1',
      'io.kubernetes.cri.container-type': 'container',
    });
  });

  it('working dir: config beats image, "/" when neither', async () => {
    expect((await buildContainerSpec(containerInput({ workingDir: '/w' }), deps())).process!.cwd).toBe('/w');
    const noWd = containerInput({}, { image: { cmd: ['/x'] } });
    expect((await buildContainerSpec(noWd, deps())).process!.cwd).toBe('/');
  });

  it('HOSTNAME falls back to the node when the pod has none; tty adds TERM', async () => {
    const s = await buildContainerSpec(containerInput({ tty: true }, { sandboxConfig: podConfig({ hostname: '' }) }), deps());
    expect(s.process!.terminal).toBe(true);
    expect(s.process!.env).toContain('HOSTNAME=node-1');
    expect(s.process!.env).toContain('TERM=xterm');
  });

  it('hardening: no_new_privs, readonly rootfs, masked path override, seccomp, apparmor', async () => {
    const s = await buildContainerSpec(
      containerInput(
        {
          linux: {
            securityContext: {
              noNewPrivs: true,
              readonlyRootfs: true,
              maskedPaths: ['/proc/kcore'],
              seccomp: { profileType: T.RuntimeDefault },
              capabilities: { dropCapabilities: ['ALL'], addCapabilities: ['NET_BIND_SERVICE'] },
            },
          },
        },
        { host: hostFacts({ apparmorEnabled: true, apparmorDefaultProfile: 'berth-default', cgroupV2: true }) },
      ),
      deps(),
    );
    expect(s.process!.noNewPrivileges).toBe(true);
    expect(s.root!.readonly).toBe(true);
    expect(s.linux!.maskedPaths).toEqual(['/proc/kcore']);
    expect(s.linux!.readonlyPaths).toContain('/proc/sys');
    expect(s.process!.capabilities!.bounding).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(s.linux!.seccomp!.syscalls!.flatMap((r) => r.names)).not.toContain('chroot');
    expect(s.process!.apparmorProfile).toBe('berth-default');
    expect(s.linux!.namespaces).toContainEqual({ type: 'cgroup' });
    expect(s.mounts!.find((m) => m.destination === '/etc/hosts')!.options).toContain('ro');
  });

  it('privileged: host caps, devices, rw sysfs/cgroupfs, nothing masked, unconfined', async () => {
    const probes = fakeProbes();
    probes.devices.set('/dev/null', [{ path: '/dev/null', type: 'c', major: 1, minor: 3 }]);
    const sandboxConfig = podConfig({ linux: { securityContext: { privileged: true } } });
    const s = await buildContainerSpec(
      containerInput({ linux: { securityContext: { privileged: true, seccomp: { profileType: T.RuntimeDefault } } } }, { sandboxConfig }),
      { probes, log: silentLog },
    );
    expect(s.process!.capabilities!.bounding).toEqual(hostFacts().capabilities);
    expect(s.linux!.maskedPaths).toBeUndefined();
    expect(s.linux!.readonlyPaths).toBeUndefined();
    expect(s.linux!.seccomp).toBeUndefined();
    expect(s.linux!.devices).toEqual([{ path: '/dev/null', type: 'c', major: 1, minor: 3 }]);
    expect(s.linux!.resources!.devices).toEqual([{ allow: true, access: 'rwm' }]);
    expect(s.mounts!.find((m) => m.destination === '/sys')!.options).toContain('rw');
    expect(s.mounts!.find((m) => m.destination === '/sys/fs/cgroup')!.options).toContain('rw');
  });

  it('privileged containers need a privileged sandbox', async () => {
    await expectBerthError(
      () => buildContainerSpec(containerInput({ linux: { securityContext: { privileged: true } } }), deps()),
      Code.INVALID_ARGUMENT,
      /privileged pod sandbox/,
    );
  });

  it('AppArmor Localhost on a host without AppArmor is refused', async () => {
    await expectBerthError(
      () => buildContainerSpec(containerInput({ linux: { securityContext: { apparmor: { profileType: T.Localhost, localhostRef: 'p' } } } }), deps()),
      Code.FAILED_PRECONDITION,
      /AppArmor is not enabled/,
    );
  });

  it('an explicit cgroupsPath is used verbatim', async () => {
    const s = await buildContainerSpec(containerInput({}, { cgroupsPath: 'x.slice:berth:c1' }), deps());
    expect(s.linux!.cgroupsPath).toBe('x.slice:berth:c1');
  });

  it('the spec survives a JSON round trip unchanged (no bigints, no undefined leftovers)', async () => {
    const s = await buildContainerSpec(containerInput({}), deps());
    expect(JSON.parse(JSON.stringify(s))).toStrictEqual(s);
  });
});
