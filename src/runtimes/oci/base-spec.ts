import { logger, type Logger } from '../../util/log.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from './defaults.js';
import { defaultHostProbes } from './host-probes.js';
import type { HostProbes } from './inputs.js';
import { withDefaultCapabilities } from './opts/capabilities.js';
import { withDenyAllDevices } from './opts/devices.js';
import { defaultNamespaces } from './opts/namespaces.js';
import { withMaskedPaths, withReadonlyPaths } from './opts/security.js';
import type { OptContext, SpecOpt } from './spec-opt.js';
import { OCI_SPEC_VERSION, type Spec } from './spec-types.js';

/** Injected I/O and logger for the builders; tests pass fakes. */
export interface BuildDeps {
  probes?: HostProbes;
  log?: Logger;
}

export function optContext(deps: BuildDeps | undefined, bindings: Record<string, unknown>): OptContext {
  return {
    probes: deps?.probes ?? defaultHostProbes,
    log: (deps?.log ?? logger('oci')).child(bindings),
  };
}

/** An empty spec: root user in /, fresh namespaces, nothing else yet. */
export function emptySpec(): Spec {
  return {
    ociVersion: OCI_SPEC_VERSION,
    process: { user: { uid: 0, gid: 0 }, cwd: '/' },
    linux: { namespaces: defaultNamespaces() },
  };
}

/**
 * The security baseline every sandbox and container starts from: the default capability
 * set, no_new_privileges, the default masked and read-only paths, all devices denied. No
 * rlimits, AppArmor or seccomp yet (those come from the CRI request).
 */
export const baselineOpts: readonly SpecOpt[] = [
  withDefaultCapabilities,
  (spec) => {
    spec.process!.noNewPrivileges = true;
  },
  withMaskedPaths(DEFAULT_MASKED_PATHS),
  withReadonlyPaths(DEFAULT_READONLY_PATHS),
  withDenyAllDevices,
];
