/**
 * A validated Pod → the CRI calls the kubelet would make (pure): the PodSandboxConfig, one
 * ContainerConfig per container (built once the pod IP is known, for downward-API env), the
 * images to pull with their pull policies, the volumes to prepare, and warnings for settings
 * that are accepted but have no effect without a kubelet.
 */
import { ContainerConfig, PodSandboxConfig, Protocol, type PortMapping } from '../../gen/runtime/v1/api.js';
import * as L from '../labels.js';
import { podDns } from './dns.js';
import { resolveEnv, type DownwardFacts } from './env.js';
import { containerLinuxResources, effective, milliCpuToQuota, milliCpuToShares, CFS_PERIOD_US, podQosTier, podTotals, type QosTier } from './resources.js';
import type { Container, InitContainer, Pod, PodSecurityContext } from './schema.js';
import { containerSecurityContext, sandboxSecurityContext } from './security.js';
import { containerMounts, planVolumes, podVolumesDir, subPathDirs, type VolumePrep } from './volumes.js';

export interface TranslateOptions {
  /** --runtime-class: overrides spec.runtimeClassName. */
  runtimeClass?: string;
  /** --qos-class: overrides the berth.dev/qos-class annotation. */
  qosClass?: string;
  /** berthd's root directory (emptyDir volumes go under it). */
  berthRoot: string;
  /** The node's memory (MemTotal), for Burstable oom_score_adj. */
  memoryCapacityBytes: bigint;
  /** The node's /etc/resolv.conf text. */
  hostResolvConf: string;
  /** The pod uid when the manifest has none (a fresh UUID). */
  uid: string;
  /** Random suffix for metadata.generateName. */
  nameSuffix: string;
}

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';
export type ContainerKind = 'init' | 'sidecar' | 'app';

export interface ContainerPlan {
  name: string;
  kind: ContainerKind;
  image: string;
  spec: Container | InitContainer;
  /** Host dirs to create for subPath mounts. */
  subPathDirs: string[];
}

export interface PodPlan {
  name: string;
  namespace: string;
  uid: string;
  runtimeHandler: string;
  tier: QosTier;
  qosClass?: string;
  sandbox: PodSandboxConfig;
  images: { image: string; policy: PullPolicy }[];
  volumes: VolumePrep[];
  volumesDir: string;
  fsGroup?: number;
  /** The pod-level security context (for checks that merge it with a container's). */
  podSecurity?: PodSecurityContext;
  init: ContainerPlan[];
  containers: ContainerPlan[];
  stopTimeoutSeconds: number;
  warnings: string[];
}

export const POD_LOG_ROOT = '/var/log/pods';
export const DEFAULT_GRACE_SECONDS = 30;

