/**
 * berthd configuration: embedded defaults, an optional YAML file, then flags. Validated with
 * zod; unknown keys are errors (a typo must not be silently ignored) and every error names
 * the offending key path.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isNotFoundErrno, messageOf } from '../util/errors.js';
import { policyProblems, runtimePolicySchema } from '../runtimes/policy/schema.js';
import { DEFAULT_THRESHOLDS } from '../sli/verdict.js';
import { qosConfigSchema } from '../qos/config-schema.js';

const hostPort = z.string().regex(/^[A-Za-z0-9.\-\[\]:]+$/, 'expected host or host:port');
const endpoint = z.string().regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'expected an http:// or https:// URL');
const absPath = z.string().startsWith('/', 'expected an absolute path');

const authSchema = z
  .object({
    username: z.string().optional(),
    password: z.string().optional(),
    auth: z.string().optional(),
    identitytoken: z.string().optional(),
  })
  .strict();

const cocoSchema = z
  .object({
    /** Key Broker Service URL, written to initdata's aa.toml and cdh.toml. */
    kbsUrl: endpoint.optional(),
    /** Agent policy (Rego) file, written to initdata's policy.rego. */
    policyPath: absPath.optional(),
    /** Digest algorithm initdata declares (the TEE measures initdata with it). */
    initdataAlgorithm: z.enum(['sha256', 'sha384', 'sha512']).default('sha384'),
  })
  .strict();

const handlerSchema = z
  .object({
    /** Backend kind: plain containers, a Kata VM, or a confidential (TEE) Kata VM. */
    type: z.enum(['runc', 'kata', 'coco']).default('runc'),
    /** The containerd shim v2 binary (name looked up in PATH, or an absolute path). */
    shim: z.string().min(1).default('containerd-shim-runc-v2'),
    /** runc-type handlers: the OCI runtime binary the shim runs (runc, crun …). */
    binaryName: z.string().min(1).optional(),
    /** kata/coco handlers: the Kata configuration file (sent to the shim as runtimeoptions ConfigPath). */
    configPath: absPath.optional(),
    /** Use the systemd cgroup driver inside the runc shim. */
    systemdCgroup: z.boolean().default(false),
    /** Pod annotations (exact names or prefixes ending in "*") passed through to the runtime. */
    podAnnotations: z.array(z.string()).default([]),
    containerAnnotations: z.array(z.string()).default([]),
    /** Privileged pods get no host devices (for VM runtimes). */
    privilegedWithoutHostDevices: z.boolean().default(false),
    /** Where images are pulled: on the host, or inside the guest. Default: guest for coco, host otherwise. */
    imagePull: z.enum(['host', 'guest']).optional(),
    /** coco handlers: the TEE the guest runs in ("none": no TEE, for development). Default: from configPath (…-tdx, …-snp), else none. */
    tee: z.enum(['none', 'tdx', 'snp']).optional(),
    /** coco handlers: the initdata berth builds for pods that bring none. */
    coco: cocoSchema.optional(),
  })
  .strict()
  .superRefine((h, ctx) => {
    if (h.type === 'runc' && h.imagePull === 'guest') ctx.addIssue({ code: 'custom', path: ['imagePull'], message: 'runc-type handlers cannot pull images in a guest' });
    if (h.type !== 'coco' && h.tee !== undefined) ctx.addIssue({ code: 'custom', path: ['tee'], message: 'only coco handlers run in a TEE' });
    if (h.type !== 'coco' && h.coco !== undefined) ctx.addIssue({ code: 'custom', path: ['coco'], message: 'only coco handlers take coco settings' });
    if (h.type !== 'runc' && h.binaryName !== undefined) ctx.addIssue({ code: 'custom', path: ['binaryName'], message: 'binaryName is for runc-type handlers; kata/coco handlers take configPath' });
  });

/** Where kata-deploy installs Kata Containers. */
const KATA_SHIM = '/opt/kata/bin/containerd-shim-kata-v2';
const KATA_CONFIGS = '/opt/kata/share/defaults/kata-containers';
/** What kata-deploy configures for its handlers in containerd. */
const kataCommon = {
  shim: KATA_SHIM,
  podAnnotations: ['io.katacontainers.*'],
  containerAnnotations: ['io.kubernetes.container.terminationMessage*'],
  privilegedWithoutHostDevices: true,
} as const;

/** Handlers every berth has; each is checked against the host, so installing Kata is enough to use it. */
export const DEFAULT_HANDLERS = {
  runc: { type: 'runc', shim: 'containerd-shim-runc-v2', binaryName: 'runc' },
  crun: { type: 'runc', shim: 'containerd-shim-runc-v2', binaryName: 'crun' },
  kata: { type: 'kata', ...kataCommon, configPath: `${KATA_CONFIGS}/configuration-qemu.toml` },
  'kata-qemu-tdx': { type: 'coco', ...kataCommon, tee: 'tdx', configPath: `${KATA_CONFIGS}/configuration-qemu-tdx.toml` },
  'kata-qemu-snp': { type: 'coco', ...kataCommon, tee: 'snp', configPath: `${KATA_CONFIGS}/configuration-qemu-snp.toml` },
  'kata-qemu-coco-dev': { type: 'coco', ...kataCommon, tee: 'none', configPath: `${KATA_CONFIGS}/configuration-qemu-coco-dev.toml` },
} as const;

