/**
 * The loopback network. Like containerd (go-cni's loopback network, run for interface `lo`
 * before the pod's own network), berth runs the `loopback` plugin on `lo` in every pod
 * namespace; it has its own cache entry and is torn down after the main network.
 */
import { pickVersion } from './versions.js';
import type { NetworkConfigList } from './types.js';

export const LOOPBACK_NETWORK = 'cni-loopback';
export const LOOPBACK_IFNAME = 'lo';
export const LOOPBACK_TYPE = 'loopback';

/** Newest first; 0.3.x only if the installed loopback plugin is older than 0.4. */
const LOOPBACK_VERSIONS = ['1.0.0', '0.4.0', '0.3.1', '0.3.0'];

export function loopbackVersion(pluginVersions: string[]): string | undefined {
  return pickVersion(LOOPBACK_VERSIONS, [pluginVersions]);
}

export function loopbackList(cniVersion: string): NetworkConfigList {
  return {
    name: LOOPBACK_NETWORK,
    cniVersion,
    disableCheck: false,
    plugins: [{ type: LOOPBACK_TYPE }],
    source: 'built-in loopback network',
  };
}
