import { posix } from 'node:path';
import { MountPropagation, type Mount as CriMount } from '../../../gen/runtime/v1/api.js';
import { failedPrecondition, invalidArgument, unimplemented } from '../../../util/errors.js';
import { cgroupMount, defaultMounts, DEV_SHM, ETC_HOSTNAME, ETC_HOSTS, ETC_RESOLV_CONF } from '../defaults.js';
import type { PodFiles } from '../inputs.js';
import { ensureLinux, type OptContext, type SpecOpt } from '../spec-opt.js';
import type { Mount, Spec } from '../spec-types.js';

/** A bind mount asked for by the CRI config or by berth itself (pod files), validated. */
export interface BindRequest {
  containerPath: string;
  hostPath: string;
  readonly: boolean;
  recursiveReadOnly: boolean;
  propagation: MountPropagation;
}

/** Absolute, no "." / ".." / empty components, no trailing slash (except "/"). */
export function isCleanAbsolute(p: string): boolean {
  if (!p.startsWith('/')) return false;
  if (p === '/') return true;
  return !p.endsWith('/') && posix.normalize(p) === p;
}

/** Check one CRI mount and turn it into a bind request; INVALID_ARGUMENT names the mount. */
export function bindFromCri(m: CriMount): BindRequest {
  const what = `mount ${JSON.stringify(m.hostPath)} -> ${JSON.stringify(m.containerPath)}`;
  if (m.image && m.image.image) throw unimplemented(`${what}: image volumes are not supported by berth yet`);
  if (!isCleanAbsolute(m.containerPath)) {
    throw invalidArgument(`${what}: container_path must be an absolute, clean path (no "..", ".", "//" or trailing "/")`);
  }
  if (!m.hostPath || !m.hostPath.startsWith('/')) throw invalidArgument(`${what}: host_path must be an absolute path`);
  if (m.uidMappings.length > 0 || m.gidMappings.length > 0) {
    throw unimplemented(`${what}: id-mapped mounts are not supported by berth yet`);
  }
  if (m.recursiveReadOnly && !m.readonly) {
    throw invalidArgument(`${what}: recursive_read_only needs readonly (it conflicts with a read-write mount)`);
  }
  if (m.recursiveReadOnly && m.propagation !== MountPropagation.PROPAGATION_PRIVATE) {
    throw invalidArgument(`${what}: recursive_read_only needs private propagation`);
  }
  // selinux_relabel is accepted and ignored: berth does not run with SELinux labels.
  return {
    containerPath: m.containerPath,
    hostPath: m.hostPath,
    readonly: m.readonly,
    recursiveReadOnly: m.recursiveReadOnly,
    propagation: m.propagation,
  };
}

/**
 * The pod-owned files every container sees, skipping paths the CRI config mounts itself.
 * They follow the root filesystem's read-only flag; /dev/shm stays writable and is the
 * host's own with hostIPC.
 */
export function podFileBinds(files: PodFiles, opts: { readonly: boolean; hostIpc: boolean; taken: readonly string[] }): BindRequest[] {
  const taken = new Set(opts.taken.map((p) => posix.normalize(p)));
  const want: [string, string | undefined, boolean][] = [
    [ETC_HOSTNAME, files.hostname, opts.readonly],
    [ETC_HOSTS, files.hosts, opts.readonly],
    [ETC_RESOLV_CONF, files.resolvConf, opts.readonly],
    [DEV_SHM, opts.hostIpc ? DEV_SHM : files.shm, false],
  ];
  const out: BindRequest[] = [];
  for (const [containerPath, hostPath, readonly] of want) {
    if (!hostPath || taken.has(containerPath)) continue;
    out.push({ containerPath, hostPath, readonly, recursiveReadOnly: false, propagation: MountPropagation.PROPAGATION_PRIVATE });
  }
  return out;
}

function depth(p: string): number {
  return posix.normalize(p).split('/').length - 1;
}

/** Base mounts of a container: proc, dev, devpts, shm, mqueue, sysfs and (containers) cgroup. */
export function withDefaultMounts(opts: { cgroup: boolean }): SpecOpt {
  return (spec) => {
    spec.mounts = [...defaultMounts(), ...(opts.cgroup ? [cgroupMount()] : [])];
  };
}

