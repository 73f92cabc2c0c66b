/**
 * CRI configs → OCI runtime spec (config.json), shared by every backend. Built from small
 * spec options (opts/*.ts) composed by buildSandboxSpec / buildContainerSpec.
 */
export { buildSandboxSpec, sandboxSpecOpts } from './sandbox-spec.js';
export { buildContainerSpec, containerSpecOpts } from './container-spec.js';
export type { BuildDeps } from './base-spec.js';
export type {
  CgroupDriver,
  ContainerSpecInput,
  HostFacts,
  HostProbes,
  ImageConfig,
  PodFiles,
  RuntimeOptions,
  SandboxSpecInput,
} from './inputs.js';
export type { OptContext, SpecOpt } from './spec-opt.js';
export { applyOpts } from './spec-opt.js';
export type * from './spec-types.js';
export { OCI_SPEC_VERSION } from './spec-types.js';
export { defaultHostProbes } from './host-probes.js';
export { detectHostFacts, type CgroupFacts } from './host-facts.js';
export { cgroupsPathFor, clampOomScoreAdj, SYSTEMD_SCOPE_PREFIX } from './opts/resources.js';
export { ANNOTATION } from './opts/annotations.js';
export { defaultSeccompProfile } from './seccomp/default-profile.js';
export { containerArgs, mergeEnv } from './opts/process.js';
export { validateSysctls } from './opts/sysctls.js';
