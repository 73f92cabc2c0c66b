/**
 * runtime.v1alpha2 RuntimeService and ImageService (kubelets 1.20-1.25), served on the same
 * socket as runtime.v1 by the very same handler maps: requests and answers are translated at
 * the protobuf level (bridge.ts); only what differs beyond field numbers is handled here.
 *
 * Differences from runtime.v1 and how they are handled:
 * - VersionResponse.runtime_api_version says "v1alpha2" (overridden below).
 * - v1-only RPCs (Stream*, Checkpoint*, RestorePod, GetContainerEvents, *Metric*, RuntimeConfig,
 *   UpdatePodSandboxResources, StreamImages) are not in the v1alpha2 services at all.
 * - v1-only fields are absent from v1alpha2 answers (dropped by the re-decode) and arrive as
 *   their defaults in requests, exactly as from a v1 client that does not set them.
 * - KeyValue.value is string in v1alpha2, bytes in v1: same encoding, so nothing to do.
 * - Deprecated fields old kubelets still send (seccomp_profile_path, apparmor_profile) are
 *   part of v1 too and honoured by the OCI spec code, as containerd 1.6 does.
 */
import type * as grpc from '@grpc/grpc-js';
import * as v1 from '../../gen/runtime/v1/api.js';
import * as v1alpha2 from '../../gen/runtime/v1alpha2/api.js';
import type { Logger } from '../../util/log.js';
import { implement, type ImageHandlers, type RuntimeHandlers } from '../server.js';
import { bridgeService, type GenMethod } from './bridge.js';

export const CRI_API_VERSION_V1ALPHA2 = 'v1alpha2';

export interface ExtraService {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

type GenService = Record<string, GenMethod>;

/** The v1alpha2 service definitions, bridged to v1 handler objects. */
export const RuntimeServiceV1alpha2 = bridgeService(
  v1alpha2.RuntimeServiceService as unknown as GenService,
  v1.RuntimeServiceService as unknown as GenService,
);
export const ImageServiceV1alpha2 = bridgeService(
  v1alpha2.ImageServiceService as unknown as GenService,
  v1.ImageServiceService as unknown as GenService,
);

/** The v1 runtime handlers with the answers that must differ on v1alpha2 adjusted. */
export function v1alpha2RuntimeHandlers(runtime: RuntimeHandlers): RuntimeHandlers {
  const version = runtime.version;
  if (!version) return runtime;
  return {
    ...runtime,
    async version(req, ctx) {
      const res = await version(req, ctx);
      return { ...res, runtimeApiVersion: CRI_API_VERSION_V1ALPHA2 };
    },
  };
}

/** Both v1alpha2 services, for `startCriServer({ extra })`. */
export function v1alpha2Services(runtime: RuntimeHandlers, image: ImageHandlers, log: Logger): ExtraService[] {
  const alog = log.child({ cri: 'v1alpha2' });
  return [
    {
      definition: RuntimeServiceV1alpha2,
      implementation: implement('RuntimeService', RuntimeServiceV1alpha2, v1alpha2RuntimeHandlers(runtime) as Record<string, unknown>, alog),
    },
    {
      definition: ImageServiceV1alpha2,
      implementation: implement('ImageService', ImageServiceV1alpha2, image as Record<string, unknown>, alog),
    },
  ];
}