/** The kubelet's default pull policy: Always for :latest or untagged images, else IfNotPresent. */
export function defaultPullPolicy(image: string): PullPolicy {
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  const tag = colon >= 0 ? last.slice(colon + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** The pod's hostname as the kubelet derives it: spec.hostname or the name, at most 63 characters. */
export function podHostname(pod: Pod, name: string): string {
  return (pod.spec.hostname ?? name).slice(0, 63).replace(/[-.]+$/, '');
}

function portMappings(pod: Pod): PortMapping[] {
  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  return all.flatMap((c) =>
    (c.ports ?? [])
      .filter((p) => p.hostPort)
      .map((p) => ({ protocol: Protocol[p.protocol ?? 'TCP'], containerPort: p.containerPort, hostPort: p.hostPort!, hostIp: p.hostIP ?? '' })),
  );
}

function sandboxResources(pod: Pod) {
  const t = podTotals(
    pod.spec.containers.map((c) => c.resources),
    (pod.spec.initContainers ?? []).map((c) => c.resources),
  );
  const quota = milliCpuToQuota(t.limits.cpuMilli);
  return {
    cpuShares: BigInt(milliCpuToShares(t.requests.cpuMilli)),
    cpuQuota: BigInt(quota),
    cpuPeriod: quota ? BigInt(CFS_PERIOD_US) : 0n,
    memoryLimitInBytes: t.limits.memoryBytes ?? 0n,
  };
}

function warningsOf(pod: Pod): string[] {
  const w: string[] = [];
  const rp = pod.spec.restartPolicy;
  if (rp === 'Always' || rp === 'OnFailure') {
    w.push(`spec.restartPolicy: ${rp} is not enforced: berth run starts each container once and never restarts it (there is no kubelet)`);
  }
  return w;
}

export function planPod(pod: Pod, o: TranslateOptions): PodPlan {
  const md = pod.metadata;
  const name = md.name ?? `${md.generateName}${o.nameSuffix}`;
  const namespace = md.namespace ?? 'default';
  const uid = md.uid ?? o.uid;
  const warnings = warningsOf(pod);
  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  const tier = podQosTier(all.map((c) => c.resources));
  const qosClass = o.qosClass ?? md.annotations?.[L.QOS_CLASS];
  const volumesDir = podVolumesDir(o.berthRoot, uid);
  const volumes = planVolumes(pod.spec, volumesDir);
  const dns = podDns(pod.spec, o.hostResolvConf, warnings);
  const annotations: Record<string, string> = { ...md.annotations, [L.QOS_TIER]: tier, [L.CREATED_BY]: 'berth-run' };
  if (qosClass) annotations[L.QOS_CLASS] = qosClass;
  const sandbox = PodSandboxConfig.fromPartial({
    metadata: { name, namespace, uid, attempt: 0 },
    hostname: pod.spec.hostNetwork ? '' : podHostname(pod, name),
    logDirectory: `${POD_LOG_ROOT}/${namespace}_${name}_${uid}`,
    dnsConfig: dns,
    portMappings: portMappings(pod),
    labels: { ...md.labels, [L.POD_NAME]: name, [L.POD_NAMESPACE]: namespace, [L.POD_UID]: uid },
    annotations,
    linux: {
      cgroupParent: '',
      securityContext: sandboxSecurityContext(pod.spec),
      sysctls: Object.fromEntries((pod.spec.securityContext?.sysctls ?? []).map((s) => [s.name, s.value])),
      resources: sandboxResources(pod),
    },
  });
  const images = new Map<string, PullPolicy>();
  const plan = (c: Container | InitContainer, kind: ContainerKind): ContainerPlan => {
    const policy = c.imagePullPolicy ?? defaultPullPolicy(c.image);
    // One pull per image: Always wins over IfNotPresent, IfNotPresent over Never.
    const prev = images.get(c.image);
    const rank = { Never: 0, IfNotPresent: 1, Always: 2 } as const;
    if (!prev || rank[policy] > rank[prev]) images.set(c.image, policy);
    return { name: c.name, kind, image: c.image, spec: c, subPathDirs: subPathDirs(c, volumes) };
  };
  const init = (pod.spec.initContainers ?? []).map((c) => plan(c, c.restartPolicy === 'Always' ? 'sidecar' : 'init'));
  const containers = pod.spec.containers.map((c) => plan(c, 'app'));
  return {
    name,
    namespace,
    uid,
    runtimeHandler: o.runtimeClass ?? pod.spec.runtimeClassName ?? '',
    tier,
    qosClass,
    sandbox,
    images: [...images].map(([image, policy]) => ({ image, policy })),
    volumes: [...volumes.values()],
    volumesDir,
    fsGroup: pod.spec.securityContext?.fsGroup,
    podSecurity: pod.spec.securityContext,
    init,
    containers,
    stopTimeoutSeconds: pod.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS,
    warnings,
  };
}

/** The CreateContainer config of one container, once the pod's IP is known. */
export function containerConfig(pod: Pod, plan: PodPlan, c: ContainerPlan, facts: Pick<DownwardFacts, 'podIP' | 'hostIP' | 'nodeName'>, memoryCapacityBytes: bigint): ContainerConfig {
  const spec = c.spec;
  const env = resolveEnv(spec.env, spec.command, spec.args, {
    ...facts,
    name: plan.name,
    namespace: plan.namespace,
    uid: plan.uid,
    labels: pod.metadata.labels ?? {},
    annotations: plan.sandbox.annotations,
  });
  const volumes = new Map(plan.volumes.map((v) => [v.name, v]));
  const r = containerLinuxResources(spec.resources, plan.tier, memoryCapacityBytes);
  const annotations: Record<string, string> = {
    [L.CONTAINER_RESTART_COUNT]: '0',
    [L.CONTAINER_TERMINATION_MESSAGE_PATH]: spec.terminationMessagePath ?? '/dev/termination-log',
    [L.CONTAINER_TERMINATION_MESSAGE_POLICY]: spec.terminationMessagePolicy ?? 'File',
    [L.POD_TERMINATION_GRACE_PERIOD]: String(plan.stopTimeoutSeconds),
    [L.CONTAINER_KIND]: c.kind,
  };
  const memRequest = effective(spec.resources).requests.memoryBytes;
  if (memRequest) annotations[L.MEMORY_REQUEST] = String(memRequest);
  if (spec.ports?.length) {
    annotations[L.CONTAINER_PORTS] = JSON.stringify(spec.ports.map((p) => ({ name: p.name, hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol ?? 'TCP' })));
  }
  return ContainerConfig.fromPartial({
    metadata: { name: c.name, attempt: 0 },
    image: { image: c.image, annotations: {}, userSpecifiedImage: c.image },
    command: env.command,
    args: env.args,
    workingDir: spec.workingDir ?? '',
    envs: env.envs.map((e) => ({ key: e.key, value: Buffer.from(e.value) })),
    mounts: containerMounts(spec, volumes),
    labels: { [L.CONTAINER_NAME]: c.name, [L.POD_NAME]: plan.name, [L.POD_NAMESPACE]: plan.namespace, [L.POD_UID]: plan.uid },
    annotations,
    logPath: `${c.name}/0.log`,
    stdin: spec.stdin ?? false,
    stdinOnce: spec.stdinOnce ?? false,
    tty: spec.tty ?? false,
    linux: {
      resources: {
        cpuShares: BigInt(r.cpuShares),
        cpuQuota: BigInt(r.cpuQuota),
        cpuPeriod: BigInt(r.cpuPeriod),
        memoryLimitInBytes: BigInt(r.memoryLimitInBytes),
        oomScoreAdj: BigInt(r.oomScoreAdj),
      },
      securityContext: containerSecurityContext(pod.spec, spec),
    },
  });
}
