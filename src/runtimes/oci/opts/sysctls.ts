import { invalidArgument } from '../../../util/errors.js';
import { ensureLinux, type SpecOpt } from '../spec-opt.js';

/**
 * "net/ipv4/ip_forward" → "net.ipv4.ip_forward". When "/" is the separator, "." may appear
 * inside a component (an interface name like "eth0.100") and becomes "/" — the kubelet's
 * convention, which the kernel's /proc/sys layout shares.
 */
export function normalizeSysctlName(name: string): string {
  const slash = name.indexOf('/');
  const dot = name.indexOf('.');
  if (slash < 0 || (dot >= 0 && dot < slash)) return name;
  return name.replace(/[./]/g, (c) => (c === '/' ? '.' : '/'));
}

/** The namespace a sysctl belongs to, or undefined when it is node-wide. */
export function sysctlNamespace(name: string): 'ipc' | 'net' | undefined {
  if (name === 'kernel.sem' || name.startsWith('kernel.shm') || name.startsWith('kernel.msg') || name.startsWith('fs.mqueue.')) {
    return 'ipc';
  }
  if (name.startsWith('net.')) return 'net';
  return undefined;
}

/**
 * Check a pod's sysctls: only namespaced ones (kernel.shm*, kernel.msg*, kernel.sem,
 * fs.mqueue.*, net.*), and not in a namespace the pod shares with the host. Returns them
 * with dotted names; anything else is INVALID_ARGUMENT naming the sysctl.
 */
export function validateSysctls(sysctls: Record<string, string>, ns: { hostNetwork: boolean; hostIpc: boolean }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [raw, value] of Object.entries(sysctls)) {
    const name = normalizeSysctlName(raw);
    const kind = sysctlNamespace(name);
    if (!kind) {
      throw invalidArgument(`sysctl ${JSON.stringify(raw)} is not namespaced: only kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.* and net.* may be set per pod`);
    }
    if (kind === 'net' && ns.hostNetwork) {
      throw invalidArgument(`sysctl ${JSON.stringify(raw)} cannot be set in a pod that uses the host network`);
    }
    if (kind === 'ipc' && ns.hostIpc) {
      throw invalidArgument(`sysctl ${JSON.stringify(raw)} cannot be set in a pod that uses the host IPC namespace`);
    }
    out[name] = value;
  }
  return out;
}

export function withSysctls(sysctls: Record<string, string>): SpecOpt {
  return (spec) => {
    if (Object.keys(sysctls).length === 0) return;
    const linux = ensureLinux(spec);
    linux.sysctl = { ...(linux.sysctl ?? {}), ...sysctls };
  };
}
