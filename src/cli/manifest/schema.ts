/**
 * The subset of a Kubernetes v1 Pod that `berth run` honours, as strict zod schemas: any
 * other field is an error naming it (see unsupported.ts for the reasons given for known
 * Kubernetes fields). Cross-field rules live in checks.ts.
 */
import { z } from 'zod';
import { isNegative, parseQuantity } from './quantity.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const dnsLabel = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(DNS_LABEL, 'must be a DNS label: lowercase letters, digits and "-", starting and ending with a letter or digit');
const dnsSubdomain = z
  .string()
  .max(253, 'must be at most 253 characters')
  .regex(DNS_SUBDOMAIN, 'must be a DNS subdomain: lowercase letters, digits, "-" and "."');
const absolutePath = z.string().startsWith('/', 'must be an absolute path');
const stringMap = z.record(z.string(), z.string());
const nonNegativeInt = z.number().int('must be an integer').min(0, 'must not be negative');
const port = z.number().int('must be an integer').min(1, 'must be 1..65535').max(65535, 'must be 1..65535');

export const quantity = z
  .union([z.string(), z.number()], { error: 'must be a quantity such as "500m", "1", "128Mi"' })
  .superRefine((v, ctx) => {
    const q = parseQuantity(v);
    if (!q) ctx.addIssue({ code: 'custom', message: `invalid quantity ${JSON.stringify(v)}` });
    else if (isNegative(q)) ctx.addIssue({ code: 'custom', message: `quantity ${JSON.stringify(v)} must not be negative` });
  });

const resourceList = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional() });

const seccompProfile = z.strictObject({
  type: z.enum(['RuntimeDefault', 'Unconfined', 'Localhost']),
  localhostProfile: z.string().optional(),
});

const capabilities = z.strictObject({ add: z.array(z.string()).optional(), drop: z.array(z.string()).optional() });

const containerSecurityContext = z.strictObject({
  runAsUser: nonNegativeInt.optional(),
  runAsGroup: nonNegativeInt.optional(),
  runAsNonRoot: z.boolean().optional(),
  privileged: z.boolean().optional(),
  readOnlyRootFilesystem: z.boolean().optional(),
  allowPrivilegeEscalation: z.boolean().optional(),
  capabilities: capabilities.optional(),
  seccompProfile: seccompProfile.optional(),
  procMount: z.literal('Default', { error: 'only Default is supported (Unmasked needs user namespaces, which berth does not offer)' }).optional(),
});

const podSecurityContext = z.strictObject({
  runAsUser: nonNegativeInt.optional(),
  runAsGroup: nonNegativeInt.optional(),
  runAsNonRoot: z.boolean().optional(),
  supplementalGroups: z.array(nonNegativeInt).optional(),
  fsGroup: nonNegativeInt.optional(),
  sysctls: z.array(z.strictObject({ name: z.string().min(1), value: z.string() })).optional(),
  seccompProfile: seccompProfile.optional(),
});

const envVar = z.strictObject({
  name: z.string().min(1, 'must not be empty'),
  value: z.string().optional(),
  valueFrom: z
    .strictObject({
      fieldRef: z.strictObject({ fieldPath: z.string(), apiVersion: z.literal('v1').optional() }),
    })
    .optional(),
});

const containerPort = z.strictObject({
  name: z.string().optional(),
  containerPort: port,
  hostPort: z.number().int().min(0).max(65535, 'must be 0..65535').optional(),
  hostIP: z.string().optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
});

const volumeMount = z.strictObject({
  name: z.string(),
  mountPath: absolutePath,
  readOnly: z.boolean().optional(),
  subPath: z.string().optional(),
  mountPropagation: z.enum(['None', 'HostToContainer', 'Bidirectional']).optional(),
});