const handlerName = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected a DNS label');

/** The default handlers with the configured ones laid over them by name (null removes a default). */
function withDefaultHandlers(user: Record<string, HandlerConfig | null> | undefined): Record<string, HandlerConfig> {
  const out: Record<string, HandlerConfig> = {};
  for (const [name, h] of Object.entries(DEFAULT_HANDLERS)) out[name] = handlerSchema.parse(h);
  for (const [name, h] of Object.entries(user ?? {})) {
    if (h === null) delete out[name];
    else out[name] = h;
  }
  return out;
}

/** Prometheus endpoint (src/sli). */
const metricsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** host:port of the /metrics HTTP server; port 0 picks a free one. */
    address: z.string().regex(/^[^\s]+:\d+$/, 'expected host:port').default('127.0.0.1:9464'),
    path: z.string().regex(/^\/[^\s]*$/, 'expected an absolute URL path').default('/metrics'),
    /** Also prom-client's Node.js runtime series (berth_runtime_*: event loop lag, GC, heap spaces); berth_process_* are always there. */
    processMetrics: z.boolean().default(false),
  })
  .strict()
  .prefault({});

const seconds = (def: number) => z.number().min(0.1).max(86_400).default(def);
const ratio = (def: number) => z.number().min(0).default(def);

/** SLI collectors and verdicts (src/sli). Intervals and the window in seconds. */
const sliSchema = z
  .object({
    /** Container and pod cgroups (the stats sampler, shared with CRI stats). */
    cgroupIntervalSeconds: seconds(1),
    /** Writable-layer disk usage walk. */
    diskIntervalSeconds: seconds(10),
    /** /proc: CPU, memory, PSI, load, vmstat. */
    nodeIntervalSeconds: seconds(1),
    /** systeminformation node facts (slow: spawns lscpu and friends). */
    nodeInfoIntervalSeconds: seconds(3600),
    /** Run-queue wait per container from /proc/<tid>/schedstat. */
    schedstatIntervalSeconds: seconds(5),
    /** Rates and verdicts look back this far. */
    windowSeconds: z.number().min(1).max(3600).default(30),
    /** A latency-sensitive pod is degraded when any of its cgroups goes above one of these over the window. */
    thresholds: z
      .object({
        cpuThrottledRatio: ratio(DEFAULT_THRESHOLDS.cpuThrottledRatio),
        cpuPressure: ratio(DEFAULT_THRESHOLDS.cpuPressure),
        memoryPressure: ratio(DEFAULT_THRESHOLDS.memoryPressure),
        ioPressure: ratio(DEFAULT_THRESHOLDS.ioPressure),
        schedWaitRatio: ratio(DEFAULT_THRESHOLDS.schedWaitRatio),
        oomKills: ratio(DEFAULT_THRESHOLDS.oomKills),
        memoryHighEvents: ratio(DEFAULT_THRESHOLDS.memoryHighEvents),
        memoryLimitRatio: ratio(DEFAULT_THRESHOLDS.memoryLimitRatio),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export const configSchema = z
  .object({
    listen: z.string().regex(/^(unix:\/\/)?\//, 'expected unix:///absolute/path.sock').default('unix:///run/berth/berth.sock'),
    root: absPath.default('/var/lib/berth'),
    state: absPath.default('/run/berth'),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    sandboxImage: z.string().min(1).default('registry.k8s.io/pause:3.9'),
    /** cgroup driver, as the kubelet's --cgroup-driver: cgroupfs or systemd. */
    cgroupDriver: z.enum(['cgroupfs', 'systemd']).default('cgroupfs'),
    runtimes: z
      .object({
        /** Handler used when RunPodSandbox names none. */
        default: z.string().min(1).default('runc'),
        /** Handlers by name, over DEFAULT_HANDLERS (same name: replaced; null: removed). */
        handlers: z.record(handlerName, handlerSchema.nullable()).optional().transform(withDefaultHandlers),
        /** Runtime-class policy: which handlers pods may or must use (src/runtimes/policy). */
        policy: runtimePolicySchema.prefault({}),
      })
      .strict()
      .prefault({})
      .refine((r) => r.default in r.handlers, { message: 'runtimes.default must name one of runtimes.handlers', path: ['default'] })
      .superRefine((r, ctx) => {
        for (const [path, message] of policyProblems(r.policy, Object.keys(r.handlers))) ctx.addIssue({ code: 'custom', path: ['policy', ...path], message });
      }),
    admin: z
      .object({
        /**
         * The admin API socket (QoS policy, SLI report, node info) used by the `berth` CLI.
         * Default: beside the CRI socket, "<name>-admin.sock" (/run/berth/berth-admin.sock).
         */
        listen: z.string().regex(/^(unix:\/\/)?\//, 'expected unix:///absolute/path.sock').optional(),
      })
      .strict()
      .prefault({}),
    cni: z
      .object({
        /** The first *.conflist / *.conf / *.json here (lexical order) is the pod network. */
        confDir: absPath.default('/etc/cni/net.d'),
        binDirs: z.array(absPath).min(1).default(['/usr/lib/cni', '/opt/cni/bin']),
        /** A plugin that has not answered by then is killed and the operation fails. */
        pluginTimeoutSeconds: z.number().positive().max(600).default(60),
      })
      .strict()
      .prefault({}),
    streaming: z
      .object({
        /** host:port of the exec/attach/port-forward server; port 0 picks a free one. */
        address: z.string().regex(/^[^\s]+:\d+$/, 'expected host:port').default('127.0.0.1:0'),
        /** Lifetime of a streaming URL's one-time token. */
        tokenTtlSeconds: z.number().positive().max(3600).default(60),
      })
      .strict()
      .prefault({}),
    metrics: metricsSchema,
    sli: sliSchema,
    /** Co-location QoS: enabled, policyFile (YAML/JSON, hot-reloaded), loopIntervalMs. */
    qos: qosConfigSchema.prefault({}),
    registry: z
      .object({
        mirrors: z.record(z.union([hostPort, z.literal('*')]), z.array(endpoint)).default({}),
        insecure: z.array(hostPort).default([]),
        auths: z.record(hostPort, authSchema).default({}),
        /** Per-request timeout for manifests and tokens, and idle timeout of blob downloads. */
        requestTimeoutSeconds: z.number().positive().max(3600).default(30),
        /** Layers downloaded in parallel per pull. */
        maxConcurrentDownloads: z.number().int().min(1).max(16).default(3),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

/** The admin socket path: configured, or "<cri socket name>-admin.sock" beside the CRI socket. */
export function adminSocketOf(c: Pick<Config, 'listen' | 'admin'>): string {
  if (c.admin.listen) return c.admin.listen.replace(/^unix:\/\//, '');
  const cri = c.listen.replace(/^unix:\/\//, '');
  return cri.replace(/(\.sock)?$/, '-admin.sock');
}
export type ConfigInput = z.input<typeof configSchema>;
export type HandlerConfig = z.infer<typeof handlerSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Format zod issues as "key.path: message" lines. */
export function formatIssues(err: z.ZodError, source: string): string {
  const lines = err.issues.map((i) => {
    const key = i.path.length ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') : '(top level)';
    const msg = i.code === 'unrecognized_keys' ? `unknown key(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}` : i.message;
    return `  ${key}: ${msg}`;
  });
  return `invalid configuration in ${source}:\n${lines.join('\n')}`;
}

export function parseConfig(input: unknown, source = 'config'): Config {
  const r = configSchema.safeParse(input ?? {});
  if (!r.success) throw new ConfigError(formatIssues(r.error, source));
  return r.data;
}

export interface ConfigFlags {
  config?: string;
  listen?: string;
  root?: string;
  state?: string;
  logLevel?: string;
}

export const DEFAULT_CONFIG_PATH = '/etc/berth/config.yaml';

/** Defaults ← YAML file (explicit path, or the default path if present) ← flags. */
export async function loadConfig(flags: ConfigFlags): Promise<{ config: Config; source: string }> {
  const path = flags.config ?? DEFAULT_CONFIG_PATH;
  let fromFile: Record<string, unknown> = {};
  let source = 'embedded defaults';
  try {
    const text = await readFile(path, 'utf8');
    const doc = parseYaml(text) as unknown;
    if (doc !== null && doc !== undefined && (typeof doc !== 'object' || Array.isArray(doc))) {
      throw new ConfigError(`invalid configuration in ${path}: the top level must be a mapping`);
    }
    fromFile = (doc ?? {}) as Record<string, unknown>;
    source = path;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if (!(isNotFoundErrno(err) && flags.config === undefined)) {
      throw new ConfigError(`cannot read configuration ${path}: ${messageOf(err)}`);
    }
  }
  const merged: Record<string, unknown> = { ...fromFile };
  if (flags.listen !== undefined) merged.listen = flags.listen;
  if (flags.root !== undefined) merged.root = flags.root;
  if (flags.state !== undefined) merged.state = flags.state;
  if (flags.logLevel !== undefined) merged.logLevel = flags.logLevel;
  return { config: parseConfig(merged, source === 'embedded defaults' ? 'flags' : `${source} (+flags)`), source };
}
