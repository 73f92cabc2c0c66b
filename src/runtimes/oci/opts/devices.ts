import type { Device } from '../../../gen/runtime/v1/api.js';
import { BerthError, errnoCode, invalidArgument, messageOf } from '../../../util/errors.js';
import { ensureLinux, ensureResources, type SpecOpt } from '../spec-opt.js';

/** Deny every device in the devices cgroup; the runtime adds its standard allowances. */
export const withDenyAllDevices: SpecOpt = (spec) => {
  ensureResources(spec).devices = [{ allow: false, access: 'rwm' }];
};

/** CRI device permissions: a non-empty subset of "rwm" (empty means all three). */
export function devicePermissions(p: string, what: string): string {
  if (p === '') return 'rwm';
  if (!/^[rwm]{1,3}$/.test(p) || new Set(p).size !== p.length) {
    throw invalidArgument(`${what}: permissions ${JSON.stringify(p)} must be made of r, w and m`);
  }
  return p;
}

/**
 * Expose the CRI config's devices: each host node (or every node under a host directory)
 * appears at the container path with its host major/minor, and the devices cgroup allows
 * it with the requested permissions.
 */
export function withCriDevices(devices: readonly Device[]): SpecOpt {
  return async (spec, ctx) => {
    for (const d of devices) {
      const what = `device ${JSON.stringify(d.hostPath)} -> ${JSON.stringify(d.containerPath)}`;
      if (!d.hostPath.startsWith('/')) throw invalidArgument(`${what}: host_path must be absolute`);
      if (d.containerPath && !d.containerPath.startsWith('/')) throw invalidArgument(`${what}: container_path must be absolute`);
      const access = devicePermissions(d.permissions, what);
      let nodes;
      try {
        nodes = await ctx.probes.lookupDevices(d.hostPath, d.containerPath);
      } catch (err) {
        if (err instanceof BerthError) throw err;
        const why = errnoCode(err) === 'ENOENT' ? 'no such file on the host' : messageOf(err);
        throw invalidArgument(`${what}: ${why}`, err);
      }
      const linux = ensureLinux(spec);
      const res = ensureResources(spec);
      for (const n of nodes) {
        (linux.devices ??= []).push(n);
        (res.devices ??= []).push({ allow: true, type: n.type, major: n.major, minor: n.minor, access });
      }
    }
  };
}
