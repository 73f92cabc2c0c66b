/** Pod networking through CNI plugins: the public surface for berth's sandbox code. */
export { CniManager, DEFAULT_BIN_DIRS, DEFAULT_CONF_DIR, type CniManagerOptions } from './manager.js';
export type { CniStatus, ConfigSummary, NotReadyReason } from './config-load.js';
export type {
  CheckRequest,
  PodNetwork,
  PortMappingInput,
  SetupRequest,
  TeardownRequest,
  TeardownResult,
} from './pod-request.js';
export { CniTeardownError } from './teardown.js';
export { CniPluginError } from './plugin-error.js';
export { defaultConflist, writeDefaultConfigIfEmpty, DEFAULT_CONFIG_FILE, type DefaultConfigOptions } from './default-config.js';
export { LOOPBACK_NETWORK } from './loopback.js';
export type * from './types.js';
