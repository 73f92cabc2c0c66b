/**
 * berthd configuration: embedded defaults, an optional YAML file, then flags. Validated with
 * zod; unknown keys are errors (a typo must not be silently ignored) and every error names
 * the offending key path.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isNotFoundErrno, messageOf } from '../util/errors.js';

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

const handlerSchema = z
  .object({
    /** Backend kind: plain containers, a Kata VM, or a confidential (TEE) Kata VM. */
    type: z.enum(['runc', 'kata', 'coco']).default('runc'),
    /** The containerd shim v2 binary (name looked up in PATH, or an absolute path). */
    shim: z.string().min(1).default('containerd-shim-runc-v2'),
    /** runc-type handlers: the OCI runtime binary the shim runs (runc, crun …). */
    binaryName: z.string().min(1).optional(),
    /** kata/coco handlers: the Kata configuration file. */
    configPath: absPath.optional(),
    /** Use the systemd cgroup driver inside the runc shim. */
    systemdCgroup: z.boolean().default(false),
    /** Pod annotations (exact names or prefixes ending in "*") passed through to the runtime. */
    podAnnotations: z.array(z.string()).default([]),
    containerAnnotations: z.array(z.string()).default([]),
    /** Privileged pods get no host devices (for VM runtimes). */
    privilegedWithoutHostDevices: z.boolean().default(false),
    /** Where images are pulled: on the host, or inside the guest (CoCo). */
    imagePull: z.enum(['host', 'guest']).default('host'),
  })
  .strict();

export const DEFAULT_HANDLERS = {
  runc: { type: 'runc', shim: 'containerd-shim-runc-v2', binaryName: 'runc' },
  crun: { type: 'runc', shim: 'containerd-shim-runc-v2', binaryName: 'crun' },
} as const;

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
        handlers: z.record(z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected a DNS label'), handlerSchema).prefault(DEFAULT_HANDLERS),
      })
      .strict()
      .prefault({})
      .refine((r) => r.default in r.handlers, { message: 'runtimes.default must name one of runtimes.handlers', path: ['default'] }),
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
