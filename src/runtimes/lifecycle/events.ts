/**
 * What the lifecycle tells other modules (QoS, SLI) without them reaching into it: typed
 * events after each transition, and spec hooks that may adjust a spec before it is written.
 */
import { EventEmitter } from 'node:events';
import type { ContainerConfig, PodSandboxConfig } from '../../gen/runtime/v1/api.js';
import type { Spec } from '../oci/spec-types.js';
import type { ContainerRecord, SandboxRecord } from './types.js';

export interface LifecycleEvents {
  /** RunPodSandbox finished; `receivedAtNs` is when the request arrived. */
  'pod-ready': [{ pod: SandboxRecord; receivedAtNs: bigint }];
  'pod-stopped': [{ pod: SandboxRecord }];
  'pod-removed': [{ pod: SandboxRecord }];
  'container-created': [{ container: ContainerRecord; pod: SandboxRecord }];
  'container-started': [{ container: ContainerRecord; pod: SandboxRecord }];
  'container-exited': [{ container: ContainerRecord }];
  'container-removed': [{ container: ContainerRecord }];
}

export class LifecycleEmitter extends EventEmitter<LifecycleEvents> {
  /** Emit without letting a listener's exception escape into the lifecycle. */
  safeEmit<K extends keyof LifecycleEvents>(event: K, ...args: LifecycleEvents[K]): void {
    for (const l of this.listeners(event) as ((...a: LifecycleEvents[K]) => void)[]) {
      try {
        l(...args);
      } catch {
        /* observers must not break the lifecycle */
      }
    }
  }
}

export interface SpecHookContext {
  kind: 'sandbox' | 'container';
  podId: string;
  containerId: string;
  handler: string;
  pod: PodSandboxConfig;
  container?: ContainerConfig;
}

/** Adjust a spec (e.g. QoS: cpu shares, oom_score_adj, cpuset) before config.json is written. */
export type SpecHook = (spec: Spec, ctx: SpecHookContext) => void | Promise<void>;
