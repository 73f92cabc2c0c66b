import { NamespaceMode, type NamespaceOption } from '../../../gen/runtime/v1/api.js';
import { internal, invalidArgument, unimplemented } from '../../../util/errors.js';
import { ensureLinux, type SpecOpt } from '../spec-opt.js';
import type { LinuxNamespace, NamespaceType, Spec } from '../spec-types.js';

/** A fresh pid, ipc, uts, mount and network namespace: where every spec starts. */
export function defaultNamespaces(): LinuxNamespace[] {
  return (['pid', 'ipc', 'uts', 'mount', 'network'] as const).map((type) => ({ type }));
}

/** Set (or replace) one namespace entry; a path joins an existing namespace. */
export function setNamespace(spec: Spec, ns: LinuxNamespace): void {
  const linux = ensureLinux(spec);
  const list = (linux.namespaces ??= []);
  const at = list.findIndex((n) => n.type === ns.type);
  if (at >= 0) list[at] = ns;
  else list.push(ns);
}

/** Drop a namespace entry: the process stays in berthd's (the host's) namespace of that type. */
export function removeNamespace(spec: Spec, type: NamespaceType): void {
  const linux = ensureLinux(spec);
  linux.namespaces = (linux.namespaces ?? []).filter((n) => n.type !== type);
}

function refuseUserNamespaces(opts: NamespaceOption | undefined, what: string): void {
  const mode = opts?.usernsOptions?.mode;
  if (mode === undefined || mode === NamespaceMode.NODE) return;
  throw unimplemented(`${what}: user namespaces (userns mode ${NamespaceMode[mode] ?? mode}) are not supported by berth yet`);
}

/**
 * The pause process's namespaces: its own network namespace (the pod's netns bind mount)
 * unless hostNetwork, which also keeps the host's UTS; its own pid and ipc unless hostPID /
 * hostIPC; always its own mount namespace.
 */
export function withSandboxNamespaces(opts: NamespaceOption | undefined, netnsPath: string | undefined): SpecOpt {
  return (spec) => {
    refuseUserNamespaces(opts, 'pod sandbox');
    const linux = ensureLinux(spec);
    linux.namespaces = defaultNamespaces();
    if (opts?.network === NamespaceMode.NODE) {
      removeNamespace(spec, 'network');
      removeNamespace(spec, 'uts');
    } else {
      if (!netnsPath) throw internal('sandbox spec needs the path of the pod network namespace');
      setNamespace(spec, { type: 'network', path: netnsPath });
    }
    if (opts?.pid === NamespaceMode.NODE) removeNamespace(spec, 'pid');
    if (opts?.ipc === NamespaceMode.NODE) removeNamespace(spec, 'ipc');
  };
}

export function nsPath(pid: number, ns: 'net' | 'ipc' | 'uts' | 'pid'): string {
  return `/proc/${pid}/ns/${ns}`;
}

export interface ContainerNamespaceInput {
  opts: NamespaceOption | undefined;
  sandboxPid: number;
  targetPid?: number;
  /** A cgroup namespace hides the host's hierarchy (cgroup v2, non-privileged only). */
  cgroupNamespace: boolean;
}

/**
 * A container joins the sandbox's network, ipc and uts namespaces through /proc/<pid>/ns
 * (for hostNetwork / hostIPC pods those are the host's own). PID: CONTAINER gets its own,
 * POD (and NODE, where the sandbox is in the host's) joins the sandbox's, TARGET joins the
 * target container's.
 */
export function withContainerNamespaces(input: ContainerNamespaceInput): SpecOpt {
  return (spec) => {
    const { opts, sandboxPid } = input;
    refuseUserNamespaces(opts, 'container');
    if (!Number.isInteger(sandboxPid) || sandboxPid <= 0) throw internal(`container spec needs the sandbox pid, got ${sandboxPid}`);
    const linux = ensureLinux(spec);
    linux.namespaces = defaultNamespaces();
    setNamespace(spec, { type: 'network', path: nsPath(sandboxPid, 'net') });
    setNamespace(spec, { type: 'ipc', path: nsPath(sandboxPid, 'ipc') });
    setNamespace(spec, { type: 'uts', path: nsPath(sandboxPid, 'uts') });
    const pidMode = opts?.pid ?? NamespaceMode.POD;
    if (pidMode === NamespaceMode.TARGET) {
      if (!opts?.targetId) throw invalidArgument('pid namespace mode TARGET needs a target_id');
      if (!input.targetPid || input.targetPid <= 0) {
        throw internal(`container spec needs the pid of target container ${opts.targetId}`);
      }
      setNamespace(spec, { type: 'pid', path: nsPath(input.targetPid, 'pid') });
    } else if (pidMode !== NamespaceMode.CONTAINER) {
      setNamespace(spec, { type: 'pid', path: nsPath(sandboxPid, 'pid') });
    }
    if (input.cgroupNamespace) setNamespace(spec, { type: 'cgroup' });
  };
}
