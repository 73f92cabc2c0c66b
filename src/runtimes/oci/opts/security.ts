import { SecurityProfile_ProfileType as ProfileType, type SecurityProfile } from '../../../gen/runtime/v1/api.js';
import { failedPrecondition, invalidArgument } from '../../../util/errors.js';
import { ensureLinux, ensureProcess, ensureResources, type SpecOpt } from '../spec-opt.js';
import { withCapabilitySet } from './capabilities.js';

/** Name of berth's AppArmor profile for RuntimeDefault; the host must have it loaded. */
export const DEFAULT_APPARMOR_PROFILE = 'berth-default';

export function withNoNewPrivileges(on: boolean): SpecOpt {
  return (spec) => {
    const proc = ensureProcess(spec);
    if (on) proc.noNewPrivileges = true;
    else delete proc.noNewPrivileges;
  };
}

/** Masked paths (empty list = none). */
export function withMaskedPaths(paths: readonly string[]): SpecOpt {
  return (spec) => {
    const linux = ensureLinux(spec);
    if (paths.length > 0) linux.maskedPaths = [...paths];
    else delete linux.maskedPaths;
  };
}

/** Read-only paths (empty list = none). */
export function withReadonlyPaths(paths: readonly string[]): SpecOpt {
  return (spec) => {
    const linux = ensureLinux(spec);
    if (paths.length > 0) linux.readonlyPaths = [...paths];
    else delete linux.readonlyPaths;
  };
}

/** Turn the "ro" option of every mount of `type` into "rw". */
export function withWritableMounts(type: 'sysfs' | 'cgroup'): SpecOpt {
  return (spec) => {
    for (const m of spec.mounts ?? []) {
      if (m.type === type && m.options) m.options = m.options.map((o) => (o === 'ro' ? 'rw' : o));
    }
  };
}

/**
 * Privileged: every capability berthd holds, nothing masked or read-only, writable sysfs
 * and cgroupfs, no AppArmor or seccomp confinement.
 */
export function withPrivileged(hostCaps: readonly string[]): SpecOpt {
  const caps = withCapabilitySet(hostCaps);
  const sysfs = withWritableMounts('sysfs');
  const cgroup = withWritableMounts('cgroup');
  return (spec, ctx) => {
    caps(spec, ctx);
    const linux = ensureLinux(spec);
    delete linux.maskedPaths;
    delete linux.readonlyPaths;
    delete linux.seccomp;
    delete ensureProcess(spec).apparmorProfile;
    void sysfs(spec, ctx);
    void cgroup(spec, ctx);
  };
}

/** Every host device node, and access to all devices in the devices cgroup. */
export const withHostDevices: SpecOpt = async (spec, ctx) => {
  const devices = await ctx.probes.hostDevices();
  const linux = ensureLinux(spec);
  linux.devices = [...(linux.devices ?? []), ...devices];
  ensureResources(spec).devices = [{ allow: true, access: 'rwm' }];
};

/**
 * A SecurityProfile from the deprecated string fields ("runtime/default",
 * "docker/default", "unconfined", "localhost/<ref>"); undefined for "".
 */
export function profileFromString(s: string, field: string): SecurityProfile | undefined {
  switch (s) {
    case '':
      return undefined;
    case 'runtime/default':
    case 'docker/default':
      return { profileType: ProfileType.RuntimeDefault, localhostRef: '' };
    case 'unconfined':
      return { profileType: ProfileType.Unconfined, localhostRef: '' };
    default:
      if (!s.startsWith('localhost/')) {
        throw invalidArgument(`${field} ${JSON.stringify(s)} is not runtime/default, docker/default, unconfined or localhost/<profile>`);
      }
      return { profileType: ProfileType.Localhost, localhostRef: s.slice('localhost/'.length) };
  }
}

/**
 * The AppArmor profile of a container. Without AppArmor on the host nothing is written; a
 * Localhost profile is then refused (it cannot be honoured) while RuntimeDefault is simply
 * moot. With AppArmor, no profile means RuntimeDefault (kubernetes#51746), which privileged
 * containers skip.
 */
export function apparmorProfileName(
  profile: SecurityProfile | undefined,
  privileged: boolean,
  enabled: boolean,
  /** What RuntimeDefault maps to: berth's loaded profile, or undefined (no profile) when it is not loaded. */
  defaultProfile: string | undefined,
): string | undefined {
  if (profile && profile.profileType !== ProfileType.Localhost && profile.localhostRef) {
    throw invalidArgument('apparmor: localhost_ref may only be set for a Localhost profile');
  }
  if (!enabled) {
    if (profile?.profileType === ProfileType.Localhost) {
      throw failedPrecondition(`apparmor profile ${JSON.stringify(profile.localhostRef)} requested but AppArmor is not enabled on this node`);
    }
    return undefined;
  }
  const p = profile ?? { profileType: ProfileType.RuntimeDefault, localhostRef: '' };
  switch (p.profileType) {
    case ProfileType.Unconfined:
      return undefined;
    case ProfileType.RuntimeDefault:
      return privileged ? undefined : defaultProfile;
    case ProfileType.Localhost: {
      const name = p.localhostRef.replace(/^localhost\//, '');
      if (!name) throw invalidArgument('apparmor: a Localhost profile needs a localhost_ref');
      return name;
    }
    default:
      throw invalidArgument(`apparmor: unknown profile type ${String(p.profileType)}`);
  }
}

export function withApparmor(name: string | undefined): SpecOpt {
  return (spec) => {
    const proc = ensureProcess(spec);
    if (name) proc.apparmorProfile = name;
    else delete proc.apparmorProfile;
  };
}
