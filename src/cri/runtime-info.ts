/** RuntimeService.Version / Status / RuntimeConfig / UpdateRuntimeConfig. */
import {
  CgroupDriver,
  RuntimeConfigResponse,
  StatusResponse,
  UpdateRuntimeConfigResponse,
  VersionResponse,
} from '../gen/runtime/v1/api.js';
import type { RuntimeHandlers } from './server.js';
import { invalidArgument } from '../util/errors.js';

export const RUNTIME_NAME = 'berth';
export const CRI_API_VERSION = 'v1';

/** One readiness condition, as reported in StatusResponse. */
export interface Condition {
  type: 'RuntimeReady' | 'NetworkReady' | string;
  status: boolean;
  reason: string;
  message: string;
}

/** What the status RPC needs from the rest of the daemon. */
export interface StatusSource {
  runtimeVersion: string;
  conditions(): Promise<Condition[]>;
  /** Verbose info: each value is JSON-encoded into the info map, as containerd does. */
  verboseInfo(): Promise<Record<string, unknown>>;
  runtimeHandlers(): { name: string; recursiveReadOnlyMounts: boolean; userNamespaces: boolean }[];
  cgroupDriver(): 'systemd' | 'cgroupfs';
}

export function runtimeInfoHandlers(src: StatusSource): RuntimeHandlers {
  return {
    async version(req) {
      if (req.version && !/^v?\d/.test(req.version) && req.version !== 'v1') {
        throw invalidArgument(`unsupported CRI version ${JSON.stringify(req.version)}`);
      }
      return VersionResponse.fromPartial({
        version: '0.1.0',
        runtimeName: RUNTIME_NAME,
        runtimeVersion: src.runtimeVersion,
        runtimeApiVersion: CRI_API_VERSION,
      });
    },

    async status(req) {
      const conditions = await src.conditions();
      const info: Record<string, string> = {};
      if (req.verbose) {
        for (const [k, v] of Object.entries(await src.verboseInfo())) {
          info[k] = typeof v === 'string' ? v : JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
        }
      }
      return StatusResponse.fromPartial({
        status: { conditions },
        info,
        runtimeHandlers: src.runtimeHandlers().map((h) => ({
          name: h.name,
          features: { recursiveReadOnlyMounts: h.recursiveReadOnlyMounts, userNamespaces: h.userNamespaces },
        })),
        features: { supplementalGroupsPolicy: false, userNamespacesHostNetwork: false, mountOptions: false },
      });
    },

    async runtimeConfig() {
      return RuntimeConfigResponse.fromPartial({
        linux: { cgroupDriver: src.cgroupDriver() === 'systemd' ? CgroupDriver.SYSTEMD : CgroupDriver.CGROUPFS },
      });
    },

    async updateRuntimeConfig(req) {
      // The kubelet pushes the pod CIDR here; CNI plugins take it from their own config.
      void req;
      return UpdateRuntimeConfigResponse.fromPartial({});
    },
  };
}
