/**
 * What a plugin is given (pure): its environment (CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS,
 * CNI_IFNAME, CNI_ARGS, CNI_PATH) and its stdin (the plugin's own config with the list's
 * name and cniVersion, the previous plugin's result, and runtimeConfig holding only the
 * capabilities the plugin declares).
 */
import { invalidArgument } from '../../util/errors.js';
import type { CapabilityArgs, CniCommand, NetworkConfigList, PluginConf, PodIdentity } from './types.js';

/** CNI_CONTAINERID per the spec: starts alphanumeric, then alphanumerics, "_", "." or "-". */
const CONTAINER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function checkContainerId(id: string): void {
  if (!CONTAINER_ID_RE.test(id)) throw invalidArgument(`pod id ${JSON.stringify(id)} is not a valid CNI container id`);
}

/** Linux interface names: 1–15 bytes, no "/", ":" or whitespace, not "." or "..". */
export function checkIfName(name: string): void {
  if (!name || name.length > 15 || /[/:\s]/.test(name) || name === '.' || name === '..') {
    throw invalidArgument(`interface name ${JSON.stringify(name)} is not a valid Linux interface name`);
  }
}

/** CNI_ARGS as kubelet-era runtimes send it: IgnoreUnknown=1 then the K8S_POD_* keys that are known. */
export function buildCniArgs(pod: PodIdentity): string {
  const pairs: [string, string | undefined][] = [
    ['IgnoreUnknown', '1'],
    ['K8S_POD_NAMESPACE', pod.podNamespace],
    ['K8S_POD_NAME', pod.podName],
    ['K8S_POD_INFRA_CONTAINER_ID', pod.podId],
    ['K8S_POD_UID', pod.podUid],
  ];
  const out: string[] = [];
  for (const [k, v] of pairs) {
    if (v === undefined || v === '') continue;
    if (/[;=]/.test(v)) throw invalidArgument(`${k} value ${JSON.stringify(v)} must not contain ";" or "="`);
    out.push(`${k}=${v}`);
  }
  return out.join(';');
}

export interface EnvInput {
  command: CniCommand;
  containerId: string;
  /** Empty when there is no namespace (VERSION, or DEL after the namespace is gone). */
  netns: string;
  ifName: string;
  cniArgs: string;
  binDirs: string[];
}

const SBIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/**
 * The plugin's environment: the daemon's own (minus any stray CNI_* variables) plus the CNI
 * variables. PATH gains the sbin dirs when they are missing: plugins run iptables and ip.
 */
export function buildEnv(base: NodeJS.ProcessEnv, e: EnvInput): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!k.startsWith('CNI_') && v !== undefined) env[k] = v;
  const path = (env.PATH ?? '').split(':').filter(Boolean);
  for (const d of SBIN_DIRS) if (!path.includes(d)) path.push(d);
  env.PATH = path.join(':');
  env.CNI_COMMAND = e.command;
  env.CNI_CONTAINERID = e.containerId;
  env.CNI_NETNS = e.netns;
  env.CNI_IFNAME = e.ifName;
  env.CNI_ARGS = e.cniArgs;
  env.CNI_PATH = e.binDirs.join(':');
  return env;
}

/** The capability arguments a plugin declares (capabilities: {name: true}) and the runtime has. */
export function runtimeConfigFor(plugin: PluginConf, caps: CapabilityArgs): Record<string, unknown> {
  const offered: Record<string, unknown> = { ...caps.extra };
  if (caps.portMappings && caps.portMappings.length > 0) offered.portMappings = caps.portMappings;
  if (caps.ipRanges && caps.ipRanges.length > 0) offered.ipRanges = caps.ipRanges;
  if (caps.bandwidth && Object.keys(caps.bandwidth).length > 0) offered.bandwidth = caps.bandwidth;
  if (caps.dns && Object.keys(caps.dns).length > 0) offered.dns = caps.dns;
  const out: Record<string, unknown> = {};
  for (const [name, wanted] of Object.entries(plugin.capabilities ?? {})) {
    if (wanted === true && offered[name] !== undefined) out[name] = offered[name];
  }
  return out;
}

/** The JSON a plugin reads on stdin for ADD/DEL/CHECK. */
export function buildPluginStdin(
  list: Pick<NetworkConfigList, 'name' | 'cniVersion'>,
  plugin: PluginConf,
  caps: CapabilityArgs,
  prevResult: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  delete conf.prevResult;
  if (prevResult !== undefined) conf.prevResult = prevResult;
  const rc = runtimeConfigFor(plugin, caps);
  if (Object.keys(rc).length > 0) conf.runtimeConfig = rc;
  return conf;
}