const containerFields = {
  name: dnsLabel,
  image: z.string().min(1, 'must name an image'),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  workingDir: absolutePath.optional(),
  env: z.array(envVar).optional(),
  ports: z.array(containerPort).optional(),
  resources: z.strictObject({ requests: resourceList.optional(), limits: resourceList.optional() }).optional(),
  securityContext: containerSecurityContext.optional(),
  volumeMounts: z.array(volumeMount).optional(),
  stdin: z.boolean().optional(),
  stdinOnce: z.boolean().optional(),
  tty: z.boolean().optional(),
  terminationMessagePath: absolutePath.optional(),
  terminationMessagePolicy: z.enum(['File', 'FallbackToLogsOnError']).optional(),
};

export const containerSchema = z.strictObject(containerFields);
/** Init containers may be sidecars (restartPolicy: Always): started, not waited for. */
export const initContainerSchema = z.strictObject({ ...containerFields, restartPolicy: z.literal('Always').optional() });

const hostPathTypes = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'] as const;

export const volumeSchema = z.strictObject({
  name: dnsLabel,
  hostPath: z.strictObject({ path: absolutePath, type: z.enum(hostPathTypes).optional() }).optional(),
  emptyDir: z.strictObject({ medium: z.enum(['', 'Memory']).optional(), sizeLimit: quantity.optional() }).optional(),
});

export const podSpecSchema = z.strictObject({
  containers: z.array(containerSchema).min(1, 'a pod needs at least one container'),
  initContainers: z.array(initContainerSchema).optional(),
  volumes: z.array(volumeSchema).optional(),
  restartPolicy: z.enum(['Always', 'OnFailure', 'Never']).optional(),
  terminationGracePeriodSeconds: nonNegativeInt.optional(),
  hostNetwork: z.boolean().optional(),
  hostPID: z.boolean().optional(),
  hostIPC: z.boolean().optional(),
  shareProcessNamespace: z.boolean().optional(),
  hostname: dnsLabel.optional(),
  subdomain: dnsLabel.optional(),
  dnsPolicy: z.enum(['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None']).optional(),
  dnsConfig: z
    .strictObject({
      nameservers: z.array(z.string()).optional(),
      searches: z.array(z.string()).optional(),
      options: z.array(z.strictObject({ name: z.string().min(1), value: z.string().optional() })).optional(),
    })
    .optional(),
  runtimeClassName: dnsSubdomain.optional(),
  securityContext: podSecurityContext.optional(),
  // Honoured trivially: berth never mounts service account tokens nor injects service env vars.
  automountServiceAccountToken: z.boolean().optional(),
  enableServiceLinks: z.boolean().optional(),
  os: z.strictObject({ name: z.literal('linux', { error: 'berth runs Linux pods only' }) }).optional(),
});

export const metadataSchema = z.strictObject({
  name: dnsSubdomain.optional(),
  generateName: z.string().optional(),
  namespace: dnsLabel.optional(),
  uid: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be letters, digits and "-" (a UUID)').optional(),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
});

export const podSchema = z.strictObject({
  apiVersion: z.literal('v1', { error: 'must be "v1"' }),
  kind: z.literal('Pod', { error: 'must be "Pod" (berth run takes a single Pod manifest)' }),
  metadata: metadataSchema,
  spec: podSpecSchema,
});

export type Pod = z.infer<typeof podSchema>;
export type PodSpec = z.infer<typeof podSpecSchema>;
export type Container = z.infer<typeof containerSchema>;
export type InitContainer = z.infer<typeof initContainerSchema>;
export type Volume = z.infer<typeof volumeSchema>;
export type ResourceList = z.infer<typeof resourceList>;
export type EnvVar = z.infer<typeof envVar>;
export type ContainerSecurityContext = z.infer<typeof containerSecurityContext>;
export type PodSecurityContext = z.infer<typeof podSecurityContext>;
export type VolumeMount = z.infer<typeof volumeMount>;
export type SeccompProfile = z.infer<typeof seccompProfile>;