export interface BindMountFacts {
  recursiveReadOnlyMounts: boolean;
}

async function propagationOptions(spec: Spec, b: BindRequest, source: string, ctx: OptContext): Promise<string> {
  const linux = ensureLinux(spec);
  switch (b.propagation) {
    case MountPropagation.PROPAGATION_PRIVATE:
      return 'rprivate';
    case MountPropagation.PROPAGATION_BIDIRECTIONAL: {
      const p = await ctx.probes.mountPropagation(source);
      if (p !== 'shared') {
        throw failedPrecondition(`mount ${source} -> ${b.containerPath}: bidirectional propagation needs ${source} on a shared mount, it is ${p}`);
      }
      linux.rootfsPropagation = 'rshared';
      return 'rshared';
    }
    case MountPropagation.PROPAGATION_HOST_TO_CONTAINER: {
      const p = await ctx.probes.mountPropagation(source);
      if (p === 'private') {
        throw failedPrecondition(
          `mount ${source} -> ${b.containerPath}: host-to-container propagation needs ${source} on a shared or slave mount, it is private`,
        );
      }
      if (linux.rootfsPropagation !== 'rshared') linux.rootfsPropagation = 'rslave';
      return 'rslave';
    }
    default:
      ctx.log.warn({ hostPath: b.hostPath, propagation: b.propagation }, 'unknown mount propagation, using private');
      return 'rprivate';
  }
}

function accessOption(b: BindRequest, facts: BindMountFacts): string {
  if (!b.readonly) return 'rw';
  if (!b.recursiveReadOnly) return 'ro';
  if (!facts.recursiveReadOnlyMounts) {
    throw invalidArgument(`mount ${b.hostPath} -> ${b.containerPath}: the runtime does not support recursive read-only mounts`);
  }
  return 'rro';
}

/**
 * Add the bind mounts: CRI mounts first claim their paths, then berth's own (pod files)
 * where no CRI mount took the path. Defaults at a claimed path are dropped (everything
 * under /dev when /dev itself is claimed). Binds are ordered by depth so a parent never
 * hides a child.
 */
export function withBindMounts(cri: readonly BindRequest[], extra: readonly BindRequest[], facts: BindMountFacts): SpecOpt {
  return async (spec, ctx) => {
    const criPaths = new Set(cri.map((b) => posix.normalize(b.containerPath)));
    const binds = [...cri, ...extra.filter((b) => !criPaths.has(posix.normalize(b.containerPath)))];
    binds.sort((a, b) => depth(a.containerPath) - depth(b.containerPath));
    const claimed = new Set(binds.map((b) => posix.normalize(b.containerPath)));
    const keep = (m: Mount): boolean => {
      const dst = posix.normalize(m.destination);
      return !claimed.has(dst) && !(claimed.has('/dev') && dst.startsWith('/dev/'));
    };
    const mounts = (spec.mounts ?? []).filter(keep);
    for (const b of binds) {
      const source = await ctx.probes.prepareMountSource(b.hostPath);
      const options = ['rbind', await propagationOptions(spec, b, source, ctx), accessOption(b, facts)];
      mounts.push({ destination: b.containerPath, type: 'bind', source, options });
    }
    spec.mounts = mounts;
  };
}

/**
 * The pause container's mounts: the pod's /dev/shm (the host's with hostIPC) and the pod
 * files, bound read-only with nosuid/nodev/noexec in place of the default /dev/shm tmpfs.
 */
export function withSandboxMounts(files: PodFiles, hostIpc: boolean): SpecOpt {
  return (spec) => {
    const opts = ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'];
    const mounts = (spec.mounts ?? []).filter((m) => posix.normalize(m.destination) !== DEV_SHM);
    const binds: [string, string | undefined][] = [
      [DEV_SHM, hostIpc ? DEV_SHM : files.shm],
      [ETC_RESOLV_CONF, files.resolvConf],
      [ETC_HOSTS, files.hosts],
      [ETC_HOSTNAME, files.hostname],
    ];
    for (const [destination, source] of binds) {
      if (source) mounts.push({ destination, type: 'bind', source, options: [...opts] });
    }
    spec.mounts = mounts;
  };
}
