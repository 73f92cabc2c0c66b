import { describe, expect, it } from 'vitest';
import { MountPropagation, NamespaceMode, Protocol, SecurityProfile_ProfileType } from '../../../src/gen/runtime/v1/api.js';
import { loadPod } from '../../../src/cli/manifest/load.js';
import { containerConfig, defaultPullPolicy, planPod, type TranslateOptions } from '../../../src/cli/manifest/translate.js';

const GiB = 1n << 30n;
const opts: TranslateOptions = { berthRoot: '/var/lib/berth', memoryCapacityBytes: 8n * GiB, hostResolvConf: 'nameserver 1.1.1.1\n', uid: 'uid-1', nameSuffix: 'abcde' };
const facts = { podIP: '10.0.0.9', hostIP: '192.168.0.2', nodeName: 'node1' };

const pod = loadPod(`apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels: { app: web }
  annotations: { team: a }
spec:
  runtimeClassName: crun
  terminationGracePeriodSeconds: 7
  securityContext: { runAsUser: 1000, supplementalGroups: [5], fsGroup: 2000, sysctls: [{ name: net.ipv4.ip_unprivileged_port_start, value: '0' }] }
  initContainers:
  - { name: migrate, image: 'reg/db:1', command: [migrate] }
  - { name: proxy, image: 'reg/proxy@sha256:${'a'.repeat(64)}', restartPolicy: Always }
  containers:
  - name: app
    image: reg/app
    command: [run, '$(MODE)']
    env: [{ name: MODE, value: fast }, { name: ME, valueFrom: { fieldRef: { fieldPath: metadata.name } } }, { name: IP, valueFrom: { fieldRef: { fieldPath: status.podIP } } }]
    ports: [{ containerPort: 8080, hostPort: 80 }, { containerPort: 53, protocol: UDP }]
    resources: { requests: { cpu: 250m, memory: 1Gi }, limits: { cpu: '1', memory: 2Gi } }
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { add: [NET_ADMIN] } }
    volumeMounts:
    - { name: cache, mountPath: /cache }
    - { name: conf, mountPath: /etc/app, readOnly: true, subPath: app, mountPropagation: HostToContainer }
  - { name: sidecar, image: 'reg/app:latest', imagePullPolicy: IfNotPresent }
  volumes:
  - { name: cache, emptyDir: {} }
  - { name: conf, hostPath: { path: /srv/conf, type: DirectoryOrCreate } }
`);

describe('planPod', () => {
  const plan = planPod(pod, opts);

  it('builds the sandbox config the kubelet would', () => {
    const s = plan.sandbox;
    expect(s.metadata).toEqual({ name: 'web', namespace: 'shop', uid: 'uid-1', attempt: 0 });
    expect(s.hostname).toBe('web');
    expect(s.logDirectory).toBe('/var/log/pods/shop_web_uid-1');
    expect(s.labels).toEqual({ app: 'web', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'uid-1' });
    expect(s.annotations).toEqual({ team: 'a', 'berth.dev/qos-tier': 'Burstable', 'berth.dev/created-by': 'berth-run' });
    expect(s.portMappings).toEqual([{ protocol: Protocol.TCP, containerPort: 8080, hostPort: 80, hostIp: '' }]);
    expect(s.dnsConfig).toBeUndefined();
    expect(s.linux!.cgroupParent).toBe('');
    expect(s.linux!.sysctls).toEqual({ 'net.ipv4.ip_unprivileged_port_start': '0' });
    expect(s.linux!.securityContext).toMatchObject({
      namespaceOptions: { network: NamespaceMode.POD, pid: NamespaceMode.CONTAINER, ipc: NamespaceMode.POD },
      runAsUser: { value: 1000n },
      supplementalGroups: [5n, 2000n],
      privileged: false,
      seccomp: { profileType: SecurityProfile_ProfileType.Unconfined },
    });
    expect(s.linux!.resources).toMatchObject({ cpuShares: 256n, cpuQuota: 0n, memoryLimitInBytes: 0n });
    expect(plan.runtimeHandler).toBe('crun');
    expect(plan.stopTimeoutSeconds).toBe(7);
  });

  it('orders init containers, marks sidecars, and picks pull policies', () => {
    expect(plan.init.map((c) => [c.name, c.kind])).toEqual([['migrate', 'init'], ['proxy', 'sidecar']]);
    expect(plan.containers.map((c) => c.name)).toEqual(['app', 'sidecar']);
    expect(plan.images).toEqual([
      { image: 'reg/db:1', policy: 'IfNotPresent' },
      { image: `reg/proxy@sha256:${'a'.repeat(64)}`, policy: 'IfNotPresent' },
      { image: 'reg/app', policy: 'Always' },
      { image: 'reg/app:latest', policy: 'IfNotPresent' },
    ]);
    expect(defaultPullPolicy('localhost:5000/x')).toBe('Always');
    expect(defaultPullPolicy('localhost:5000/x:1')).toBe('IfNotPresent');
  });

  it('plans volumes: emptyDirs under the berth root, subPath dirs', () => {
    expect(plan.volumes).toEqual([
      { name: 'cache', index: 0, kind: 'emptyDir', path: '/var/lib/berth/volumes/uid-1/cache', memory: false, sizeLimitBytes: undefined },
      { name: 'conf', index: 1, kind: 'hostPath', path: '/srv/conf', type: 'DirectoryOrCreate' },
    ]);
    expect(plan.containers[0]!.subPathDirs).toEqual(['/srv/conf/app']);
  });

  it('flags override the runtime class and set the QoS class annotation; generateName gets a suffix', () => {
    const p = planPod({ ...pod, metadata: { generateName: 'job-', namespace: 'x' } }, { ...opts, runtimeClass: 'runc', qosClass: 'BE' });
    expect(p.name).toBe('job-abcde');
    expect(p.runtimeHandler).toBe('runc');
    expect(p.sandbox.annotations['berth.dev/qos-class']).toBe('BE');
  });
});

