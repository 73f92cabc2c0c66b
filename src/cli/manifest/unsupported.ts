/**
 * Why a real Kubernetes Pod field is refused by `berth run` (pure). Fields not listed here
 * are reported as unknown (usually a typo).
 */

const SCHEDULING = 'a scheduling field: berth run places the pod on this node; remove it';
const API = 'it needs the Kubernetes API server, which berth run does not use';
const SERVER_SET = 'it is set by the API server; remove it';
const KUBELET = 'nothing runs it: berth run has no kubelet';

const POD_FIELDS: Record<string, string> = {
  status: 'status is written by the kubelet, not read from a manifest; remove it',
};

const METADATA_FIELDS: Record<string, string> = Object.fromEntries(
  ['creationTimestamp', 'resourceVersion', 'selfLink', 'generation', 'managedFields', 'deletionTimestamp', 'deletionGracePeriodSeconds'].map((k) => [
    k,
    SERVER_SET,
  ]),
);
METADATA_FIELDS.ownerReferences = `owner references: ${API}`;
METADATA_FIELDS.finalizers = `finalizers: ${API}`;

const SPEC_FIELDS: Record<string, string> = {
  ...Object.fromEntries(
    ['nodeName', 'nodeSelector', 'affinity', 'tolerations', 'schedulerName', 'priority', 'priorityClassName', 'preemptionPolicy', 'topologySpreadConstraints', 'schedulingGates', 'readinessGates'].map((k) => [k, SCHEDULING]),
  ),
  serviceAccountName: `service accounts: ${API}`,
  serviceAccount: `service accounts: ${API}`,
  imagePullSecrets: 'registry credentials come from berthd\'s configuration (registry.auths)',
  ephemeralContainers: 'use `berth exec` to run commands in a running pod',
  hostAliases: 'berth writes the pod\'s /etc/hosts itself; custom entries are not supported',
  activeDeadlineSeconds: KUBELET,
  overhead: 'pod overhead is set by RuntimeClass admission in a cluster',
  setHostnameAsFQDN: 'not supported by berth',
  hostUsers: 'user namespaces are not supported by berth',
  resourceClaims: 'dynamic resource allocation is not supported by berth',
  resources: 'pod-level resources are not supported; set resources per container',
};

const CONTAINER_FIELDS: Record<string, string> = {
  livenessProbe: `probes: ${KUBELET}`,
  readinessProbe: `probes: ${KUBELET}`,
  startupProbe: `probes: ${KUBELET}`,
  lifecycle: `lifecycle hooks: ${KUBELET}`,
  envFrom: `ConfigMaps and Secrets: ${API}; set env values directly`,
  volumeDevices: 'block volumes are not supported by berth',
  resizePolicy: 'in-place resize is not supported by berth run',
  restartPolicy: 'only init containers take a restartPolicy (Always: a sidecar)',
};

const VOLUME_FIELDS: Record<string, string> = Object.fromEntries(
  [
    'configMap',
    'secret',
    'persistentVolumeClaim',
    'projected',
    'downwardAPI',
    'nfs',
    'csi',
    'ephemeral',
    'iscsi',
    'cephfs',
    'rbd',
    'fc',
    'gitRepo',
    'image',
  ].map((k) => [k, 'only hostPath and emptyDir volumes are supported by berth run']),
);

const ENV_SOURCE_FIELDS: Record<string, string> = {
  secretKeyRef: `Secrets: ${API}`,
  configMapKeyRef: `ConfigMaps: ${API}`,
  resourceFieldRef: 'resourceFieldRef is not supported by berth run; write the value directly',
};

const SECURITY_FIELDS: Record<string, string> = {
  seLinuxOptions: 'SELinux is not supported by berth',
  windowsOptions: 'berth runs Linux pods only',
  appArmorProfile: 'AppArmor profiles are not supported by berth run',
  fsGroupChangePolicy: 'berth run applies fsGroup to emptyDir volumes only',
  supplementalGroupsPolicy: 'not supported by berth',
  seLinuxChangePolicy: 'SELinux is not supported by berth',
};

const RESOURCE_NAME = /^(ephemeral-storage|hugepages-.+|.+\/.+)$/;

/** Path with array indices replaced by "*", e.g. spec.containers.*.env.*.valueFrom. */
function shape(path: (string | number)[]): string {
  return path.map((p) => (typeof p === 'number' ? '*' : p)).join('.');
}

/** The reason an unrecognized `key` at object `path` is refused, or undefined if unknown. */
export function unsupportedReason(path: (string | number)[], key: string): string | undefined {
  const s = shape(path);
  if (s === '') return POD_FIELDS[key];
  if (s === 'metadata') return METADATA_FIELDS[key];
  if (s === 'spec') return SPEC_FIELDS[key];
  if (s === 'spec.containers.*' || s === 'spec.initContainers.*') return key === 'restartPolicy' && s.startsWith('spec.initContainers') ? undefined : CONTAINER_FIELDS[key];
  if (s === 'spec.volumes.*') return VOLUME_FIELDS[key];
  if (/^spec\.(init)?[cC]ontainers\.\*\.env\.\*\.valueFrom$/.test(s)) return ENV_SOURCE_FIELDS[key];
  if (/securityContext$/.test(s)) return SECURITY_FIELDS[key];
  if (/resources\.(limits|requests)$/.test(s)) {
    return RESOURCE_NAME.test(key) ? `resource "${key}" is not enforced by berth run (only cpu and memory)` : undefined;
  }
  if (/resources$/.test(s) && key === 'claims') return 'dynamic resource allocation is not supported by berth';
  return undefined;
}