describe('containerConfig', () => {
  const plan = planPod(pod, opts);
  const c = containerConfig(pod, plan, plan.containers[0]!, facts, 8n * GiB);

  it('resolves env with downward-API values and expands the command', () => {
    expect(c.command).toEqual(['run', 'fast']);
    expect(Object.fromEntries(c.envs.map((e) => [e.key, Buffer.from(e.value).toString()]))).toEqual({ MODE: 'fast', ME: 'web', IP: '10.0.0.9' });
  });

  it('sets kubelet labels, annotations and log path', () => {
    expect(c.metadata).toEqual({ name: 'app', attempt: 0 });
    expect(c.labels).toEqual({ 'io.kubernetes.container.name': 'app', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'uid-1' });
    expect(c.logPath).toBe('app/0.log');
    expect(c.annotations).toMatchObject({
      'io.kubernetes.container.restartCount': '0',
      'io.kubernetes.pod.terminationGracePeriod': '7',
      'berth.dev/container-kind': 'app',
      'berth.dev/memory-request': String(GiB),
    });
    expect(JSON.parse(c.annotations['io.kubernetes.container.ports']!)).toEqual([
      { hostPort: 80, containerPort: 8080, protocol: 'TCP' },
      { containerPort: 53, protocol: 'UDP' },
    ]);
  });

  it('maps resources and the security context', () => {
    expect(c.linux!.resources).toMatchObject({ cpuShares: 256n, cpuQuota: 100_000n, cpuPeriod: 100_000n, memoryLimitInBytes: 2n * GiB, oomScoreAdj: 875n });
    expect(c.linux!.securityContext).toMatchObject({
      runAsUser: { value: 1000n },
      readonlyRootfs: true,
      noNewPrivs: true,
      capabilities: { addCapabilities: ['NET_ADMIN'], dropCapabilities: [] },
      supplementalGroups: [5n, 2000n],
      seccomp: { profileType: SecurityProfile_ProfileType.Unconfined },
    });
  });

  it('mounts volumes, with subPath, read-only and propagation', () => {
    expect(c.mounts.map((m) => [m.containerPath, m.hostPath, m.readonly, m.propagation])).toEqual([
      ['/cache', '/var/lib/berth/volumes/uid-1/cache', false, MountPropagation.PROPAGATION_PRIVATE],
      ['/etc/app', '/srv/conf/app', true, MountPropagation.PROPAGATION_HOST_TO_CONTAINER],
    ]);
  });

  it('marks init containers', () => {
    expect(containerConfig(pod, plan, plan.init[0]!, facts, 8n * GiB).annotations['berth.dev/container-kind']).toBe('init');
  });
});
